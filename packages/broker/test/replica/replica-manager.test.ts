/**
 * ReplicaManager and Partition: leadership, the leader-epoch fence, the high watermark (min log end
 * over the ISR, only forward) and acks=all, on two brokers sharing an in-memory metadata store
 * (the second replica's fetcher is removed where a test needs a follower that never fetches;
 * replication itself is tested in replication.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { RawClient } from '../helpers.js';
import { settle, startCluster } from './cluster.js';

const batch = (n = 1) => buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: BigInt(Date.now()) })));

test('roles follow the metadata: NOT_LEADER_OR_FOLLOWER where only a follower or not a replica of a known partition (Kafka\'s getPartitionOrError), UNKNOWN_TOPIC_OR_PARTITION where the metadata has no such partition', async (t) => {
  const { brokers } = await startCluster(t, [1, 2]);
  const [b1, b2] = brokers.map((b) => b.broker.context);
  await b1.topics.create({ name: 'r', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }] });
  await b1.topics.create({ name: 'solo', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
  await settle(brokers);
  assert.equal(b1.replicaManager.getPartition('r', 0)!.role, 'leader');
  assert.equal(b1.replicaManager.getPartition('r', 1)!.role, 'follower');
  assert.equal(b2.replicaManager.getPartition('r', 0)!.role, 'follower');
  assert.equal(b2.replicaManager.getPartition('r', 1)!.role, 'leader');
  assert.deepEqual(b1.replicaManager.getPartition('r', 0)!.isr, [1, 2]);
  assert.equal(b1.replicaManager.lookup('r', 0).errorCode, ErrorCode.NONE);
  assert.equal(b1.replicaManager.lookup('r', 1).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(b2.replicaManager.lookup('solo', 0).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'solo lives on broker 1 only');
  assert.equal(b2.replicaManager.lookup('solo', 1).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'solo has one partition');
  assert.equal(b1.replicaManager.lookup('nope', 0).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  // Over the wire: Produce to the follower is refused with NOT_LEADER_OR_FOLLOWER.
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  const response = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'r', partitionData: [{ index: 1, records: batch() }] }] });
  assert.equal(response.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('acks=all waits for the ISR: REQUEST_TIMED_OUT while a replica does not fetch, done once the ISR shrinks to the leader', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2]);
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'r', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
  await settle(brokers);
  const partition = b1.replicaManager.lookup('r', 0).partition!;
  brokers[1].broker.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('r', 0);

  const timedOut = await b1.replicaManager.appendRecords(partition, batch(2), { acks: -1, timeoutMs: 150, origin: 'client' });
  assert.equal(timedOut.errorCode, ErrorCode.REQUEST_TIMED_OUT);
  assert.equal(partition.logEndOffset, 2n, 'the batch is in the leader log');
  assert.equal(partition.highWatermark, 0n, 'but not committed: replica 2 has not confirmed it');
  const acks1 = await b1.replicaManager.appendRecords(partition, batch(), { acks: 1, timeoutMs: 150, origin: 'client' });
  assert.deepEqual([acks1.errorCode, acks1.baseOffset], [ErrorCode.NONE, 2n]);

  // Over the wire too: the request's timeout bounds the wait.
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  const started = Date.now();
  const response = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: -1, timeoutMs: 200, topicData: [{ name: 'r', partitionData: [{ index: 0, records: batch() }] }] });
  assert.equal(response.responses[0].partitionResponses[0].errorCode, ErrorCode.REQUEST_TIMED_OUT);
  assert.ok(Date.now() - started >= 150);

  // A write waiting for the ISR completes when the ISR shrinks to the leader (the HW moves up).
  const waiting = b1.replicaManager.appendRecords(partition, batch(), { acks: -1, timeoutMs: 10_000, origin: 'client' });
  await new Promise((r) => setTimeout(r, 50));
  await cluster.storeFor(1).alterPartition('r', 0, 0, { isr: [1] });
  await settle(brokers);
  const done = await waiting;
  assert.deepEqual([done.errorCode, done.baseOffset], [ErrorCode.NONE, 4n]);
  assert.equal(partition.highWatermark, 5n);
  assert.deepEqual(partition.isr, [1]);
  // A compare-and-swap on a stale partition epoch is refused with Kafka's code.
  await assert.rejects(cluster.storeFor(1).alterPartition('r', 0, 0, { isr: [1, 2] }), (err: { code?: number }) => err.code === ErrorCode.INVALID_UPDATE_VERSION);
});

test('the high watermark is the smallest log end over the ISR and never moves back', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2]);
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'hw', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
  await settle(brokers);
  brokers[1].broker.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('hw', 0);
  const partition = b1.replicaManager.lookup('hw', 0).partition!;
  await b1.replicaManager.appendRecords(partition, batch(5), { acks: 1, timeoutMs: 0, origin: 'client' });
  assert.equal(partition.highWatermark, 0n);
  partition.updateFollowerEndOffset(2, 3n);
  assert.equal(partition.highWatermark, 3n, 'min(5, 3)');
  partition.updateFollowerEndOffset(2, 1n);
  assert.equal(partition.highWatermark, 3n, 'a lower follower offset does not move it back');
  assert.equal(partition.maybeIncrementLeaderHW(), false);
  await cluster.storeFor(1).alterPartition('hw', 0, 0, { isr: [1] });
  await settle(brokers);
  assert.equal(partition.highWatermark, 5n, 'ISR = {leader}: up to the log end');
});

test('the leader-epoch fence, in one place: FENCED_LEADER_EPOCH for older epochs, UNKNOWN_LEADER_EPOCH for newer', async (t) => {
  const { cluster, brokers } = await startCluster(t, [1, 2]);
  const b1 = brokers[0].broker.context;
  await b1.topics.create({ name: 'e', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
  await settle(brokers);
  brokers[1].broker.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('e', 0);
  const store = cluster.storeFor(1);
  const partition = b1.replicaManager.getPartition('e', 0)!;
  // Leadership moves to broker 2 and back: epoch 2. A write waiting on broker 1 as leader fails when it loses leadership.
  const waiting = b1.replicaManager.appendRecords(partition, batch(), { acks: -1, timeoutMs: 10_000, origin: 'client' });
  await store.alterPartition('e', 0, 0, { leader: 2 });
  await settle(brokers);
  assert.equal((await waiting).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(b1.replicaManager.lookup('e', 0).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(brokers[1].broker.context.replicaManager.lookup('e', 0, 1).errorCode, ErrorCode.NONE);
  await store.alterPartition('e', 0, 1, { leader: 1 });
  await settle(brokers);
  assert.equal(partition.leaderEpoch, 2);
  assert.equal(b1.replicaManager.lookup('e', 0, 2).errorCode, ErrorCode.NONE);
  assert.equal(b1.replicaManager.lookup('e', 0, -1).errorCode, ErrorCode.NONE);
  assert.equal(b1.replicaManager.lookup('e', 0, 1).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(b1.replicaManager.lookup('e', 0, 3).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);

  // The same fence answers Fetch, ListOffsets and OffsetForLeaderEpoch.
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  const topicId = b1.topics.get('e')!.topicId;
  const fetch = await c.send(ApiKey.Fetch, 17, {
    replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: 1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  });
  assert.equal(fetch.responses[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  const offsets = await c.send(ApiKey.ListOffsets, 10, { replicaId: -1, isolationLevel: 0, timeoutMs: 1000, topics: [{ name: 'e', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 3, timestamp: -1n }] }] });
  assert.equal(offsets.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  const epochs = await c.send(ApiKey.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 'e', partitions: [{ partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 }] }] });
  assert.equal(epochs.topics[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH);
});
