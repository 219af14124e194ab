/** compression.type on a topic: batches are stored in that codec whatever the producer sent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, Compression, ErrorCode, buildRecordBatch, readRecordBatch, BatchOffsets, computeBatchCrc } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

test('topics with compression.type recompress; producer keeps the producer codec', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  for (const [name, type] of [['zstd-topic', 'zstd'], ['plain-topic', 'uncompressed'], ['as-sent', 'producer']]) {
    const r = await c.send(ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'compression.type', value: type }] }], timeoutMs: 5000, validateOnly: false });
    assert.equal(r.topics[0].errorCode, ErrorCode.NONE);
  }
  const values = Array.from({ length: 50 }, (_, i) => `value-${i}-${'x'.repeat(100)}`);
  const input = (compression: 'none' | 'gzip' | 'lz4') =>
    buildRecordBatch(values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), headers: [{ key: 'h', value: Buffer.from('1') }], timestamp: 1_700_000_000_000n + BigInt(i) })), { compression });
  const produceAndRead = async (topic: string, compression: 'none' | 'gzip' | 'lz4') => {
    const p = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: input(compression) }] }] });
    assert.equal(p.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    const offset = p.responses[0].partitionResponses[0].baseOffset;
    const f = await c.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const records = f.responses[0].partitions[0].records!;
    const batch = readRecordBatch(records, 0);
    assert.deepEqual(batch.records.map((r) => r.value!.toString()), values);
    assert.deepEqual(batch.records.map((r) => r.timestamp), values.map((_, i) => 1_700_000_000_000n + BigInt(i)));
    assert.equal(batch.records[3].headers[0].value!.toString(), '1');
    return records.readInt16BE(BatchOffsets.attributes) & 7;
  };
  assert.equal(await produceAndRead('zstd-topic', 'none'), Compression.zstd);
  assert.equal(await produceAndRead('zstd-topic', 'gzip'), Compression.zstd);
  assert.equal(await produceAndRead('plain-topic', 'lz4'), Compression.none);
  assert.equal(await produceAndRead('as-sent', 'gzip'), Compression.gzip);

  // A compressed batch whose payload is garbage is a corrupt message, not a broker error: with a
  // stale CRC, and with a CRC recomputed over the garbage (so that only decompression can tell).
  for (const fixCrc of [false, true]) {
    const bad = input('gzip');
    bad.fill(0x55, 70);
    if (fixCrc) bad.writeUInt32BE(computeBatchCrc(bad, 0, bad.length), BatchOffsets.crc);
    const p = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'zstd-topic', partitionData: [{ index: 0, records: bad }] }] });
    assert.equal(p.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE, `fixCrc=${fixCrc}`);
  }
});
