/**
 * The group coordinator shard on a mock clock and an in-memory partition: session expiry,
 * rebalance and sync timeouts, the initial delay, offset expiration and reloading, without sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { silentLogger } from '../../src/logger.js';
import { CoordinatorRuntime } from '../../src/coordinator/runtime.js';
import { GroupCoordinatorShard } from '../../src/groups/group-coordinator-shard.js';
import type { JoinResult } from '../../src/groups/group.js';
import type { JoinRequest } from '../../src/groups/requests.js';
import { FakePartition, MockTime, settle } from '../coordinator/fakes.js';

const CONFIG: Record<string, number> = {
  'group.min.session.timeout.ms': 6_000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.initial.rebalance.delay.ms': 3_000,
  'group.max.size': 100,
  'offset.metadata.max.bytes': 4096,
  'offsets.retention.minutes': 60,
  'offsets.retention.check.interval.ms': 60_000,
};

async function setup(partition = new FakePartition(), time = new MockTime()) {
  const runtime = new CoordinatorRuntime<GroupCoordinatorShard>({
    topic: '__consumer_offsets',
    log: silentLogger,
    partition: () => partition,
    newShard: (context) =>
      new GroupCoordinatorShard(context, {
        config: { int: (key) => CONFIG[key] ?? assert.fail(`no config ${key}`) },
        log: silentLogger,
        partitionCount: (topic) => (topic === 't' ? 3 : undefined),
      }),
    newTimer: () => time.timer(),
  });
  await runtime.onBecomeLeader(0, 0);
  const shard = runtime.shard(0);
  return { runtime, shard, manager: shard.groupMetadataManager, offsets: shard.offsetStore, time, partition };
}

const SESSION = 10_000;
const REBALANCE = 20_000;

function joinRequest(groupId: string, memberId: string, overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId,
    memberId,
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    // v3: no MEMBER_ID_REQUIRED round trip, so a join is one call.
    apiVersion: 3,
    ...overrides,
  };
}

/** Settles promise callbacks and reports whether `p` has resolved, with its value. */
async function peek<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  void p.then((value) => (out = { done: true, value }));
  await settle();
  return out;
}

