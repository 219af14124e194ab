// Message-layer benchmark. Every figure is printed beside a reference measured in the same run:
// big frames against Buffer.copy of the same bytes, small messages against JSON and against an
// interpreter that walks the declarations at run time (the alternative to code generation).
import assert from 'node:assert/strict';
import { inRange } from '../src/messages/declarations/types.js';
import { allDeclarations } from '../src/messages/declarations/all.js';
import { buildModel, type FieldModel, type StructModel } from '../src/messages/codegen/model.js';
import { Reader } from '../src/primitives/index.js';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
  type FetchResponse,
  type MetadataResponse,
  type ProduceRequest,
} from '../src/messages/index.js';

/** A compact declaration interpreter (decode only), used to justify code generation. */
class Interpreter {
  constructor(private readonly flexible: { min: number; max: number }) {}

  private scalar(r: Reader, f: FieldModel, t: string, v: number, nullable: boolean, compact: boolean): unknown {
    switch (t) {
      case 'bool': return r.bool();
      case 'int8': return r.int8();
      case 'int16': return r.int16();
      case 'uint16': return r.uint16();
      case 'int32': return r.int32();
      case 'uint32': return r.uint32();
      case 'int64': return r.int64();
      case 'float64': return r.float64();
      case 'uuid': return r.uuid();
      case 'string': return compact ? (nullable ? r.compactNullableString() : r.compactString()) : nullable ? r.nullableString() : r.string();
      default: return compact ? (nullable ? r.compactNullableBytes() : r.compactBytes()) : nullable ? r.nullableBytes() : r.bytes();
    }
  }

  private field(r: Reader, f: FieldModel, v: number): unknown {
    const nullable = inRange(f.nullable, v);
    const compact = f.compactInFlexible && inRange(this.flexible, v);
    if (f.isArray) {
      const n = compact ? (nullable ? r.compactNullableArrayLength() : r.compactArrayLength()) : nullable ? r.nullableArrayLength() : r.arrayLength();
      if (n < 0) return null;
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(typeof f.elem === 'string' ? this.scalar(r, f, f.elem, v, false, compact) : this.struct(r, f.elem, v));
      return out;
    }
    if (typeof f.elem !== 'string') return nullable && r.int8() < 0 ? null : this.struct(r, f.elem, v);
    return this.scalar(r, f, f.elem, v, nullable, compact);
  }

  struct(r: Reader, s: StructModel, v: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const f of s.fields) {
      if (inRange(f.versions, v) && !(f.tag !== undefined && inRange(f.tagged, v))) o[f.name] = this.field(r, f, v);
      else o[f.name] = f.defaultValue === 'empty' ? [] : f.defaultValue;
    }
    if (inRange(this.flexible, v)) {
      for (let i = 0, n = r.uvarint(); i < n; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        const f = s.fields.find((x) => x.tag === tag && inRange(x.tagged, v));
        if (f) o[f.name] = this.field(r, f, v);
        else ((o.unknownTaggedFields ??= []) as unknown[]).push({ tag, data: r.raw(size) });
      }
    }
    return o;
  }
}

const MiB = 1024 * 1024;

/** Median time per call in ns over several rounds of at least `minMs` each. */
function measure(fn: () => unknown, minMs = 250, rounds = 5): number {
  for (let i = 0; i < 20; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < minMs * 1e6) {
      for (let i = 0; i < 16; i++) fn();
      n += 16;
      elapsed = Number(process.hrtime.bigint() - start);
    }
    samples.push(elapsed / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const gbps = (bytes: number, ns: number): string => `${(bytes / ns).toFixed(2)} GB/s`;
const line = (label: string, value: string, ref: string, ratio: number): void =>
  console.log(`${label.padEnd(52)} ${value.padStart(16)}   ${ref.padEnd(40)} ratio ${ratio.toFixed(2)}`);

function records(total: number, recordSize: number): Buffer {
  // The codec never looks inside records; fill with a repeating 1 KiB pattern.
  const b = Buffer.allocUnsafe(total);
  for (let i = 0; i < total; i += recordSize) b.fill(i / recordSize, i, Math.min(total, i + recordSize));
  return b;
}

// ---- 1 MiB frames ----
const payload = records(MiB, 1024);
const copyTarget = Buffer.allocUnsafe(MiB);
const copyNs = measure(() => payload.copy(copyTarget));
const allocCopyNs = measure(() => payload.copy(Buffer.allocUnsafe(MiB)));


function bigFrame(label: string, partitions: number, encodeDecode: (records: Buffer[]) => unknown): void {
  const parts = Array.from({ length: partitions }, (_, i) => payload.subarray((i * MiB) / partitions, ((i + 1) * MiB) / partitions));
  const ns = measure(() => encodeDecode(parts));
  const name = `${label} (${partitions} partition${partitions > 1 ? 's' : ''})`;
  line(name, gbps(MiB, ns), `vs Buffer.copy ${gbps(MiB, copyNs)}`, copyNs / ns);
  line('', '', `vs allocUnsafe+copy ${gbps(MiB, allocCopyNs)}`, allocCopyNs / ns);
}

const produceBody = (parts: Buffer[]): ProduceRequest => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 30000,
  topicData: [{ name: 'bench-topic', partitionData: parts.map((records, index) => ({ index, records })) }],
});
const fetchBody = (parts: Buffer[]): FetchResponse => ({
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [
    {
      topic: 'bench-topic',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: parts.map((records, partitionIndex) => ({
        partitionIndex, errorCode: 0, highWatermark: 1000n, lastStableOffset: 1000n, logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records,
      })),
    },
  ],
});

