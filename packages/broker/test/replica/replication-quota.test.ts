/**
 * Replication throttles: the quota's rate measurement (Kafka's Rate over sampled windows), which
 * replicas a `*.replication.throttled.replicas` list names, and over in-process brokers a
 * reassignment's copy held to leader.replication.throttled.rate or follower.replication.throttled.rate,
 * set live through IncrementalAlterConfigs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { ReplicationQuota, isThrottledReplica } from '../../src/replica/replication-quota.js';
import { RawClient } from '../helpers.js';
import { settle, startCluster, stateOf, until } from './cluster.js';

test('the quota measures bytes/s over its windows, counting at least all windows but one, and forgets old windows', () => {
  let now = 0;
  let bound: number | null = 1000;
  const q = new ReplicationQuota({ rate: () => bound, windowMs: 1000, windows: 3 }, () => now);
  assert.equal(q.isQuotaExceeded(), false);
  q.record(1500);
  // One sample, elapsed counted as 2 windows: 750 B/s.
  assert.equal(q.measuredRate(), 750);
  assert.equal(q.isQuotaExceeded(), false);
  q.record(1000);
  assert.equal(q.measuredRate(), 1250);
  assert.equal(q.isQuotaExceeded(), true);
  // 2500 B at 1000 B/s need 2.5 s; 2 s (the minimum elapsed) are counted already.
  assert.equal(q.delayMs(), 500);
  now = 2500;
  // Samples at 0 (2500 B); elapsed 2.5 s → 1000 B/s: not above the bound.
  assert.equal(q.measuredRate(), 1000);
  assert.equal(q.isQuotaExceeded(), false);
  now = 4100;
  // The window that started at 0 has left the 3-window horizon.
  assert.equal(q.measuredRate(), 0);
  bound = null;
  q.record(1e9);
  assert.equal(q.isQuotaExceeded(), false, 'no rate set: never exceeded');
});

test('throttled replica lists: "*" or partition:broker pairs naming the broker that applies the throttle', () => {
  assert.equal(isThrottledReplica(['*'], 3, 7), true);
  assert.equal(isThrottledReplica(['0:1', '1:2'], 0, 1), true);
  assert.equal(isThrottledReplica(['0:1', '1:2'], 0, 2), false);
  assert.equal(isThrottledReplica(['0:1', '1:2'], 1, 2), true);
  assert.equal(isThrottledReplica([], 0, 1), false);
});

const RATE = 2_000_000;
const MB = 6;

async function throttledMove(t: import('node:test').TestContext, side: 'leader' | 'follower'): Promise<{ seconds: number; bytes: number }> {
  // Two one-second windows: a short burst at the start, then the rate.
  const { cluster, brokers } = await startCluster(t, [1, 2], { 'replication.quota.window.num': 2, 'replication.quota.window.size.seconds': 1 });
  const b1 = brokers[0].broker.context;
  const throttledBroker = side === 'leader' ? 1 : 2;
  await b1.topics.create({ name: 'mv', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: { [`${side}.replication.throttled.replicas`]: `0:${throttledBroker}` } });
  await settle(brokers);
  const leader = b1.replicaManager.getPartition('mv', 0)!;
  for (let i = 0; i < MB * 10; i++) {
    const records = buildRecordBatch(Array.from({ length: 100 }, () => ({ key: null, value: Buffer.alloc(1024, i), timestamp: BigInt(Date.now()) })));
    await b1.replicaManager.appendRecords(leader, records, { acks: 1, timeoutMs: 0, origin: 'coordinator' });
  }
  const bytes = leader.sizeInBytes;
  const admin = await RawClient.connect(brokers[throttledBroker - 1].broker.port);
  t.after(() => admin.close());
  const set = await admin.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: String(throttledBroker), configs: [{ name: `${side}.replication.throttled.rate`, configOperation: 0, value: String(RATE) }] }], validateOnly: false });
  assert.equal(set.responses[0].errorCode, ErrorCode.NONE, set.responses[0].errorMessage ?? '');

  const started = performance.now();
  const moved = await admin.send(ApiKey.AlterPartitionReassignments, 0, { timeoutMs: 5000, topics: [{ name: 'mv', partitions: [{ partitionIndex: 0, replicas: [1, 2] }] }] });
  assert.equal(moved.responses[0].partitions[0].errorCode, ErrorCode.NONE);
  await until('the new replica in sync', () => stateOf(cluster, 'mv').addingReplicas.length === 0 && stateOf(cluster, 'mv').isr.includes(2), 60_000);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(brokers[1].broker.context.replicaManager.getPartition('mv', 0)!.logEndOffset, leader.logEndOffset);
  return { seconds, bytes };
}

for (const side of ['leader', 'follower'] as const) {
  test(`${side}.replication.throttled.rate holds a reassignment's copy to the rate (after the first windows' burst)`, { timeout: 90_000 }, async (t) => {
    const { seconds, bytes } = await throttledMove(t, side);
    const rate = bytes / seconds;
    t.diagnostic(`${side} throttle ${RATE} B/s: ${bytes} bytes copied in ${seconds.toFixed(2)} s = ${Math.round(rate)} B/s`);
    // Unthrottled this copy takes well under a second. The first window may burst past the rate
    // (Kafka's Rate counts at least windows - 1 of elapsed time), hence the upper margin.
    assert.ok(seconds > (0.6 * bytes) / RATE, `copied in ${seconds.toFixed(2)} s: not throttled`);
    assert.ok(rate < 1.5 * RATE, `copied at ${Math.round(rate)} B/s, quota ${RATE}`);
  });
}