/** A new group of one member, Stable at generation 1 (after the initial delay). */
async function stableGroupOfOne(env: Awaited<ReturnType<typeof setup>>, groupId: string, overrides: Partial<JoinRequest> = {}) {
  const joining = env.manager.join(joinRequest(groupId, '', overrides));
  assert.equal((await peek(joining)).done, false, 'the first join waits for the initial delay');
  env.time.advance(CONFIG['group.initial.rebalance.delay.ms']);
  const joined = await joining;
  assert.equal(joined.errorCode, ErrorCode.NONE);
  assert.equal(joined.generationId, 1);
  const synced = await env.manager.sync({ groupId, generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all') }] });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  assert.equal(env.manager.groups.get(groupId)!.state, 'Stable');
  return joined.memberId;
}

test('a member that stops heartbeating is removed after its session timeout; heartbeats keep it', async () => {
  const env = await setup();
  const memberId = await stableGroupOfOne(env, 'g');
  const group = env.manager.groups.get('g')!;
  env.time.advance(SESSION - 1);
  assert.equal(env.manager.heartbeatRequest('g', memberId, null, 1), ErrorCode.NONE);
  env.time.advance(SESSION - 1);
  assert.ok(group.members.has(memberId), 'the heartbeat restarted the session');
  env.time.advance(1);
  assert.equal(group.members.has(memberId), false);
  assert.equal(group.state, 'Empty', 'the last member gone: a generation without members');
  assert.equal(group.generationId, 2);
  assert.equal(env.manager.heartbeatRequest('g', memberId, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a member that does not rejoin within the rebalance timeout is removed; the rest form the next generation', async () => {
  const env = await setup();
  // A session longer than the rebalance timeout, so the rebalance timeout is what removes a.
  const a = await stableGroupOfOne(env, 'g', { sessionTimeoutMs: REBALANCE * 2 });
  // b joins: a rebalance starts; a must rejoin within the rebalance timeout.
  const bJoin = env.manager.join(joinRequest('g', ''));
  assert.equal(env.manager.groups.get('g')!.state, 'PreparingRebalance');
  assert.equal(env.manager.heartbeatRequest('g', a, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  env.time.advance(REBALANCE - 1);
  assert.equal((await peek(bJoin)).done, false);
  env.time.advance(1);
  const b = (await bJoin) as JoinResult;
  assert.equal(b.errorCode, ErrorCode.NONE);
  assert.equal(b.generationId, 2);
  assert.equal(b.leader, b.memberId, 'a is gone, so b leads');
  assert.deepEqual(b.members.map((m) => m.memberId), [b.memberId]);
  const group = env.manager.groups.get('g')!;
  assert.equal(group.members.has(a), false);
  assert.equal(group.state, 'CompletingRebalance');
});

test('a rebalance completes as soon as every member has rejoined, without waiting for the timeout', async () => {
  const env = await setup();
  const a = await stableGroupOfOne(env, 'g');
  const bJoin = env.manager.join(joinRequest('g', ''));
  const aJoin = env.manager.join(joinRequest('g', a));
  const [ra, rb] = await Promise.all([aJoin, bJoin]);
  assert.deepEqual([ra.generationId, rb.generationId], [2, 2]);
  assert.equal(ra.leader, a);
  assert.equal(ra.members.length, 2);
});

test('members that never send SyncGroup are removed after the rebalance timeout', async () => {
  const env = await setup();
  const joining = env.manager.join(joinRequest('g', ''));
  env.time.advance(CONFIG['group.initial.rebalance.delay.ms']);
  const { memberId } = await joining;
  assert.equal(env.manager.groups.get('g')!.state, 'CompletingRebalance');
  env.time.advance(REBALANCE);
  assert.equal(env.manager.groups.get('g')!.members.has(memberId), false);
  assert.equal(env.manager.groups.get('g')!.state, 'Empty');
});

test('new members during the initial delay extend it, up to the rebalance timeout', async () => {
  const env = await setup();
  const delay = CONFIG['group.initial.rebalance.delay.ms'];
  const first = env.manager.join(joinRequest('g', ''));
  env.time.advance(delay - 1);
  const second = env.manager.join(joinRequest('g', ''));
  env.time.advance(1);
  assert.equal((await peek(first)).done, false, 'a member joined during the delay: it runs once more');
  env.time.advance(delay);
  const [r1, r2] = await Promise.all([first, second]);
  assert.deepEqual([r1.generationId, r2.generationId], [1, 1]);
});

test('the generation is acknowledged only once its write is committed (the high watermark passes it)', async () => {
  const partition = new FakePartition(false);
  const env = await setup(partition);
  const joining = env.manager.join(joinRequest('g', ''));
  env.time.advance(CONFIG['group.initial.rebalance.delay.ms']);
  const { memberId } = await joining;
  const syncing = env.manager.sync({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId, assignment: Buffer.from('x') }] });
  assert.equal((await peek(syncing)).done, false, 'appended, not yet committed');
  assert.equal(env.manager.groups.get('g')!.state, 'CompletingRebalance');
  partition.commitTo(partition.logEndOffset);
  const synced = await syncing;
  assert.equal(synced.errorCode, ErrorCode.NONE);
  assert.equal(synced.assignment.toString(), 'x');
  assert.equal(env.manager.groups.get('g')!.state, 'Stable');
});

test('committed offsets expire after offsets.retention.minutes, on the shard\'s own timer', async () => {
  const env = await setup();
  const codes = await env.offsets.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, partitions: [{ topic: 't', partition: 1, offset: 42n, leaderEpoch: -1, metadata: null, commitTimestamp: -1 }, { topic: 'nope', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestamp: -1 }] });
  assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.equal(env.offsets.fetchOffsets('simple', [{ name: 't', partitions: [1] }])[0].offset, 42n);
  // Each check is rescheduled once its writes complete, so time moves one check at a time.
  const interval = CONFIG['offsets.retention.check.interval.ms'];
  const checks = (CONFIG['offsets.retention.minutes'] * 60_000) / interval;
  for (let i = 1; i < checks; i++) {
    env.time.advance(interval);
    await settle();
  }
  assert.equal(env.offsets.fetchOffsets('simple', [{ name: 't', partitions: [1] }])[0].offset, 42n, 'not expired a check before the retention');
  env.time.advance(interval);
  await settle();
  assert.equal(env.offsets.fetchOffsets('simple', [{ name: 't', partitions: [1] }])[0].offset, -1n);
  assert.equal(env.manager.groups.has('simple'), false);
});

test('a reloaded shard restores groups and offsets from its partition; restored members get one session to come back', async () => {
  const env = await setup();
  const memberId = await stableGroupOfOne(env, 'g');
  await env.offsets.commitOffsets({ groupId: 'g', generationId: 1, memberId, groupInstanceId: null, retentionTimeMs: -1, partitions: [{ topic: 't', partition: 0, offset: 7n, leaderEpoch: 3, metadata: 'md', commitTimestamp: -1 }] });
  env.runtime.onResign(0);
  await env.runtime.onBecomeLeader(0, 1);
  const shard = env.runtime.shard(0);
  const group = shard.groups.get('g')!;
  assert.equal(group.state, 'Stable');
  assert.equal(group.generationId, 1);
  assert.equal(group.members.get(memberId)!.assignment.toString(), 'all');
  assert.deepEqual(shard.offsetStore.fetchOffsets('g', null), [{ topic: 't', partition: 0, offset: 7n, leaderEpoch: 3, metadata: 'md' }]);
  env.time.advance(SESSION);
  assert.equal(group.members.size, 0, 'the restored member never heartbeated');
});

test('unloading answers parked JoinGroups with NOT_COORDINATOR', async () => {
  const env = await setup();
  const joining = env.manager.join(joinRequest('g', ''));
  env.runtime.onResign(0);
  assert.equal((await joining).errorCode, ErrorCode.NOT_COORDINATOR);
});
