/**
 * Cross-checks the builder and reader against an independent implementation: KafkaJS's own
 * RecordBatch v2 encoder and decoder (with its gzip codec and the kafkajs-snappy xerial codec).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Compression } from '../../src/records/batch-header.js';
import { buildRecordBatch, readRecordBatch } from '../../src/records/record-batch.js';

const require = createRequire(import.meta.url);

interface KafkaJsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}
interface KafkaJsBatch {
  firstOffset: string;
  lastOffsetDelta: number;
  producerId: string;
  inTransaction: boolean;
  records: KafkaJsRecord[];
}
type DecoderCtor = new (buffer: Buffer) => unknown;
type Codec = () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };

const KafkaJsDecoder = require('kafkajs/src/protocol/decoder') as DecoderCtor;
const decodeKafkaJsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<KafkaJsBatch>;
const { RecordBatch: encodeKafkaJsBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const encodeKafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: Record<string, unknown>) => unknown;
const KafkaJsLong = require('kafkajs/src/utils/long') as { fromValue(value: number): unknown };
const kafkajs = require('kafkajs') as { CompressionCodecs: Record<number, Codec>; CompressionTypes: Record<string, number> };
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = require('kafkajs-snappy') as Codec;

const T0 = 1_700_000_000_000;

describe('interop with KafkaJS record batches', () => {
  for (const codec of ['none', 'gzip', 'snappy'] as const) {
    it(`KafkaJS decodes our ${codec} batches`, async () => {
      const batch = buildRecordBatch(
        Array.from({ length: 300 }, (_, i) => ({
          key: i % 10 === 0 ? null : Buffer.from(`key-${i}`),
          value: i % 17 === 0 ? null : Buffer.from(JSON.stringify({ i, text: 'y'.repeat(i) })),
          headers: i % 3 === 0 ? [{ key: 'trace', value: Buffer.from(`t${i}`) }, { key: 'ünï', value: Buffer.alloc(0) }] : [],
          timestamp: BigInt(T0 + i * 1000 - 50_000),
        })),
        { compression: codec, baseOffset: 12_345n, producerId: 77n, producerEpoch: 2, baseSequence: 9, isTransactional: true },
      );
      const decoded = await decodeKafkaJsBatch(new KafkaJsDecoder(batch));
      assert.equal(decoded.firstOffset, '12345');
      assert.equal(decoded.lastOffsetDelta, 299);
      assert.equal(decoded.producerId, '77');
      assert.equal(decoded.inTransaction, true);
      assert.equal(decoded.records.length, 300);
      decoded.records.forEach((r, i) => {
        assert.equal(r.offset, String(12_345 + i));
        assert.equal(r.timestamp, String(T0 + i * 1000 - 50_000));
        assert.deepEqual(r.key, i % 10 === 0 ? null : Buffer.from(`key-${i}`));
        assert.deepEqual(r.value, i % 17 === 0 ? null : Buffer.from(JSON.stringify({ i, text: 'y'.repeat(i) })));
        assert.deepEqual(r.headers, i % 3 === 0 ? { trace: Buffer.from(`t${i}`), ünï: Buffer.alloc(0) } : {});
      });
    });
  }

  for (const [codec, type] of [
    ['none', Compression.none],
    ['gzip', Compression.gzip],
    ['snappy (raw, as snappyjs writes it)', Compression.snappy],
  ] as const) {
    it(`we decode KafkaJS ${codec} batches`, async () => {
      const records = Array.from({ length: 200 }, (_, i) =>
        encodeKafkaJsRecord({
          offsetDelta: i,
          timestampDelta: i * 3,
          key: Buffer.from(`k${i}`),
          value: Buffer.from(`value number ${i} `.repeat(1 + (i % 5))),
          headers: i % 2 ? { a: Buffer.from('1'), b: Buffer.from('22') } : {},
        }),
      );
      const { buffer } = await encodeKafkaJsBatch({
        compression: type,
        firstOffset: KafkaJsLong.fromValue(500),
        firstTimestamp: T0,
        maxTimestamp: T0 + 597,
        lastOffsetDelta: 199,
        records,
      });
      const { header, records: read } = readRecordBatch(buffer);
      assert.equal(header.baseOffset, 500n);
      assert.equal(header.recordCount, 200);
      assert.equal(read.length, 200);
      read.forEach((r, i) => {
        assert.equal(r.offset, 500n + BigInt(i));
        assert.equal(r.timestamp, BigInt(T0 + i * 3));
        assert.equal(r.key?.toString(), `k${i}`);
        assert.equal(r.value?.toString(), `value number ${i} `.repeat(1 + (i % 5)));
        assert.deepEqual(
          r.headers.map((h) => [h.key, h.value?.toString()]),
          i % 2 ? [['a', '1'], ['b', '22']] : [],
        );
      });
    });
  }
});
