/** The KafkaJS facade's producer.transaction(): send, sendOffsets, commit and abort against a real broker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer } from '../../src/index.js';
import { Kafka } from '../../src/kafkajs-compat/kafka.js';
import { uniqueTopic, withBroker } from '../helpers.js';

test('kafkajs facade: transaction() commits and aborts; read_committed sees the committed records only', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('kjs-txn');
  await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
  const producer = new Kafka({ brokers: [broker.bootstrap], clientId: 'facade' }).producer({ transactionalId: 'facade-tx' });
  await producer.connect();
  t.after(() => producer.disconnect());
  const first = await producer.transaction();
  await first.send({ topic, messages: [{ value: 'c0', partition: 0 }, { value: 'c1', partition: 0 }] });
  await first.commit();
  assert.equal(first.isActive(), false);
  const second = await producer.transaction();
  await second.send({ topic, messages: [{ value: 'a0', partition: 0 }] });
  await second.abort();
  const third = await producer.transaction();
  await third.sendBatch({ topicMessages: [{ topic, messages: [{ value: 'c2', partition: 0 }] }] });
  await third.sendOffsets({ consumerGroupId: 'facade-eos', topics: [{ topic, partitions: [{ partition: 0, offset: '2' }] }] });
  await third.commit();

  const consumer = new Consumer({ brokers: [broker.bootstrap], autoOffsetReset: 'earliest', isolationLevel: 'read_committed', fetchMaxWaitMs: 100 });
  t.after(() => consumer.close());
  await consumer.assign([{ topic, partition: 0 }]);
  const seen: string[] = [];
  for await (const r of consumer) {
    seen.push(r.value!.toString());
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, ['c0', 'c1', 'c2']);
  const offsets = await admin.listConsumerGroupOffsets('facade-eos');
  assert.equal(offsets.find((o) => o.topic === topic)?.offset, 2n);
});
