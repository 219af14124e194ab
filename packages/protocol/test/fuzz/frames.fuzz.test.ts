// Fuzz: random and mutated frames for every API and version must decode to a value or fail with a
// ProtocolError — never another exception, never a hang, and never more decoded data than the
// frame's bytes can justify (a length claiming 2 GB must not allocate 2 GB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol-error.js';
import { allDeclarations } from '../../src/messages/declarations/all.js';
import { buildModel, type MessageModel } from '../../src/messages/codegen/model.js';
import {
  apiInfo,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  decodeConsumerProtocolSubscription,
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  type RequestBodies,
  type ResponseBodies,
  type RequestHeader,
} from '../../src/messages/index.js';
import { makeRng, ValueGenerator, type Rng } from '../messages/random-values.js';

const TOTAL_CASES = 120_000;
const MAX_CASE_MS = 250;

interface Target {
  name: string;
  seeds: Buffer[];
  decode(frame: Buffer): unknown;
}

/** Sums of what a decoded value holds; each must be bounded by the frame length. */
interface Tally {
  arrayElements: number;
  stringChars: number;
  bytes: number;
}

function tally(v: unknown, t: Tally, depth = 0): void {
  if (depth > 64) throw new Error('decoded value nested deeper than any declaration');
  if (typeof v === 'string') t.stringChars += v.length;
  else if (Buffer.isBuffer(v)) t.bytes += v.length;
  else if (Array.isArray(v)) {
    t.arrayElements += v.length;
    for (const e of v) tally(e, t, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const k in v) tally((v as Record<string, unknown>)[k], t, depth + 1);
  }
}

function mutate(rng: Rng, seed: Buffer): Buffer {
  const int = (n: number) => Math.floor(rng() * n);
  const f = Buffer.from(seed);
  const at = () => int(Math.max(1, f.length));
  switch (int(8)) {
    case 0: {
      for (let i = 0, n = 1 + int(4); i < n && f.length > 0; i++) f[at()] ^= 1 << int(8);
      return f;
    }
    case 1:
      return f.subarray(0, int(f.length));
    case 2: {
      const o = at();
      const v = [0x7fffffff, 0x80000000, 0xffffffff, 0x0fffffff, 0x00ffffff][int(5)];
      if (o + 4 <= f.length) f.writeUInt32BE(v, o);
      return f;
    }
    case 3: {
      const o = at();
      if (o + 2 <= f.length) f.writeUInt16BE([0x7fff, 0xffff, 0x8000, 0xfffe][int(4)], o);
      return f;
    }
    case 4: {
      const o = at();
      const varint = rng() < 0.5 ? [0xff, 0xff, 0xff, 0xff, 0x0f] : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
      for (let i = 0; i < varint.length && o + i < f.length; i++) f[o + i] = varint[i];
      return f;
    }
    case 5: {
      for (let i = 0, o = at(), n = 1 + int(8); i < n && o + i < f.length; i++) f[o + i] = int(256);
      return f;
    }
    case 6: {
      const o = at();
      const extra = Buffer.from(Array.from({ length: 1 + int(6) }, () => int(256)));
      return Buffer.concat([f.subarray(0, o), extra, f.subarray(o)]);
    }
    default: {
      // Keep the first 8 bytes (a request header's key/version/correlation id), randomize the rest.
      const n = int(96);
      const r = Buffer.alloc(Math.min(8, f.length) + n);
      f.copy(r, 0, 0, Math.min(8, f.length));
      for (let i = Math.min(8, f.length); i < r.length; i++) r[i] = int(256);
      return r;
    }
  }
}

function buildTargets(): Target[] {
  const gen = new ValueGenerator(makeRng(7));
  const model = (kind: string, key: number): MessageModel => buildModel(allDeclarations.find((d) => d.apiKey === key && d.kind === kind) as never);
  const targets: Target[] = [];
  for (const [key, info] of apiInfo) {
    const req = model('request', key);
    const res = model('response', key);
    for (let v = info.minVersion; v <= info.maxVersion; v++) {
      const header: RequestHeader = { apiKey: key, apiVersion: v, correlationId: 1, clientId: 'fuzz' };
      const reqSeeds = [0, 1, 2].map(() => encodeRequest(header as RequestHeader & { apiKey: keyof RequestBodies }, gen.message(req, v) as never).subarray(4));
      targets.push({ name: `${info.name} v${v} request`, seeds: reqSeeds, decode: (f) => decodeRequest(f) });
      const k = key as keyof ResponseBodies;
      const resSeeds = [0, 1, 2].map(() => encodeResponse(k, v, 1, gen.message(res, v) as never).subarray(4));
      targets.push({ name: `${info.name} v${v} response`, seeds: resSeeds, decode: (f) => decodeResponse(k, v, f) });
    }
  }
  for (const name of ['ConsumerProtocolSubscription', 'ConsumerProtocolAssignment']) {
    const m = buildModel(allDeclarations.find((d) => d.name === name) as never);
    const decode = name.endsWith('Subscription') ? decodeConsumerProtocolSubscription : decodeConsumerProtocolAssignment;
    const encode = name.endsWith('Subscription') ? encodeConsumerProtocolSubscription : encodeConsumerProtocolAssignment;
    for (let v = m.valid.min; v <= m.valid.max; v++) {
      const seeds = [0, 1].map(() => encode(gen.message(m, v) as never, v));
      targets.push({ name: `${name} v${v}`, seeds, decode });
    }
  }
  return targets;
}

