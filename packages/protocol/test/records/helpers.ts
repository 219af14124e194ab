import assert from 'node:assert/strict';
import { ProtocolError, type ProtocolErrorReason } from '../../src/protocol-error.js';

/** Asserts that `fn` throws a ProtocolError, optionally with the given reason. */
export function assertProtocolError(fn: () => unknown, reason?: ProtocolErrorReason): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    if (reason) assert.equal(e.reason, reason, e.message);
    return true;
  });
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function seededRandom(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
