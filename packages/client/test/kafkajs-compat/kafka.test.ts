/**
 * The same kafkajs program run twice — once with kafkajs's `Kafka`, once with ours — against our
 * broker gives the same results: the migration is a one-line import change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { Kafka as SluiceKafka, CompressionTypes } from '../../src/index.js';
import { startTestBroker, uniqueTopic, waitFor } from '../helpers.js';

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof KafkaJS;

interface KafkaLike {
  admin(): {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    createTopics(r: { topics: Array<{ topic: string; numPartitions?: number }> }): Promise<boolean>;
    listTopics(): Promise<string[]>;
    fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; offset: string; high: string; low: string }>>;
    fetchOffsets(r: { groupId: string; topics: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  };
  producer(): {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    send(r: { topic: string; messages: Array<{ key?: string; value: string; headers?: Record<string, string> }>; compression?: number }): Promise<Array<{ topicName: string; partition: number; baseOffset: string }>>;
  };
  consumer(c: { groupId: string; heartbeatInterval?: number }): {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    subscribe(s: { topic: string; fromBeginning?: boolean }): Promise<void>;
    run(r: { eachMessage: (p: { topic: string; partition: number; message: { key: Buffer | null; value: Buffer | null; offset: string; headers?: Record<string, unknown> } }) => Promise<void> }): Promise<void>;
  };
}

async function program(Kafka: new (c: { clientId: string; brokers: string[]; logLevel?: number }) => KafkaLike, bootstrap: string, topic: string): Promise<unknown> {
  const kafka = new Kafka({ clientId: 'migration', brokers: [bootstrap], logLevel: 0 });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  const again = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  const listed = (await admin.listTopics()).includes(topic);
  const producer = kafka.producer();
  await producer.connect();
  const sent = await producer.send({ topic, compression: CompressionTypes.GZIP, messages: Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}`, headers: { i: String(i) } })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `group-${topic}`, heartbeatInterval: 300 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push(`${partition}/${message.offset}/${message.key?.toString()}=${message.value?.toString()};i=${String(message.headers?.i)}`);
    },
  });
  await waitFor(() => seen.length === 30, 60_000, 'all messages');
  // Let auto-commit store the positions before leaving.
  await consumer.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId: `group-${topic}`, topics: [topic] });
  await admin.disconnect();
  return {
    created,
    again,
    listed,
    sent: sent.map((s) => `${s.topicName === topic}/${s.partition}/${s.baseOffset}`).sort(),
    seen: seen.sort(),
    offsets: offsets.map((o) => `${o.partition}:${o.low}-${o.high}`).sort(),
    committed: committed[0].partitions.map((p) => `${p.partition}:${p.offset}`).sort(),
  };
}

test('a kafkajs program gives the same results with kafkajs and with @sluice/client', { timeout: 180_000 }, async (t) => {
  const broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0 });
  t.after(() => broker.stop());
  const theirs = await program(kafkajs.Kafka as unknown as new (c: { clientId: string; brokers: string[] }) => KafkaLike, broker.bootstrap, uniqueTopic('kafkajs'));
  const ours = await program(SluiceKafka as unknown as new (c: { clientId: string; brokers: string[] }) => KafkaLike, broker.bootstrap, uniqueTopic('sluice'));
  assert.deepEqual(ours, theirs);
  const o = ours as { created: boolean; again: boolean; seen: string[] };
  assert.equal(o.created, true);
  assert.equal(o.again, false);
  assert.equal(o.seen.length, 30);
});