test(`fuzz: ${TOTAL_CASES} random and mutated frames decode or fail with ProtocolError only`, (t) => {
  const targets = buildTargets();
  const rng = makeRng(0xf022);
  const failures: string[] = [];
  let ok = 0;
  let rejected = 0;
  let slowest = 0;
  let slowestCase: { decode: (frame: Buffer) => unknown; frame: Buffer } | null = null;
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < TOTAL_CASES; i++) {
    const target = targets[i % targets.length];
    const seed = target.seeds[Math.floor(rng() * target.seeds.length)];
    const frame = rng() < 0.05 ? seed : mutate(rng, seed);
    const started = performance.now();
    try {
      const value = target.decode(frame);
      const t: Tally = { arrayElements: 0, stringChars: 0, bytes: 0 };
      tally(value, t);
      // Every array element consumes at least one byte, and strings/bytes come from disjoint frame
      // ranges, except defaults for fields a version lacks (e.g. a 22-char zero UUID per element),
      // which are shared constants: hence the per-element allowance for strings.
      if (t.arrayElements > frame.length || t.bytes > frame.length || t.stringChars > frame.length + 24 * t.arrayElements + 64) {
        failures.push(`${target.name}: decoded ${JSON.stringify(t)} from ${frame.length} bytes`);
      }
      ok++;
    } catch (e) {
      if (e instanceof ProtocolError) rejected++;
      else failures.push(`${target.name}: ${(e as Error)?.stack ?? String(e)}\n  frame ${frame.toString('hex')}`);
    }
    const took = performance.now() - started;
    if (took > slowest) {
      slowest = took;
      slowestCase = { decode: target.decode, frame };
    }
    if (failures.length >= 5) break;
  }
  t.diagnostic(`${targets.length} targets; decoded ${ok}, rejected ${rejected}; slowest case ${slowest.toFixed(2)} ms`);
  assert.deepEqual(failures, []);
  assert.equal(ok + rejected, TOTAL_CASES);
  assert.ok(ok > 1000 && rejected > 1000, `both outcomes exercised (ok ${ok}, rejected ${rejected})`);
  // A GC pause or a descheduled process can land inside any case: time the slowest one again on
  // its own, and fail only if it is slow every time.
  const retimed = Math.min(
    ...[0, 1, 2].map(() => {
      const started = performance.now();
      try {
        slowestCase?.decode(slowestCase.frame);
      } catch {
        // rejected frames are timed too
      }
      return performance.now() - started;
    }),
  );
  assert.ok(retimed < MAX_CASE_MS, `slowest case took ${slowest.toFixed(1)} ms, and ${retimed.toFixed(1)} ms when re-timed`);
  const grown = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
  assert.ok(grown < 256 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
});

test('length and count fields claiming ~2 GB fail fast as invalid, without allocating', () => {
  const produce = encodeRequest(
    { apiKey: 0, apiVersion: 3, correlationId: 1, clientId: null },
    { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(10) }] }] },
  ).subarray(4);
  // The records length is the int32 just before the 10 record bytes at the end.
  const hugeRecords = Buffer.from(produce);
  hugeRecords.writeInt32BE(0x7fffffff, hugeRecords.length - 14);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => decodeRequest(hugeRecords), (e) => e instanceof ProtocolError && e.reason === 'invalid');
  // topicData count (after header 10 bytes + transactionalId 2 + acks 2 + timeout 4).
  const hugeCount = Buffer.from(produce);
  hugeCount.writeInt32BE(0x7fffffff, 18);
  assert.throws(() => decodeRequest(hugeCount), (e) => e instanceof ProtocolError && e.reason === 'invalid');
  const negative = Buffer.from(produce);
  negative.writeInt32BE(-2, 18);
  assert.throws(() => decodeRequest(negative), (e) => e instanceof ProtocolError && e.reason === 'invalid');
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
});
