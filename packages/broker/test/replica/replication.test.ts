/**
 * Replication between in-process brokers sharing an InMemoryClusterMetadata: followers fetch from
 * the leader over Kafka's Fetch (ReplicaFetcherThread), the HW follows the ISR, the ISR shrinks
 * and expands through alterPartition, min.insync.replicas, and truncation on a leader change.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch, iterateRecordBatches } from '@sluice/protocol';
import type { PartitionLog } from '@sluice/storage';
import { RawClient, startTestBroker } from '../helpers.js';
import { settle, startCluster } from './cluster.js';

const batch = (n = 1, tag = 'v') => buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}${i}`), timestamp: BigInt(Date.now()) })));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The log's batches below `upTo`, as stored. */
async function bytesOf(log: PartitionLog, upTo: bigint): Promise<Buffer> {
  const r = await log.read(log.logStartOffset, 1 << 30, { maxOffset: upTo });
  return Buffer.from(r.records);
}

const FAST = { 'replica.fetch.wait.max.ms': 100, 'replica.fetch.backoff.ms': 50 };

async function createRf3(t: TestContext, name: string, options: Record<string, string | number | boolean> = {}, configs: Record<string, string> = {}) {
  const { cluster, brokers } = await startCluster(t, [1, 2, 3], { ...FAST, ...options });
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs });
  await settle(brokers);
  return { cluster, brokers, ctx, partitions: ctx.map((c) => c.replicaManager.getPartition(name, 0)!) };
}

