import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol-error.js';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../src/records/varint.js';

function encodeInt(value: number): Buffer {
  const out = Buffer.alloc(10);
  const end = writeVarint(out, 0, value);
  assert.equal(end, sizeOfVarint(value));
  return out.subarray(0, end);
}

function encodeLong(value: bigint | number): Buffer {
  const out = Buffer.alloc(10);
  const end = writeVarlong(out, 0, value);
  assert.equal(end, sizeOfVarlong(value));
  return out.subarray(0, end);
}

describe('zig-zag varint', () => {
  it('matches the protobuf sint32 encoding for known values', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [300, 'd804'],
      [2147483647, 'feffffff0f'],
      [-2147483648, 'ffffffff0f'],
    ];
    for (const [value, hex] of cases) {
      assert.equal(encodeInt(value).toString('hex'), hex, `encode ${value}`);
      const cursor = { pos: 0 };
      assert.equal(readVarint(Buffer.from(hex, 'hex'), cursor), value, `decode ${hex}`);
      assert.equal(cursor.pos, hex.length / 2);
    }
  });

  it('round trips every power-of-two boundary', () => {
    for (let bit = 0; bit < 31; bit++) {
      for (const v of [2 ** bit - 1, 2 ** bit, -(2 ** bit), -(2 ** bit) - 1]) {
        if (v > 2147483647 || v < -2147483648) continue;
        assert.equal(readVarint(encodeInt(v), { pos: 0 }), v);
      }
    }
  });

  it('rejects a truncated or over-long varint with ProtocolError', () => {
    assert.throws(() => readVarint(Buffer.from('80', 'hex'), { pos: 0 }), (e: unknown) => e instanceof ProtocolError && e.reason === 'truncated');
    assert.throws(() => readVarint(Buffer.from('ffffffff1f', 'hex'), { pos: 0 }), (e: unknown) => e instanceof ProtocolError && e.reason === 'invalid');
    assert.throws(() => readVarint(Buffer.from('ffffffffff01', 'hex'), { pos: 0 }), ProtocolError);
    // The end bound is honoured even when the buffer continues.
    assert.throws(() => readVarint(Buffer.from('8001', 'hex'), { pos: 0 }, 1), ProtocolError);
  });
});

describe('zig-zag varlong', () => {
  it('matches the protobuf sint64 encoding for known values', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '00'],
      [-1n, '01'],
      [1n, '02'],
      [1700000000000n, '80a0abfef962'],
      [9223372036854775807n, 'feffffffffffffffff01'],
      [-9223372036854775808n, 'ffffffffffffffffff01'],
    ];
    for (const [value, hex] of cases) {
      assert.equal(encodeLong(value).toString('hex'), hex, `encode ${value}`);
      const decoded = readVarlong(Buffer.from(hex, 'hex'), { pos: 0 });
      assert.equal(BigInt(decoded), value, `decode ${hex}`);
    }
  });

  it('round trips boundaries around 2^31, 2^49, 2^53 and 2^63 as numbers and bigints', () => {
    for (let bit = 0; bit < 64; bit++) {
      const p = 2n ** BigInt(bit);
      for (const v of [p - 1n, p, -p, -p - 1n]) {
        if (v > 9223372036854775807n || v < -9223372036854775808n) continue;
        const decoded = readVarlong(encodeLong(v), { pos: 0 });
        assert.equal(BigInt(decoded), v, `value ${v}`);
        if (typeof decoded === 'bigint') assert.ok(!Number.isSafeInteger(Number(decoded)), 'small values come back as numbers');
        const n = Number(v);
        if (Number.isSafeInteger(n)) assert.deepEqual(encodeLong(n), encodeLong(v), `number and bigint encode alike: ${v}`);
      }
    }
  });

  it('rejects a truncated or over-long varlong with ProtocolError', () => {
    assert.throws(() => readVarlong(Buffer.from('ffffffffffffffff', 'hex'), { pos: 0 }), (e: unknown) => e instanceof ProtocolError && e.reason === 'truncated');
    assert.throws(() => readVarlong(Buffer.from('ffffffffffffffffff03', 'hex'), { pos: 0 }), (e: unknown) => e instanceof ProtocolError && e.reason === 'invalid');
  });
});
