import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { Consumer, KafkaError, OffsetSpec, Producer } from '../../src/index.js';
import { uniqueTopic, withBroker, waitFor } from '../helpers.js';

test('topics: create, list, describe, create partitions, delete', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  assert.deepEqual(await admin.createTopics([{ topic, numPartitions: 2, configs: { 'cleanup.policy': 'compact' } }]), [true]);
  assert.deepEqual(await admin.createTopics([{ topic, numPartitions: 2 }], { ignoreExisting: true }), [false]);
  await assert.rejects(admin.createTopics([{ topic, numPartitions: 2 }]), (e: unknown) => e instanceof KafkaError && e.errorName === 'TOPIC_ALREADY_EXISTS' && !e.retriable);
  assert.ok((await admin.listTopics()).includes(topic));
  const [described] = await admin.describeTopics([topic]);
  assert.equal(described.partitions.length, 2);
  assert.ok(described.partitions.every((p) => p.leader === 1 && p.replicas.length === 1));
  await admin.createPartitions([{ topic, count: 5 }]);
  assert.equal((await admin.describeTopics([topic]))[0].partitions.length, 5);
  await admin.deleteTopics([topic]);
  assert.ok(!(await admin.listTopics()).includes(topic));
  await assert.rejects(admin.deleteTopics([topic]), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('configs: describe, alter, incremental alter', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const valueOf = async (name: string) => (await admin.describeConfigs([{ type: 'topic', name: topic, keys: [name] }]))[0].configs.find((c) => c.name === name);
  assert.equal((await valueOf('retention.ms'))?.isDefault, true);
  await admin.incrementalAlterConfigs([{ type: 'topic', name: topic, changes: [{ name: 'retention.ms', op: 'set', value: '12345' }] }]);
  assert.equal((await valueOf('retention.ms'))?.value, '12345');
  await admin.incrementalAlterConfigs([{ type: 'topic', name: topic, changes: [{ name: 'retention.ms', op: 'delete' }] }]);
  assert.equal((await valueOf('retention.ms'))?.isDefault, true);
  await admin.alterConfigs([{ type: 'topic', name: topic, configs: { 'segment.bytes': '1048576' } }]);
  assert.equal((await valueOf('segment.bytes'))?.value, '1048576');
  const broker1 = await admin.describeConfigs([{ type: 'broker', name: '1' }]);
  assert.ok(broker1[0].configs.length > 10);
});

test('offsets and records: list offsets (earliest, latest, by time), delete records, describe log dirs, describe cluster', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap] });
  await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic, value: `v${i}`, timestamp: 1_000_000 + i * 10 })));
  await producer.close();
  assert.deepEqual(await admin.listOffsets(topic, OffsetSpec.latest), [{ topic, partition: 0, offset: 10n }]);
  assert.deepEqual(await admin.listOffsets(topic, OffsetSpec.earliest), [{ topic, partition: 0, offset: 0n }]);
  assert.deepEqual(await admin.listOffsets(topic, 1_000_045n), [{ topic, partition: 0, offset: 5n }]);
  assert.deepEqual(await admin.deleteRecords(topic, [{ partition: 0, offset: 4n }]), [{ topic, partition: 0, offset: 4n }]);
  assert.deepEqual(await admin.listOffsets(topic, OffsetSpec.earliest), [{ topic, partition: 0, offset: 4n }]);
  const dirs = await admin.describeLogDirs();
  const ours = dirs.flatMap((d) => d.partitions).find((p) => p.topic === topic);
  assert.ok(ours !== undefined && ours.size > 0n);
  const cluster = await admin.describeCluster();
  assert.equal(cluster.brokers.length, 1);
  assert.equal(cluster.brokers[0].port, broker.port);
  assert.ok(cluster.clusterId.length > 0);
});

test('consumer groups: list, describe, list/alter/delete offsets, delete', { timeout: 120_000 }, async (t) => {
  const { broker, admin } = await withBroker(t, { 'group.initial.rebalance.delay.ms': 0 });
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  const consumer = new Consumer({ brokers: [broker.bootstrap], groupId: 'admin-group', clientId: 'admin-test-client', heartbeatIntervalMs: 200 });
  await consumer.subscribe([topic]);
  const running = (async () => {
    for await (const _ of consumer) break;
  })();
  await waitFor(() => consumer.assignment().length === 2, 60_000, 'assignment');
  const groups = await admin.listGroups();
  assert.deepEqual(groups.map((g) => g.groupId), ['admin-group']);
  const [g] = await admin.describeGroups(['admin-group']);
  assert.equal(g.protocol, 'cooperative-sticky');
  assert.equal(g.members.length, 1);
  assert.equal(g.members[0].clientId, 'admin-test-client');
  assert.deepEqual(g.members[0].assignment, [{ topic, partitions: [0, 1] }]);
  await consumer.commit([{ topic, partition: 0, offset: 3n }, { topic, partition: 1, offset: 5n }]);
  assert.deepEqual(await admin.listConsumerGroupOffsets('admin-group'), [
    { topic, partition: 0, offset: 3n },
    { topic, partition: 1, offset: 5n },
  ]);
  // Offsets of an active group cannot be altered; after the member leaves they can.
  await assert.rejects(admin.alterConsumerGroupOffsets('admin-group', [{ topic, partition: 0, offset: 1n }]), KafkaError);
  await assert.rejects(admin.deleteGroups(['admin-group']), (e: unknown) => e instanceof KafkaError && e.errorName === 'NON_EMPTY_GROUP');
  await consumer.close();
  await running;
  await admin.alterConsumerGroupOffsets('admin-group', [{ topic, partition: 0, offset: 1n }]);
  await admin.deleteConsumerGroupOffsets('admin-group', topic, [1]);
  assert.deepEqual(await admin.listConsumerGroupOffsets('admin-group', [topic]), [{ topic, partition: 0, offset: 1n }]);
  await admin.deleteGroups(['admin-group']);
  assert.deepEqual(await admin.listGroups(), []);
});