test('acks=all completes once both followers have the batch; the three logs are byte-identical; consumers see only below the HW', async (t) => {
  const { brokers, partitions } = await createRf3(t, 'rep');
  const [leader, f2, f3] = partitions;
  assert.equal(leader.role, 'leader');
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  for (let i = 0; i < 20; i++) {
    const r = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'rep', partitionData: [{ index: 0, records: batch(5, `b${i}-`) }] }] });
    const pr = r.responses[0].partitionResponses[0];
    assert.deepEqual([pr.errorCode, pr.baseOffset], [ErrorCode.NONE, BigInt(i * 5)]);
    // Answered only once every ISR member had it: the HW is past it, so both followers fetched it.
    assert.ok(leader.highWatermark >= BigInt(i * 5 + 5));
    assert.ok(f2.logEndOffset >= BigInt(i * 5 + 5) && f3.logEndOffset >= BigInt(i * 5 + 5), 'both followers have the batch');
  }
  const hw = leader.highWatermark;
  assert.equal(hw, 100n);
  const expected = await bytesOf(leader.log, hw);
  assert.ok(expected.length > 0);
  assert.ok(expected.equals(await bytesOf(f2.log, hw)), 'follower 2 holds the leader bytes');
  assert.ok(expected.equals(await bytesOf(f3.log, hw)), 'follower 3 holds the leader bytes');
  assert.deepEqual(f2.log.endOffsetForEpoch(leader.leaderEpoch), leader.log.endOffsetForEpoch(leader.leaderEpoch), 'the follower epoch cache has the leader epochs');
  await waitFor('followers learn the HW', () => f2.highWatermark === hw && f3.highWatermark === hw);

  // acks=1 written while the followers are behind: a consumer reading the leader stops at the HW.
  const f = await c.send(ApiKey.Fetch, 12, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'rep', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
  const fp = f.responses[0].partitions[0];
  assert.equal(fp.errorCode, ErrorCode.NONE);
  assert.ok(fp.records!.equals(expected), 'a consumer gets exactly the committed bytes');

  // A consumer fetch to a follower is refused before v11 (no client metadata); from v11 a follower
  // serves it up to its own HW (KIP-392), as Kafka does.
  const cf = await RawClient.connect(brokers[1].broker.port);
  t.after(() => cf.close());
  const ff = await cf.send(ApiKey.Fetch, 10, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'rep', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
  assert.equal(ff.responses[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const ff12 = (await cf.send(ApiKey.Fetch, 12, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'rep', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' })).responses[0].partitions[0];
  assert.equal(ff12.errorCode, ErrorCode.NONE);
  assert.equal(ff12.highWatermark, hw);
  assert.ok(ff12.records!.equals(expected), 'the follower serves exactly the committed bytes');

  // A replica fetch from a broker outside the replica set is refused.
  const rf = await c.send(ApiKey.Fetch, 12, { replicaId: 7, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'rep', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
  assert.equal(rf.responses[0].partitions[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('a stopped follower stalls acks=all until the ISR shrinks; min.insync.replicas=2 then refuses; restarted, it catches up and rejoins', async (t) => {
  const { cluster, brokers, partitions } = await createRf3(t, 'lag', { 'replica.lag.time.max.ms': 600 }, { 'min.insync.replicas': '2' });
  const leader = partitions[0];
  const rm = brokers[0].broker.context.replicaManager;
  const first = await rm.appendRecords(leader, batch(3), { acks: -1, timeoutMs: 5000, origin: 'client' });
  assert.equal(first.errorCode, ErrorCode.NONE);

  // Broker 3 hangs: alive, registered, hosting its replica, but no longer fetching.
  const rm3 = brokers[2].broker.context.replicaManager;
  rm3.replicaFetcherManager!.removeFetcherForPartition('lag', 0);
  const started = Date.now();
  const stalled = await rm.appendRecords(leader, batch(2), { acks: -1, timeoutMs: 5000, origin: 'client' });
  assert.equal(stalled.errorCode, ErrorCode.NONE, 'completes once the ISR drops broker 3');
  assert.ok(Date.now() - started >= 300, `stalled until the shrink (${Date.now() - started} ms)`);
  await settle(brokers);
  assert.deepEqual([...leader.isr].sort(), [1, 2]);
  assert.deepEqual([...cluster.storeFor(1).topic('lag')!.partitions[0].isr!].sort(), [1, 2], 'the shrink went through the metadata');

  // Broker 2 hangs as well: ISR = {1} < min.insync.replicas = 2.
  brokers[1].broker.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('lag', 0);
  await waitFor('ISR shrinks to the leader', () => leader.isr.length === 1, 5000);
  const endBefore = leader.logEndOffset;
  const refused = await rm.appendRecords(leader, batch(1), { acks: -1, timeoutMs: 1000, origin: 'client' });
  assert.equal(refused.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(leader.logEndOffset, endBefore, 'refused before appending');
  const acks1 = await rm.appendRecords(leader, batch(4), { acks: 1, timeoutMs: 1000, origin: 'client' });
  assert.equal(acks1.errorCode, ErrorCode.NONE, 'acks=1 still works');

  // Broker 3 recovers: fetching again, it catches up (9 records behind) and rejoins the ISR.
  const p3 = rm3.getPartition('lag', 0)!;
  assert.equal(p3.logEndOffset, 3n);
  rm3.replicaFetcherManager!.addFetcherForPartition(p3);
  await waitFor('broker 3 rejoins the ISR', () => leader.isr.includes(3), 10_000);
  assert.equal(p3.logEndOffset, leader.logEndOffset);
  assert.ok((await bytesOf(leader.log, leader.logEndOffset)).equals(await bytesOf(p3.log, leader.logEndOffset)));
  assert.ok(cluster.storeFor(1).topic('lag')!.partitions[0].isr!.includes(3), 'the expansion is recorded in the metadata');
  const ok = await rm.appendRecords(leader, batch(1), { acks: -1, timeoutMs: 5000, origin: 'client' });
  assert.equal(ok.errorCode, ErrorCode.NONE, 'ISR {1,3} meets min.insync.replicas=2');

  // Broker 2 restarts for real on its data directory: it catches up and rejoins too.
  const dir2 = brokers[1].dataDir;
  await brokers[1].stop();
  const b2 = await startTestBroker({ ...FAST, 'replica.lag.time.max.ms': 600, metadataStore: cluster.storeFor(2), nodeId: 2 }, dir2);
  brokers[1] = b2; // The cluster's teardown stops it and removes its directory.
  await waitFor('restarted broker 2 rejoins the ISR', () => leader.isr.includes(2), 10_000);
  const p2 = b2.broker.context.replicaManager.getPartition('lag', 0)!;
  assert.ok((await bytesOf(leader.log, leader.logEndOffset)).equals(await bytesOf(p2.log, leader.logEndOffset)));
});

test('leader change: the old leader truncates its uncommitted acks=1 records (from the DivergingEpoch of its first fetch) and ends byte-identical', async (t) => {
  const { cluster, brokers, partitions } = await createRf3(t, 'lc', { 'replica.lag.time.max.ms': 60_000 });
  const [p1, old2] = partitions;
  const rm1 = brokers[0].broker.context.replicaManager;
  assert.equal((await rm1.appendRecords(p1, batch(10, 'c'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  const committed = p1.highWatermark;
  assert.equal(committed, 10n);
  const committedBytes = await bytesOf(p1.log, committed);

  // Cut the followers off the leader: they stop following (stopReplica keeps their logs), so the
  // old leader's next acks=1 writes reach no one.
  const store = cluster.storeFor(1);
  brokers[1].broker.context.replicaManager.stopReplica('lc', 0);
  brokers[2].broker.context.replicaManager.stopReplica('lc', 0);
  for (let i = 0; i < 3; i++) assert.equal((await rm1.appendRecords(p1, batch(4, `x${i}`), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p1.logEndOffset, 22n);
  assert.equal(old2.logEndOffset, 10n);

  // The test plays the controller: broker 2 leads (epoch + 1), ISR {2,3}. Broker 2 and 3 pick the
  // change up from the metadata; the reconciler makes broker 1 a follower.
  const state = store.topic('lc')!.partitions[0];
  await store.alterPartition('lc', 0, state.partitionEpoch!, { leader: 2, isr: [2, 3] });
  await settle(brokers);
  // The reconciler re-hosts the replicas stopped above (as a restart would) in their new roles.
  const p2 = brokers[1].broker.context.replicaManager.getPartition('lc', 0)!;
  const p3 = brokers[2].broker.context.replicaManager.getPartition('lc', 0)!;
  assert.equal(p2.role, 'leader');
  assert.equal(p3.role, 'follower');
  assert.equal(p1.role, 'follower');
  const rm2 = brokers[1].broker.context.replicaManager;
  assert.equal((await rm2.appendRecords(p2, batch(2, 'n'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE, 'ISR {2,3} commits');

  // The old leader truncates its 12 divergent records to 10 and fetches the new leader's.
  await waitFor('old leader converges on the new leader', () => p1.logEndOffset === p2.logEndOffset && p1.log.latestEpoch === p2.leaderEpoch, 10_000);
  assert.equal(p1.logEndOffset, 12n);
  const all = await bytesOf(p2.log, p2.logEndOffset);
  assert.ok(all.equals(await bytesOf(p1.log, p1.logEndOffset)), 'old leader byte-identical with the new one');
  assert.ok(all.equals(await bytesOf(p3.log, p3.logEndOffset)));
  assert.ok(all.subarray(0, committedBytes.length).equals(committedBytes), 'every committed record kept');
  await waitFor('old leader rejoins the ISR', () => p2.isr.includes(1), 5000);
});

test('a producer at acks=-1 through @sluice/client: everything reads back from the leader', async (t) => {
  const { brokers, partitions } = await createRf3(t, 'cli');
  const { Kafka } = await import('@sluice/client');
  const kafka = new Kafka({ clientId: 'rep-test', brokers: [`127.0.0.1:${brokers[0].broker.port}`] });
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  for (let i = 0; i < 10; i++) await producer.send({ topic: 'cli', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `m${i * 10 + j}` })) });
  const leader = partitions[0];
  assert.equal(leader.highWatermark, 100n);
  for (const p of partitions.slice(1)) assert.ok(p.logEndOffset >= 100n);
  // Read back from the leader as a consumer: every record, in order, nothing above the HW.
  const c = await RawClient.connect(brokers[0].broker.port);
  t.after(() => c.close());
  const f = await c.send(ApiKey.Fetch, 12, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'cli', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
  const seen: string[] = [];
  for (const b of iterateRecordBatches(f.responses[0].partitions[0].records!)) for (const r of b.records) seen.push(r.value!.toString());
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => `m${i}`));
});


test('a follower behind the leader\'s log start restarts its log there (OFFSET_OUT_OF_RANGE) and catches up', async (t) => {
  const { brokers, partitions } = await createRf3(t, 'start');
  const [leader, , p3] = partitions;
  const rm = brokers[0].broker.context.replicaManager;
  const fm3 = brokers[2].broker.context.replicaManager.replicaFetcherManager!;
  assert.equal((await rm.appendRecords(leader, batch(5), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  fm3.removeFetcherForPartition('start', 0);
  for (let i = 0; i < 4; i++) await rm.appendRecords(leader, batch(5), { acks: 1, timeoutMs: 0, origin: 'client' });
  // Broker 3 is still in the ISR (lag time 30 s) and holds the HW at 5: the test drops it from the
  // ISR as the lag check would, so the HW (and DeleteRecords) can pass it.
  assert.equal(p3.logEndOffset, 5n);
  await brokers[0].broker.context.metadata.alterPartition('start', 0, leader.state.partitionEpoch, { isr: [1, 2] });
  await settle(brokers);
  await waitFor('HW reaches the log end', () => leader.highWatermark === 25n);
  assert.equal(await leader.deleteRecordsBefore(15n), 15n);
  fm3.addFetcherForPartition(p3);
  await waitFor('broker 3 caught up from the leader\'s log start', () => p3.logEndOffset === 25n && leader.isr.includes(3), 10_000);
  assert.equal(p3.logStartOffset, 15n);
  assert.ok((await bytesOf(leader.log, 25n)).equals(await bytesOf(p3.log, 25n)));
});

test('an acks=all produce whose ISR shrinks below min.insync.replicas while it waits answers NOT_ENOUGH_REPLICAS_AFTER_APPEND', async (t) => {
  const { brokers, partitions } = await createRf3(t, 'after', {}, { 'min.insync.replicas': '2' });
  const leader = partitions[0];
  for (const b of brokers.slice(1)) b.broker.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('after', 0);
  const waiting = brokers[0].broker.context.replicaManager.appendRecords(leader, batch(2), { acks: -1, timeoutMs: 10_000, origin: 'client' });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(leader.logEndOffset, 2n, 'appended: the ISR had 3 replicas');
  await brokers[0].broker.context.metadata.alterPartition('after', 0, leader.state.partitionEpoch, { isr: [1] });
  const done = await waiting;
  assert.equal(done.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
});
