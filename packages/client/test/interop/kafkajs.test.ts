/** kafkajs 2.2.4 against our client: records both ways, every codec kafkajs has (no zstd). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { Admin, Producer } from '../../src/index.js';
import { readAll, startTestBroker, uniqueTopic } from '../helpers.js';

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs') as typeof KafkaJS;
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy') as never;
const LZ4Codec = require('@2l/kafkajs-lz4') as new () => { codec: unknown };
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec as never;

const codecs = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
] as const;

test('what our producer writes kafkajs reads identically (keys, values, headers, timestamps)', { timeout: 180_000 }, async (t) => {
  const broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0 });
  const kafka = new Kafka({ clientId: 'interop', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  t.after(() => broker.stop());
  for (const [compression] of codecs) {
    const topic = uniqueTopic(`to-kafkajs-${compression}`);
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    admin.close();
    const producer = new Producer({ brokers: [broker.bootstrap], compression });
    const records = Array.from({ length: 200 }, (_, i) => ({ topic, key: `k${i}`, value: `v-${compression}-${i}`, headers: { n: String(i) }, timestamp: 1_700_000_000_000 + i }));
    const sent = await producer.sendBatch(records);
    await producer.close();
    const consumer = kafka.consumer({ groupId: `g-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, { partition: number; offset: string; value: string; header: string; timestamp: string }>();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            seen.set(message.key!.toString(), {
              partition,
              offset: message.offset,
              value: message.value!.toString(),
              header: String(message.headers?.n),
              timestamp: message.timestamp,
            });
            if (seen.size === records.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    records.forEach((r, i) => {
      const s = seen.get(r.key)!;
      assert.equal(s.value, r.value);
      assert.equal(s.header, String(i));
      assert.equal(s.timestamp, String(r.timestamp));
      assert.equal(s.partition, sent[i].partition);
      assert.equal(s.offset, String(sent[i].offset));
    });
  }
});

test('what kafkajs writes our consumer reads identically', { timeout: 180_000 }, async (t) => {
  const broker = await startTestBroker();
  const kafka = new Kafka({ clientId: 'interop', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  t.after(() => broker.stop());
  for (const [name, compression] of codecs) {
    const topic = uniqueTopic(`from-kafkajs-${name}`);
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic, numPartitions: 1 }]);
    admin.close();
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: `kafkajs-${name}-${i}`, headers: { n: String(i) }, timestamp: String(1_700_000_000_000 + i) }));
    await producer.send({ topic, compression, messages });
    await producer.disconnect();
    const got = await readAll(broker.bootstrap, topic, messages.length);
    assert.deepEqual(
      got.map((r) => [r.key, r.value, r.headers, r.timestamp]),
      messages.map((m) => [m.key, m.value, [['n', m.headers.n]], BigInt(m.timestamp)]),
      name,
    );
  }
});