for (const partitions of [1, 64]) {
  bigFrame('Produce v9 request encode+decode, 1 MiB records', partitions, (parts) => {
    const frame = encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 1, clientId: 'bench' }, produceBody(parts));
    return decodeRequest(frame.subarray(4));
  });
  bigFrame('Fetch v12 response encode+decode, 1 MiB records', partitions, (parts) => {
    const frame = encodeResponse(1, 12, 1, fetchBody(parts));
    return decodeResponse(1, 12, frame.subarray(4));
  });
  // Gather encoding hands the records to the socket by reference (as a broker writes a Fetch
  // response); the decode side then sees the concatenation, as a client would.
  bigFrame('Fetch v12 response gather-encode (no decode)', partitions, (parts) => encodeResponseChunks(1, 12, 1, fetchBody(parts)));
  bigFrame('Produce v9 request gather-encode (no decode)', partitions, (parts) => encodeRequestChunks({ apiKey: 0, apiVersion: 9, correlationId: 1, clientId: 'bench' }, produceBody(parts)));
}

// ---- small message: Metadata response, 100 topics × 3 partitions ----
const metadata: MetadataResponse = {
  throttleTimeMs: 0,
  brokers: [0, 1, 2].map((nodeId) => ({ nodeId, host: `broker-${nodeId}.example`, port: 9092, rack: null })),
  clusterId: 'sluice-cluster',
  controllerId: 0,
  topics: Array.from({ length: 100 }, (_, t) => ({
    errorCode: 0,
    name: `topic-${t}`,
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    isInternal: false,
    partitions: [0, 1, 2].map((p) => ({ errorCode: 0, partitionIndex: p, leaderId: p, leaderEpoch: 0, replicaNodes: [0, 1, 2], isrNodes: [0, 1, 2], offlineReplicas: [] })),
    topicAuthorizedOperations: -2147483648,
  })),
  clusterAuthorizedOperations: -2147483648,
};

for (const version of [1, 12]) {
  const frame = encodeResponse(3, version, 1, metadata);
  const body = frame.subarray(4);
  const json = JSON.stringify(metadata, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  const encNs = measure(() => encodeResponse(3, version, 1, metadata));
  const decNs = measure(() => decodeResponse(3, version, body));
  const stringifyNs = measure(() => JSON.stringify(metadata));
  const parseNs = measure(() => JSON.parse(json));
  const ops = (ns: number) => `${Math.round(1e9 / ns).toLocaleString('en-US')} ops/s`;
  line(`Metadata v${version} response (100 topics, ${frame.length} B) encode`, ops(encNs), `vs JSON.stringify ${ops(stringifyNs)}`, stringifyNs / encNs);
  line(`Metadata v${version} response (100 topics) decode`, ops(decNs), `vs JSON.parse ${ops(parseNs)}`, parseNs / decNs);

  // The alternative design: a typed interpreter walking the declaration at run time.
  const model = buildModel(allDeclarations.find((d) => d.name === 'MetadataResponse') as never);
  const interpret = new Interpreter(model.flexible);
  const skipHeader = version >= 9 ? 5 : 4;
  assert.deepEqual(interpret.struct(new Reader(body, skipHeader), model.root, version), decodeResponse(3, version, body).body);
  const interpNs = measure(() => interpret.struct(new Reader(body, skipHeader), model.root, version));
  line(`Metadata v${version} response decode, generated code`, ops(decNs), `vs interpreter ${ops(interpNs)}`, interpNs / decNs);
}

