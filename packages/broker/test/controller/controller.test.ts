/** The controller over in-process brokers sharing InMemoryClusterMetadata (expireBroker plays a lease that ran out). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { RawClient } from '../helpers.js';
import { settle, startCluster, stateOf, until } from '../replica/cluster.js';

test('a leader whose session ends is replaced from the ISR with a new leader epoch; the controller itself fails over', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3]);
  const [b1, b2, b3] = brokers.map((b) => b.broker.context);
  await b1.topics.create({ name: 'fo', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1, 3] }] });
  await settle(brokers);
  assert.equal(cluster.controllerId(), 1);
  const firstEpoch = cluster.controllerEpoch();

  await cluster.expireBroker(2);
  await until('broker 1 elected', () => stateOf(cluster, 'fo').leader === 1);
  assert.deepEqual(stateOf(cluster, 'fo'), { ...stateOf(cluster, 'fo'), leader: 1, leaderEpoch: 1, isr: [1, 3] });
  await settle(brokers);
  assert.equal(b1.replicaManager.getPartition('fo', 0)!.role, 'leader');
  assert.equal(b2.replicaManager.getPartition('fo', 0)!.role, 'follower', 'the old leader heard it too');

  // The controller goes: broker 3 (the lowest live id) takes over with a higher epoch and acts.
  await cluster.expireBroker(1);
  await until('broker 3 elected', () => stateOf(cluster, 'fo').leader === 3);
  assert.equal(cluster.controllerId(), 3);
  assert.ok(cluster.controllerEpoch() > firstEpoch);
  assert.deepEqual(stateOf(cluster, 'fo').isr, [3]);
  await settle(brokers);
  assert.equal(b3.replicaManager.getPartition('fo', 0)!.role, 'leader');

  // A write guarded by a deposed controller's epoch never lands.
  const s = stateOf(cluster, 'fo');
  await assert.rejects(cluster.storeFor(1).alterPartition('fo', 0, s.partitionEpoch, { isr: [3] }, { controllerEpoch: firstEpoch }), (err: { code?: number }) => err.code === ErrorCode.NOT_CONTROLLER);
});

test('with no live ISR member a partition goes offline (LEADER_NOT_AVAILABLE, offline replicas) and comes back when one returns; unclean election when enabled', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2]);
  const [b1, b2] = brokers.map((b) => b.broker.context);
  await b1.topics.create({ name: 'solo', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2] }] });
  await b1.topics.create({ name: 'lossy', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }], configs: { 'unclean.leader.election.enable': 'true' } });
  await settle(brokers);
  // 'lossy': the follower fell out of the ISR before the leader went (and stopped fetching, or it would rejoin).
  b1.replicaManager.replicaFetcherManager!.removeFetcherForPartition('lossy', 0);
  const l = stateOf(cluster, 'lossy');
  await cluster.storeFor(2).alterPartition('lossy', 0, l.partitionEpoch, { isr: [2] });

  await cluster.expireBroker(2);
  await until('solo offline', () => stateOf(cluster, 'solo').leader === -1);
  await until('lossy led by 1', () => stateOf(cluster, 'lossy').leader === 1);
  assert.deepEqual(stateOf(cluster, 'solo').isr, [2], 'the ISR keeps its last member');
  assert.deepEqual(stateOf(cluster, 'lossy').isr, [1]);

  const client = await RawClient.connect(brokers[0].broker.port);
  t.after(() => client.close());
  await settle(brokers);
  const md = await client.send(ApiKey.Metadata, 12, { topics: [{ name: 'solo' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics[0].partitions[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
  assert.deepEqual(md.topics[0].partitions[0].offlineReplicas, [2]);
  assert.deepEqual(md.brokers.map((b) => b.nodeId), [1]);

  // Broker 2 registers again (a restart): it is the last ISR member, so it leads 'solo' again.
  await b2.metadata.registerBroker({ nodeId: 2, host: '127.0.0.1', port: brokers[1].broker.port, rack: null });
  await until('solo back', () => stateOf(cluster, 'solo').leader === 2);
  assert.equal(stateOf(cluster, 'solo').leaderEpoch, 2, 'offline and back: two leader epochs');
});

test('controlled shutdown moves leadership to a live ISR member before the broker stops', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3]);
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'cs', numPartitions: -1, replicationFactor: -1, assignments: [0, 1, 2].map((i) => ({ partitionIndex: i, brokerIds: [[3, 1, 2], [1, 3, 2], [2, 1, 3]][i] })) });
  await settle(brokers);
  await brokers[2].stop();
  assert.equal(stateOf(cluster, 'cs', 0).leader, 1, 'moved to the next ISR member in replica order');
  assert.ok(stateOf(cluster, 'cs', 0).leaderEpoch >= 1);
  for (let p = 0; p < 3; p++) assert.ok(!stateOf(cluster, 'cs', p).isr.includes(3), `partition ${p} ISR without 3`);
  assert.ok(!cluster.registrations.has(3), 'unregistered on stop');
});

test('ElectLeaders: preferred election moves leadership back, answers ELECTION_NOT_NEEDED / PREFERRED_LEADER_NOT_AVAILABLE where Kafka does', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3], { 'auto.leader.rebalance.enable': false });
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'pl', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }, { partitionIndex: 2, brokerIds: [3, 1] }] });
  await settle(brokers);
  await cluster.storeFor(1).alterPartition('pl', 0, 0, { leader: 2 });
  await cluster.storeFor(1).alterPartition('pl', 2, 0, { leader: 1, isr: [1] });
  const client = await RawClient.connect(brokers[1].broker.port);
  t.after(() => client.close());
  const all = await client.send(ApiKey.ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 5000 });
  const results = new Map(all.replicaElectionResults.flatMap((r) => r.partitionResult.map((p) => [`${r.topic}-${p.partitionId}`, p.errorCode])));
  assert.equal(results.get('pl-0'), ErrorCode.NONE);
  assert.equal(results.get('pl-1'), undefined, 'partitions needing nothing are left out of an all-partitions election');
  assert.equal(results.get('pl-2'), ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, 'broker 3 is not in the ISR');
  assert.equal(stateOf(cluster, 'pl', 0).leader, 1);
  assert.equal(brokers[1].broker.context.replicaManager.getPartition('pl', 0)!.role, 'follower', 'applied before the answer');
  const one = await client.send(ApiKey.ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 'pl', partitions: [1, 9] }], timeoutMs: 5000 });
  assert.deepEqual(one.replicaElectionResults[0].partitionResult.map((p) => p.errorCode), [ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
});

test('unclean ElectLeaders gives an offline partition a leader; auto leader rebalance returns leadership to preferred replicas', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2], { 'leader.imbalance.check.interval.seconds': 1 });
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'ar', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }, { partitionIndex: 1, brokerIds: [2, 1] }] });
  await settle(brokers);
  // Broker 2's partitions move to broker 1 (as after a restart of 2); the controller moves them back.
  await cluster.storeFor(1).alterPartition('ar', 0, 0, { leader: 1 });
  await cluster.storeFor(1).alterPartition('ar', 1, 0, { leader: 1 });
  await until('leadership rebalanced', () => stateOf(cluster, 'ar', 0).leader === 2 && stateOf(cluster, 'ar', 1).leader === 2, 10_000);

  await b1.topics.create({ name: 'off', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 1] }] });
  const s = stateOf(cluster, 'off');
  await cluster.storeFor(1).alterPartition('off', 0, s.partitionEpoch, { isr: [2] });
  await cluster.expireBroker(2);
  await until('off offline', () => stateOf(cluster, 'off').leader === -1);
  const client = await RawClient.connect(brokers[0].broker.port);
  t.after(() => client.close());
  const r = await client.send(ApiKey.ElectLeaders, 2, { electionType: 1, topicPartitions: [{ topic: 'off', partitions: [0] }], timeoutMs: 5000 });
  assert.equal(r.replicaElectionResults[0].partitionResult[0].errorCode, ErrorCode.NONE);
  assert.deepEqual([stateOf(cluster, 'off').leader, stateOf(cluster, 'off').isr], [1, [1]]);
});
