/**
 * Recycled buffers on the produce and fetch paths: large produce frames and log reads come from a
 * pool and go back once answered or written. Many pipelined producers and fetchers run at once on
 * distinct data; every batch fetched must have a valid CRC and carry exactly the records produced
 * at its offsets, so a buffer reused while still referenced would show up as a mismatch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch, readRecordBatch, verifyBatchCrc } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

const PARTITIONS = 3;
const RECORD = 1024;

function value(partition: number, batch: number, i: number): Buffer {
  const v = Buffer.alloc(RECORD, (partition * 31 + batch * 7 + i) & 0xff);
  v.write(`p${partition}b${batch}i${i}`);
  return v;
}

test('pooled produce frames and fetch buffers are never visible to another request or response', { timeout: 120_000 }, async (t) => {
  const b = await startTestBroker();
  t.after(() => b.dispose());
  const admin = await RawClient.connect(b.broker.port);
  t.after(() => admin.close());
  const created = await admin.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'pooled', numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);

  // Producers: one connection per partition, 8 requests in flight, 64 records (~66 KB) per batch.
  const batchesPerPartition = 40;
  const recordsPerBatch = 64;
  const expected = new Map<string, Buffer>();
  await Promise.all(
    Array.from({ length: PARTITIONS }, async (_, partition) => {
      const c = await RawClient.connect(b.broker.port);
      try {
        const sends: Promise<unknown>[] = [];
        for (let batch = 0; batch < batchesPerPartition; batch++) {
          const records = Array.from({ length: recordsPerBatch }, (_, i) => ({ key: null, value: value(partition, batch, i), timestamp: BigInt(Date.now()) }));
          const send = c.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'pooled', partitionData: [{ index: partition, records: buildRecordBatch(records) }] }] });
          sends.push(
            send.then((r) => {
              const p = r.responses[0].partitionResponses[0];
              assert.equal(p.errorCode, ErrorCode.NONE);
              for (let i = 0; i < recordsPerBatch; i++) expected.set(`${partition}:${p.baseOffset + BigInt(i)}`, records[i].value);
            }),
          );
          if (sends.length >= 8) await sends.shift();
        }
        await Promise.all(sends);
      } finally {
        c.close();
      }
    }),
  );
  const end = BigInt(batchesPerPartition * recordsPerBatch);

  // Fetchers: two per partition, pipelined, with varied sizes; some ask for more than exists
  // (min.bytes) so the broker reads, waits and reads again.
  let checked = 0;
  const fetcher = async (partition: number, seed: number) => {
    const c = await RawClient.connect(b.broker.port);
    try {
      let offset = BigInt(seed % 5);
      while (offset < end) {
        const partitionMaxBytes = 40_000 + ((seed * 7919 + Number(offset)) % 300_000);
        const minBytes = seed % 2 === 0 ? 1 : 50 << 20;
        const inFlight = [0, 1, 2].map(() =>
          c.send(ApiKey.Fetch, 12, {
            replicaId: -1, maxWaitMs: 20, minBytes, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
            topics: [{ topic: 'pooled', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes }] }],
            forgottenTopicsData: [], rackId: '',
          }),
        );
        let next = offset;
        for (const response of await Promise.all(inFlight)) {
          const data = response.responses[0].partitions[0].records!;
          let pos = 0;
          while (pos < data.length) {
            assert.ok(verifyBatchCrc(data.subarray(pos)), `partition ${partition}: a fetched batch has a bad CRC`);
            const batch = readRecordBatch(data, pos);
            for (const r of batch.records) {
              assert.deepEqual(r.value, expected.get(`${partition}:${r.offset}`), `partition ${partition} offset ${r.offset}: wrong bytes`);
              checked++;
              if (r.offset + 1n > next) next = r.offset + 1n;
            }
            pos += batch.size;
          }
        }
        assert.ok(next > offset, 'fetch made progress');
        offset = next;
      }
    } finally {
      c.close();
    }
  };
  await Promise.all(Array.from({ length: PARTITIONS * 2 }, (_, i) => fetcher(i % PARTITIONS, i)));
  t.diagnostic(`${checked} fetched records checked; ${b.broker.context.buffers.retained} bytes of buffers pooled`);
  assert.ok(checked >= PARTITIONS * 2 * Number(end) - 20, 'every fetcher read its partition');
  assert.ok(b.broker.context.buffers.retained > 0, 'buffers went back to the pool (the test exercised reuse)');
});
