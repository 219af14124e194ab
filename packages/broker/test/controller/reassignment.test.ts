/**
 * Partition reassignment (KIP-455) over in-process brokers sharing InMemoryClusterMetadata: the
 * API's state changes, the controller finishing once the new replicas are in sync (the test plays
 * the leader's ISR expansion), cancellation, and the moved-off replica's log deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { RawClient } from '../helpers.js';
import { settle, startCluster, stateOf, until } from '../replica/cluster.js';

test('a reassignment adds the new replicas, finishes once they are in sync, moves leadership and deletes the old replica', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3]);
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'mv', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }] });
  await settle(brokers);
  const client = await RawClient.connect(brokers[2].broker.port);
  t.after(() => client.close());

  const started = await client.send(ApiKey.AlterPartitionReassignments, 0, { timeoutMs: 5000, topics: [{ name: 'mv', partitions: [{ partitionIndex: 0, replicas: [2, 3] }, { partitionIndex: 1, replicas: [9, 1] }] }] });
  assert.deepEqual(started.responses[0].partitions.map((p) => p.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REPLICA_ASSIGNMENT]);
  assert.deepEqual([stateOf(cluster, 'mv').replicas, stateOf(cluster, 'mv').addingReplicas, stateOf(cluster, 'mv').removingReplicas], [[2, 3, 1], [3], [1]]);
  assert.equal(brokers[2].broker.context.replicaManager.getPartition('mv', 0)!.role, 'follower', 'the new replica exists on broker 3 and follows');
  const listed = await client.send(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null });
  assert.deepEqual(listed.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.replicas, p.addingReplicas, p.removingReplicas])]), [['mv', [[0, [2, 3, 1], [3], [1]]]]]);

  // Broker 3 catches up and the leader adds it to the ISR: the controller finishes the move.
  const s = stateOf(cluster, 'mv');
  await cluster.storeFor(1).alterPartition('mv', 0, s.partitionEpoch, { isr: [1, 2, 3] });
  await until('reassignment finished', () => stateOf(cluster, 'mv').addingReplicas.length === 0);
  const done = stateOf(cluster, 'mv');
  assert.deepEqual([done.replicas, done.isr, done.leader, done.removingReplicas], [[2, 3], [2, 3], 2, []]);
  await settle(brokers);
  assert.equal(b1.replicaManager.getPartition('mv', 0), undefined, 'broker 1 no longer hosts it');
  await until('old log deleted', () => !existsSync(join(brokers[0].dataDir, 'mv-0')));
  assert.equal(brokers[1].broker.context.replicaManager.getPartition('mv', 0)!.role, 'leader');
});

test('a reassignment can be cancelled back to the original replicas; cancelling nothing is NO_REASSIGNMENT_IN_PROGRESS; dropping a replica finishes at once', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3]);
  await brokers[0].broker.context.topics.create({ name: 'cx', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [1, 2, 3] }] });
  await settle(brokers);
  const client = await RawClient.connect(brokers[0].broker.port);
  t.after(() => client.close());
  const alter = (partitionIndex: number, replicas: number[] | null) => client.send(ApiKey.AlterPartitionReassignments, 0, { timeoutMs: 5000, topics: [{ name: 'cx', partitions: [{ partitionIndex, replicas }] }] });

  assert.equal((await alter(0, [3, 2])).responses[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(stateOf(cluster, 'cx').addingReplicas, [3]);
  assert.equal((await alter(0, null)).responses[0].partitions[0].errorCode, ErrorCode.NONE);
  const back = stateOf(cluster, 'cx');
  // As Kafka's revert: the original replicas in their order within the merged list.
  assert.deepEqual([back.replicas, back.addingReplicas, back.removingReplicas, back.leader], [[2, 1], [], [], 1]);
  await settle(brokers);
  assert.equal(brokers[2].broker.context.replicaManager.getPartition('cx', 0), undefined, 'the cancelled new replica is gone from broker 3');
  assert.equal((await alter(0, null)).responses[0].partitions[0].errorCode, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);

  // Lowering the replication factor adds nothing: it finishes at once, leadership moving off the removed leader.
  assert.equal((await alter(1, [3, 2])).responses[0].partitions[0].errorCode, ErrorCode.NONE);
  const lowered = stateOf(cluster, 'cx', 1);
  assert.deepEqual([lowered.replicas, lowered.isr, lowered.leader, lowered.addingReplicas], [[3, 2], [2, 3], 3, []], "the new preferred replica leads");
});
