/** MetadataReconciler: every broker sharing one metadata store makes its replicas what the metadata says. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { RawClient } from '../helpers.js';
import { settle, startCluster } from './cluster.js';

test('a topic created on one broker appears on both with the right roles; Metadata reports brokers, controller and ISR from the store', async (t) => {
  const { brokers } = await startCluster(t, [1, 2]);
  const [b1, b2] = brokers.map((b) => b.broker.context);
  const c2 = await RawClient.connect(brokers[1].broker.port);
  t.after(() => c2.close());
  const created = await c2.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'shared', numPartitions: 3, replicationFactor: 2, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  // Answered only once broker 2 applied it; broker 1 applies it on its own.
  assert.ok(b2.topics.get('shared'));
  await settle(brokers);
  assert.ok(b1.topics.get('shared'));
  for (let p = 0; p < 3; p++) {
    const leader = b1.topics.get('shared')!.partitions[p].leader;
    for (const b of [b1, b2]) assert.equal(b.replicaManager.getPartition('shared', p)!.role, b.nodeId === leader ? 'leader' : 'follower', `partition ${p} on broker ${b.nodeId}`);
  }
  const c1 = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c1.close());
  const md = await c1.send(ApiKey.Metadata, 12, { topics: [{ name: 'shared' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.deepEqual(md.brokers.map((b) => [b.nodeId, b.port]), [[1, brokers[0].broker.port], [2, brokers[1].broker.port]]);
  assert.equal(md.controllerId, 1, 'the store names the controller');
  for (const p of md.topics[0].partitions) assert.deepEqual([...p.isrNodes].sort(), [1, 2]);
});

test('partitions added, configs changed and the topic deleted on one broker are applied on the other', async (t) => {
  const { brokers } = await startCluster(t, [1, 2]);
  const [b1, b2] = brokers.map((b) => b.broker.context);
  await b1.topics.create({ name: 'grow', numPartitions: 1, replicationFactor: 2 });
  await b2.topics.addPartitions('grow', 2, null, false);
  await b2.topics.setTopicConfigs('grow', { 'retention.ms': '1234' });
  await settle(brokers);
  assert.equal(b1.replicaManager.getPartition('grow', 1)!.config.retentionMs, 1234);
  assert.equal(b1.topics.get('grow')!.partitions.length, 2);
  await b2.topics.delete('grow');
  await settle(brokers);
  assert.equal(b1.topics.get('grow'), undefined);
  assert.equal(b1.replicaManager.getPartition('grow', 0), undefined);
  assert.equal(b1.replicaManager.lookup('grow', 0).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('a partition moved off a broker stops its replica there; replication factor is bounded by the registered brokers', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2]);
  const [b1] = brokers.map((b) => b.broker.context);
  await assert.rejects(b1.topics.create({ name: 'wide', numPartitions: 1, replicationFactor: 3 }), (err: { code?: number }) => err.code === ErrorCode.INVALID_REPLICATION_FACTOR);
  await b1.topics.create({ name: 'm', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
  await settle(brokers);
  const store = cluster.storeFor(1);
  await store.alterPartition('m', 0, 0, { leader: 2, isr: [2], replicas: [2] });
  await settle(brokers);
  assert.equal(b1.replicaManager.getPartition('m', 0), undefined);
  assert.equal(brokers[1].broker.context.replicaManager.getPartition('m', 0)!.role, 'leader');
});

test('group shards follow leadership of __consumer_offsets partitions', async (t) => {
  const { brokers } = await startCluster(t, [1, 2]);
  const [b1, b2] = brokers.map((b) => b.broker);
  await b1.context.topics.create({ name: '__consumer_offsets', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }], configs: { 'cleanup.policy': 'compact' } });
  await settle(brokers);
  // Partition 0 is led by broker 1, partition 1 by broker 2.
  const groupOn = (partition: number) => {
    for (let i = 0; ; i++) if (b1.groups.partitionFor(`g${i}`) === partition) return `g${i}`;
  };
  const deadline = Date.now() + 5000;
  while ((!b1.groups.activeShard(groupOn(0)) || !b2.groups.activeShard(groupOn(1))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(b1.groups.activeShard(groupOn(0)));
  assert.ok(b2.groups.activeShard(groupOn(1)));
  assert.equal(b1.groups.activeShard(groupOn(1)), undefined, 'broker 1 follows partition 1: its shard is unloaded');
  assert.equal(b2.groups.activeShard(groupOn(0)), undefined);
});
