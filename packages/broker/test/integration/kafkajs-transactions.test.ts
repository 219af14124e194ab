/**
 * kafkajs transactions against the broker: producer.transaction() with send/sendOffsets/commit
 * and abort; a read_committed kafkajs consumer (readUncommitted: false) sees only committed
 * records, a read_uncommitted one sees everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { ApiKey } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;

async function consumeAll(kafka: KafkaJS.Kafka, topic: string, readUncommitted: boolean, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${readUncommitted}-${Date.now()}`, readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') });
  const deadline = Date.now() + 20_000;
  while (values.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  // A little longer: anything beyond `expected` (an aborted record leaking) shows up too.
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return values;
}

test('kafkajs: transaction() commit and abort, sendOffsets, read_committed consumers', { timeout: 120_000 }, async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 2 });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'kjs-txn', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'kjs-txn', numPartitions: 2 }] });
  await admin.disconnect();
  const producer = kafka.producer({ transactionalId: 'kjs-tx', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  const committed = await producer.transaction();
  await committed.send({ topic: 'kjs-txn', messages: Array.from({ length: 10 }, (_, i) => ({ value: `c${i}`, partition: i % 2 })) });
  await committed.commit();
  const aborted = await producer.transaction();
  await aborted.send({ topic: 'kjs-txn', messages: Array.from({ length: 10 }, (_, i) => ({ value: `a${i}`, partition: i % 2 })) });
  await aborted.abort();
  const withOffsets = await producer.transaction();
  await withOffsets.send({ topic: 'kjs-txn', messages: [{ value: 'c10', partition: 0 }] });
  await withOffsets.sendOffsets({ consumerGroupId: 'kjs-eos', topics: [{ topic: 'kjs-txn', partitions: [{ partition: 0, offset: '5' }] }] });
  await withOffsets.commit();
  await producer.disconnect();

  const readCommitted = await consumeAll(kafka, 'kjs-txn', false, 11);
  assert.deepEqual(readCommitted.sort(), [...Array.from({ length: 11 }, (_, i) => `c${i}`)].sort());
  const readAll = await consumeAll(kafka, 'kjs-txn', true, 21);
  assert.equal(readAll.filter((v) => v.startsWith('a')).length, 10, 'read_uncommitted sees the aborted records');

  const admin2 = kafka.admin();
  await admin2.connect();
  t.after(() => admin2.disconnect());
  const offsets = await admin2.fetchOffsets({ groupId: 'kjs-eos', topics: ['kjs-txn'] });
  assert.equal(offsets[0].partitions.find((p) => p.partition === 0)?.offset, '5', 'the transaction committed the group offset');
});

test('Fetch answers the last stable offset at every isolation level: an open transaction holds it at its first offset for read_uncommitted too', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 1 });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'kjs-lso', logLevel: logLevel.NOTHING });
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({ topic: 'lso', messages: [{ value: 'a' }, { value: 'b' }] });
  await plain.disconnect();
  const producer = kafka.producer({ transactionalId: 'kjs-lso', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const open = await producer.transaction();
  await open.send({ topic: 'lso', messages: [{ value: 'x' }, { value: 'y' }, { value: 'z' }] });
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const fetch = (isolationLevel: number) =>
    c.send(ApiKey.Fetch, 11, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'lso', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
  for (const isolationLevel of [0, 1]) {
    const p = (await fetch(isolationLevel)).responses[0].partitions[0];
    assert.deepEqual([p.errorCode, p.highWatermark, p.lastStableOffset], [0, 5n, 2n], `isolation level ${isolationLevel}`);
  }
  await open.commit();
  // EndTxn answers once the commit is decided; the marker is written just after (as in Kafka).
  let p = (await fetch(0)).responses[0].partitions[0];
  for (let i = 0; i < 100 && p.highWatermark < 6n; i++) {
    await new Promise((r) => setTimeout(r, 20));
    p = (await fetch(0)).responses[0].partitions[0];
  }
  assert.deepEqual([p.highWatermark, p.lastStableOffset], [6n, 6n], 'the commit marker makes everything stable');
  await producer.disconnect();
});

test('kafkajs sendOffsets (TxnOffsetCommit v0, no member) to a group with live members is accepted, as Kafka skips member checks for it', { timeout: 60_000 }, async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'kjs-live', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'kjs-live', maxWaitTimeInMs: 100 });
  await consumer.connect();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.subscribe({ topics: ['live-in'], fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  await joined;
  const producer = kafka.producer({ transactionalId: 'kjs-live-tx', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const txn = await producer.transaction();
  await txn.send({ topic: 'live-out', messages: [{ value: 'v' }] });
  await txn.sendOffsets({ consumerGroupId: 'kjs-live', topics: [{ topic: 'live-in', partitions: [{ partition: 0, offset: '3' }] }] });
  await txn.commit();
  await producer.disconnect();
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: 'kjs-live', topics: ['live-in'] });
  await admin.disconnect();
  assert.equal(offsets[0].partitions[0].offset, '3');
});
