/** kafkajs with idempotent: true against our broker: InitProducerId, sequenced batches, every message once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ApiKey, batchSizeAt, readBatchHeader, readRecordBatch } from '@sluice/protocol';
import type * as KafkaJS from 'kafkajs';
import { RawClient, startTestBroker } from '../helpers.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;

test('kafkajs idempotent producer: one producer id, consecutive sequences per partition, each message stored once', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 2 });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'idem', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  await producer.connect();
  for (let i = 0; i < 20; i++) {
    await producer.send({ topic: 'kjs-idem', acks: -1, messages: Array.from({ length: 25 }, (_, j) => ({ key: `k${j % 5}`, value: `m${i * 25 + j}` })) });
  }
  await producer.disconnect();

  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const values: string[] = [];
  const producerIds = new Set<bigint>();
  for (let partition = 0; partition < 2; partition++) {
    const f = await c.send(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 16 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'kjs-idem', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 16 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const records = f.responses[0].partitions[0].records ?? Buffer.alloc(0);
    let expectedSeq = 0;
    for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
      const header = readBatchHeader(records, pos);
      const batch = readRecordBatch(records, pos);
      producerIds.add(header.producerId);
      assert.equal(header.baseSequence, expectedSeq, `partition ${partition}: consecutive sequences`);
      expectedSeq += batch.records.length;
      values.push(...batch.records.map((r) => r.value!.toString()));
    }
  }
  assert.deepEqual([...producerIds].length, 1);
  assert.ok([...producerIds][0] >= 0n);
  assert.deepEqual(values.sort(), Array.from({ length: 500 }, (_, i) => `m${i}`).sort());
});
