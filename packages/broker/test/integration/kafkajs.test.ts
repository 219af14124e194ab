/**
 * kafkajs (admin and producer): create/list/describe/alter-config/create-partitions/delete topics,
 * keyed produce with every codec kafkajs supports (none, gzip; snappy and lz4 through their
 * plugins; kafkajs has no zstd), offsets by time, DeleteRecords; and a kafkajs consumer (through the
 * group coordinator) reading from the beginning, then from an offset and from a timestamp (seek).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ApiKey, readRecordBatch, type KafkaRecord } from '@sluice/protocol';
import type * as KafkaJS from 'kafkajs';
import { RawClient, startTestBroker } from '../helpers.js';

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, CompressionCodecs, logLevel, ConfigResourceTypes, Partitioners } = require('kafkajs') as typeof KafkaJS;
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy') as never;
const LZ4Codec = require('@2l/kafkajs-lz4') as new () => { codec: unknown };
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec as never;

async function readAll(port: number, topic: string, partition: number): Promise<KafkaRecord[]> {
  const c = await RawClient.connect(port);
  try {
    const out: KafkaRecord[] = [];
    let offset = 0n;
    for (;;) {
      const r = await c.send(ApiKey.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 4 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 4 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const p = r.responses[0].partitions[0];
      assert.equal(p.errorCode, 0);
      const records = p.records ?? Buffer.alloc(0);
      if (records.length === 0) return out;
      for (let pos = 0; pos < records.length; ) {
        const batch = readRecordBatch(records, pos);
        for (const rec of batch.records) if (rec.offset >= offset) out.push(rec);
        pos += batch.size;
        offset = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
      }
    }
  } finally {
    c.close();
  }
}

test('kafkajs admin and producer against the broker', { timeout: 120_000 }, async (t) => {
  const tb = await startTestBroker({ 'auto.create.topics.enable': false });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ clientId: 'sluice-test', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());

  assert.equal(await admin.createTopics({ topics: [{ topic: 'js', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] }), true);
  assert.equal(await admin.createTopics({ topics: [{ topic: 'js' }] }), false);
  await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad/name' }] }), (err: { errors?: { type: string }[] }) => err.errors?.[0]?.type === 'INVALID_TOPIC_EXCEPTION');
  assert.deepEqual((await admin.listTopics()).sort(), ['js']);

  const cluster = await admin.describeCluster();
  assert.equal(cluster.controller, 1);
  assert.equal(cluster.brokers[0].port, tb.broker.port);

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.after(() => producer.disconnect());
  const codecs = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4];
  const sent: string[] = [];
  const t0 = Date.now();
  for (const compression of codecs) {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `key-${i % 5}`, value: `c${compression}-v${i}` }));
    const result = await producer.send({ topic: 'js', compression, acks: -1, messages: messages.map((m) => ({ ...m, partition: 0 })) });
    assert.equal(result[0].errorCode, 0);
    sent.push(...messages.map((m) => `${m.key}=${m.value}`));
  }
  await producer.send({ topic: 'js', acks: 1, messages: [{ key: 'p1', value: 'to-partition-1', partition: 1 }] });
  const p0 = await readAll(tb.broker.port, 'js', 0);
  assert.deepEqual(p0.map((r) => `${r.key}=${r.value}`), sent);
  assert.deepEqual(p0.map((r) => r.offset), sent.map((_, i) => BigInt(i)));

  const offsets = await admin.fetchTopicOffsets('js');
  assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '0', '200'], [1, '0', '1']]);
  const byTime = await admin.fetchTopicOffsetsByTimestamp('js', t0 - 1);
  assert.deepEqual(byTime.find((o) => o.partition === 0)?.offset, '0');

  const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js', configNames: ['retention.ms', 'cleanup.policy'] }], includeSynonyms: false });
  const entries = new Map(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  assert.equal(entries.get('retention.ms'), '86400000');
  assert.equal(entries.get('cleanup.policy'), 'delete');
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
  const after = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js', configNames: ['retention.ms'] }], includeSynonyms: false });
  assert.equal(after.resources[0].configEntries[0].configValue, '1000');
  await assert.rejects(
    admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js', configEntries: [{ name: 'retention.ms', value: 'tomorrow' }] }] }),
    (err: { type?: string }) => err.type === 'INVALID_CONFIG',
  );

  await admin.createPartitions({ topicPartitions: [{ topic: 'js', count: 4 }] });
  const md = await admin.fetchTopicMetadata({ topics: ['js'] });
  assert.equal(md.topics[0].partitions.length, 4);
  await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'js', count: 2 }] }), (err: { type?: string }) => err.type === 'INVALID_PARTITIONS');

  await admin.deleteTopicRecords({ topic: 'js', partitions: [{ partition: 0, offset: '150' }] });
  const afterDelete = await admin.fetchTopicOffsets('js');
  assert.equal(afterDelete.find((o) => o.partition === 0)?.low, '150');

  await admin.deleteTopics({ topics: ['js'] });
  assert.deepEqual(await admin.listTopics(), []);
});

test('kafkajs consumer: from the beginning (every codec), from an offset and from a timestamp', { timeout: 120_000 }, async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0 });
  t.after(() => tb.dispose());
  const kafka = new Kafka({ clientId: 'sluice-test', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'reads', numPartitions: 1 }] });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.after(() => producer.disconnect());
  const sent: string[] = [];
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4]) {
    const messages = Array.from({ length: 25 }, (_, i) => ({ key: `k${i % 3}`, value: `c${compression}-${i}` }));
    await producer.send({ topic: 'reads', compression, messages });
    sent.push(...messages.map((m) => `${m.key}=${m.value}`));
  }
  await new Promise((r) => setTimeout(r, 20));
  const boundary = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await producer.send({ topic: 'reads', messages: [{ key: 'late', value: 'after-boundary' }] });
  sent.push('late=after-boundary');

  const consumer = kafka.consumer({ groupId: 'readers', maxWaitTimeInMs: 100 });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topic: 'reads', fromBeginning: true });
  const got: { offset: string; text: string }[] = [];
  let notify: (() => void) | null = null;
  const until = async (count: number) => {
    while (got.length < count) await new Promise<void>((resolve) => (notify = resolve));
  };
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push({ offset: message.offset, text: `${message.key}=${message.value}` });
      notify?.();
    },
  });
  await until(sent.length);
  assert.deepEqual(got.map((m) => m.text), sent);

  consumer.seek({ topic: 'reads', partition: 0, offset: '95' });
  await until(sent.length + 6);
  assert.deepEqual(got.slice(sent.length).map((m) => m.offset), ['95', '96', '97', '98', '99', '100']);

  const [byTime] = await admin.fetchTopicOffsetsByTimestamp('reads', boundary);
  assert.equal(byTime.offset, '100');
  consumer.seek({ topic: 'reads', partition: 0, offset: byTime.offset });
  await until(sent.length + 7);
  assert.deepEqual(got.slice(sent.length + 6).map((m) => m.text), ['late=after-boundary']);
});
