/**
 * The producer's transactions against a real broker: commit and abort seen through read_committed
 * and read_uncommitted consumers of this client, offsets committed with a transaction, and a
 * second instance of the same transactional id fencing the first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer, ProducerFencedError } from '../../src/index.js';
import { uniqueTopic, withBroker } from '../helpers.js';

async function readValues(bootstrap: string, topic: string, isolationLevel: 'read_committed' | 'read_uncommitted', count: number): Promise<string[]> {
  const consumer = new Consumer({ brokers: [bootstrap], autoOffsetReset: 'earliest', isolationLevel, fetchMaxWaitMs: 100 });
  try {
    await consumer.assign([{ topic, partition: 0 }]);
    const seen: string[] = [];
    for await (const r of consumer) {
      seen.push(r.value!.toString());
      if (seen.length === count) break;
    }
    return seen;
  } finally {
    await consumer.close();
  }
}

test('transactional producer: commit, abort, offsets in the transaction, fencing', { timeout: 90_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('txn');
  await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], transactionalId: 'client-tx' });
  t.after(() => producer.close().catch(() => undefined));
  await producer.initTransactions();

  producer.beginTransaction();
  await producer.sendBatch([0, 1, 2].map((i) => ({ topic, partition: 0, value: `committed-${i}` })));
  await producer.commitTransaction();
  producer.beginTransaction();
  await producer.sendBatch([0, 1].map((i) => ({ topic, partition: 0, value: `aborted-${i}` })));
  await producer.abortTransaction();
  producer.beginTransaction();
  await producer.send({ topic, partition: 0, value: 'committed-3' });
  await producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 4n }], { groupId: 'client-eos' });
  await producer.commitTransaction();

  // 4 committed records; a read_committed reader that read past them would have found the aborted ones first.
  assert.deepEqual(await readValues(broker.bootstrap, topic, 'read_committed', 4), ['committed-0', 'committed-1', 'committed-2', 'committed-3']);
  assert.deepEqual(await readValues(broker.bootstrap, topic, 'read_uncommitted', 6), ['committed-0', 'committed-1', 'committed-2', 'aborted-0', 'aborted-1', 'committed-3']);
  const offsets = await admin.listConsumerGroupOffsets('client-eos');
  assert.equal(offsets.find((o) => o.topic === topic && o.partition === 0)?.offset, 4n);

  // A second instance fences the first: the zombie's next transaction fails fatally.
  const second = new Producer({ brokers: [broker.bootstrap], transactionalId: 'client-tx' });
  t.after(() => second.close().catch(() => undefined));
  await second.initTransactions();
  producer.beginTransaction();
  await assert.rejects(producer.send({ topic, partition: 0, value: 'zombie' }), ProducerFencedError);
  second.beginTransaction();
  await second.send({ topic, partition: 0, value: 'fresh' });
  await second.commitTransaction();
  assert.deepEqual((await readValues(broker.bootstrap, topic, 'read_committed', 5)).at(-1), 'fresh');
});

test('transactional producer: concurrent sends keep their call order even when an earlier one adds a partition to the transaction', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('txn-order');
  await admin.createTopics([{ topic, numPartitions: 2, replicationFactor: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], transactionalId: 'client-tx-order' });
  t.after(() => producer.close().catch(() => undefined));
  await producer.initTransactions();
  producer.beginTransaction();
  await producer.send({ topic, partition: 0, value: 'first' });
  // The first call waits for AddPartitionsToTxn (partition 1 is new); the second needs nothing.
  const a = producer.sendBatch([{ topic, partition: 0, value: 'second' }, { topic, partition: 1, value: 'other' }]);
  const b = producer.sendBatch([{ topic, partition: 0, value: 'third' }]);
  await Promise.all([a, b]);
  await producer.commitTransaction();
  assert.deepEqual(await readValues(broker.bootstrap, topic, 'read_committed', 3), ['first', 'second', 'third']);
});
