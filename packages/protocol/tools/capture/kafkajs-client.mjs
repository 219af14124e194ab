#!/usr/bin/env node
// Drives kafkajs through every API the fixtures need, against the mock cluster at argv[2]:
// admin metadata/offsets, a producer per codec kafkajs can use (none, gzip built in; snappy and
// lz4 through their codec plugins; kafkajs has no zstd codec without a native addon), a consumer
// group that reads everything back and commits, and finally CreateTopics (see below).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const LZ4Codec = require('@2l/kafkajs-lz4');

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;

const brokers = process.argv[2].split(',');
const kafka = new Kafka({ clientId: 'sluice-capture-kafkajs', brokers, logLevel: logLevel.ERROR });

const codecs = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
];
const groupTopic = 'capture-group';
const groupId = 'capture-group-kafkajs';

const admin = kafka.admin();
await admin.connect();
await admin.fetchTopicMetadata({ topics: ['capture-none', groupTopic] });
await admin.fetchTopicOffsets('capture-none');

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const expected = new Map(); // "topic/key" -> value
for (const [name, compression] of codecs) {
  const topic = `capture-${name}`;
  const messages = [1, 2].map((i) => ({
    key: `key-${name}-${i}`,
    value: `value-${name}-${i}`,
    headers: { codec: name },
  }));
  await producer.send({ topic, compression, messages });
  for (const m of messages) expected.set(`${topic}/${m.key}`, m.value);
}
const groupMessages = [{ key: 'g1', value: 'group-value-1' }, { key: 'g2', value: 'group-value-2' }];
await producer.send({ topic: groupTopic, messages: groupMessages });
for (const m of groupMessages) expected.set(`${groupTopic}/${m.key}`, m.value);
await producer.disconnect();

await admin.fetchTopicOffsetsByTimestamp('capture-none', 0);

const consumer = kafka.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10000, rebalanceTimeout: 10000 });
await consumer.connect();
await consumer.subscribe({ topics: [...codecs.map(([name]) => `capture-${name}`), groupTopic], fromBeginning: true });
const received = new Map();
const allReceived = new Promise((resolve) => {
  consumer.run({
    autoCommitInterval: 300,
    eachMessage: async ({ topic, message }) => {
      received.set(`${topic}/${message.key}`, message.value.toString());
      if (received.size === expected.size) resolve();
    },
  });
});
const timeout = setTimeout(() => {
  console.error(`kafkajs consumer: only ${received.size}/${expected.size} messages after 30 s`);
  process.exit(1);
}, 30_000);
await allReceived;
clearTimeout(timeout);
for (const [k, v] of expected) {
  if (received.get(k) !== v) throw new Error(`kafkajs consumer read ${received.get(k)} for ${k}, expected ${v}`);
}
// Let heartbeats and an auto-commit go out, then leave the group.
await new Promise((r) => setTimeout(r, 2000));
await consumer.disconnect();
await admin.fetchOffsets({ groupId, topics: [groupTopic] });

// The mock implements no CreateTopics and does not advertise it, and admin.createTopics() would
// look for a controller the mock does not name. So the request goes to broker 1 through kafkajs's
// own Cluster/Broker and CreateTopics encoder, after adding CreateTopics v0-v5 to that broker's
// copy of the advertised versions (kafkajs picks its highest implemented version, v3). The
// mock drops the connection instead of answering; the request bytes are kafkajs's own.
const createCluster = kafka[Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')];
const cluster = createCluster({ allowAutoTopicCreation: false });
await cluster.connect();
await cluster.refreshMetadata();
try {
  const broker = await cluster.findBroker({ nodeId: 1 });
  broker.versions[19] = { apiKey: 19, minVersion: 0, maxVersion: 5 };
  await broker.createTopics({
    topics: [{ topic: 'capture-created', numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    timeout: 2000,
  });
  console.log('createTopics: answered');
} catch (err) {
  // Expected against the mock: it has no CreateTopics handler. The request is what we came for.
  console.log(`createTopics: ${err.message}`);
}
await cluster.disconnect();
await admin.disconnect();
console.log(`kafkajs: produced and consumed ${expected.size} messages`);
process.exit(0); // kafkajs keeps retry timers alive after a dropped connection
