/**
 * The group coordinator over the raw protocol: the join/sync/heartbeat/leave state machine,
 * MEMBER_ID_REQUIRED, static membership, session timeouts, the initial rebalance delay, commits
 * and fetches across versions, admin APIs, the records in __consumer_offsets, restart and expiry,
 * and join completion whichever member's JoinGroup comes last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, iterateRecordBatches } from '@sluice/protocol';
import { RawClient, startTestBroker, tempDir, type TestBroker } from '../helpers.js';
import { decodeCoordinatorKey, decodeGroupMetadataValue, decodeOffsetCommitValue, partitionForGroup } from '../../src/groups/records.js';

const FAST = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100 };
const META = Buffer.from('subscription');

/** A broker and a client; with an explicit dataDir (restart tests) the caller removes the directory. */
async function setup(t: { after(fn: () => unknown): void }, options: Record<string, number | string> = {}, dataDir?: string) {
  const tb = await startTestBroker({ ...FAST, ...options }, dataDir);
  t.after(() => (dataDir ? tb.stop() : tb.dispose()));
  const client = await RawClient.connect(tb.broker.port);
  t.after(() => client.close());
  return { tb, client };
}

async function createTopic(client: RawClient, name: string, partitions: number) {
  const r = await client.send(ApiKey.CreateTopics, 5, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(r.topics[0].errorCode, ErrorCode.NONE);
}

async function join(client: RawClient, groupId: string, memberId: string, extra: { version?: number; instance?: string | null; session?: number; rebalance?: number; protocolType?: string; protocols?: { name: string; metadata: Buffer }[] } = {}) {
  const r = await client.send(ApiKey.JoinGroup, extra.version ?? 5, {
    groupId,
    sessionTimeoutMs: extra.session ?? 10_000,
    rebalanceTimeoutMs: extra.rebalance ?? 5_000,
    memberId,
    groupInstanceId: extra.instance ?? null,
    protocolType: extra.protocolType ?? 'consumer',
    protocols: extra.protocols ?? [{ name: 'range', metadata: META }],
    reason: null,
  });
  return { ...r, generationId: r.generationId ?? -1 };
}

/** JoinGroup v5 the KIP-394 way: MEMBER_ID_REQUIRED first, then the real join. */
async function joinNew(client: RawClient, groupId: string, extra: Parameters<typeof join>[3] = {}) {
  const first = await join(client, groupId, '', extra);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.ok(first.memberId.length > 0);
  return { memberId: first.memberId, response: join(client, groupId, first.memberId, extra) };
}

function sync(client: RawClient, groupId: string, generationId: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[] = [], instance: string | null = null) {
  return client.send(ApiKey.SyncGroup, 3, { groupId, generationId, memberId, groupInstanceId: instance, assignments });
}

function heartbeat(client: RawClient, groupId: string, generationId: number, memberId: string, instance: string | null = null) {
  return client.send(ApiKey.Heartbeat, 3, { groupId, generationId, memberId, groupInstanceId: instance });
}

async function describe(client: RawClient, groupId: string) {
  return (await client.send(ApiKey.DescribeGroups, 5, { groups: [groupId], includeAuthorizedOperations: false })).groups[0];
}

function commit(client: RawClient, groupId: string, generation: number, memberId: string, offsets: [string, number, bigint, string?][], version = 8) {
  const topics = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
  for (const [topic, partition, offset, metadata] of offsets) {
    if (!topics.has(topic)) topics.set(topic, []);
    topics.get(topic)!.push({ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: 0, committedMetadata: metadata ?? null });
  }
  return client.send(ApiKey.OffsetCommit, version, {
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    groupInstanceId: null,
    topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
  });
}

async function fetchOffsets(client: RawClient, groupId: string, topic: string, partitions: number[]) {
  const r = await client.send(ApiKey.OffsetFetch, 7, { groupId, topics: [{ name: topic, partitionIndexes: partitions }], requireStable: true });
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r.topics![0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata] as const);
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('FindCoordinator v0–v6 names this broker and creates __consumer_offsets with the configured partitions', async (t) => {
  const { tb, client } = await setup(t, { 'offsets.topic.num.partitions': 7 });
  const v3 = await client.send(ApiKey.FindCoordinator, 3, { key: 'g', keyType: 0 });
  assert.equal(v3.errorCode, ErrorCode.NONE);
  assert.deepEqual([v3.nodeId, v3.host, v3.port], [tb.broker.nodeId, '127.0.0.1', tb.broker.port]);
  const v0 = await client.send(ApiKey.FindCoordinator, 0, { key: 'g' });
  assert.equal(v0.port, tb.broker.port);
  const v4 = await client.send(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
  assert.deepEqual(v4.coordinators!.map((c) => [c.key, c.errorCode, c.port]), [['a', 0, tb.broker.port], ['b', 0, tb.broker.port]]);
  const txn = await client.send(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['tx'] });
  assert.deepEqual([txn.coordinators![0].errorCode, txn.coordinators![0].port], [ErrorCode.NONE, tb.broker.port]);
  const md = await client.send(ApiKey.Metadata, 12, { topics: [{ name: '__consumer_offsets' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(md.topics[0].isInternal, true);
  assert.equal(md.topics[0].partitions.length, 7);
});

test('a client auto-creating __consumer_offsets through Metadata gets the coordinator\'s topic: compacted, offsets.topic.num.partitions', async (t) => {
  const { tb, client } = await setup(t, { 'offsets.topic.num.partitions': 5, 'num.partitions': 2 });
  const md = await client.send(ApiKey.Metadata, 12, { topics: [{ name: '__consumer_offsets' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(md.topics[0].partitions.length, 5);
  assert.equal(tb.broker.context.topics.get('__consumer_offsets')!.configs['cleanup.policy'], 'compact');
  // The coordinator uses it as is.
  await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 'q', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal((await commit(client, 'g', -1, '', [['q', 0, 3n]])).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const log = tb.broker.context.replicaManager.getPartition('__consumer_offsets', partitionForGroup('g', 5))!.log;
  assert.equal(log.logEndOffset, 1n);
});

test('join/sync/heartbeat/leave: MEMBER_ID_REQUIRED, leader election, rebalance on join and leave, generation checks', async (t) => {
  const { client } = await setup(t);
  const other = await RawClient.connect((client.socket.remotePort as number));
  t.after(() => other.close());
  const g = 'state-machine';

  const a = await joinNew(client, g);
  const ja = await a.response;
  assert.equal(ja.errorCode, ErrorCode.NONE);
  assert.equal(ja.generationId, 1);
  assert.equal(ja.leader, a.memberId);
  assert.equal(ja.protocolName, 'range');
  assert.deepEqual(ja.members.map((m) => m.memberId), [a.memberId]);
  assert.equal((await describe(client, g)).groupState, 'CompletingRebalance');
  const sa = await sync(client, g, 1, a.memberId, [{ memberId: a.memberId, assignment: Buffer.from('all') }]);
  assert.deepEqual([sa.errorCode, sa.assignment.toString()], [ErrorCode.NONE, 'all']);
  assert.equal((await heartbeat(client, g, 1, a.memberId)).errorCode, ErrorCode.NONE);
  let d = await describe(client, g);
  assert.deepEqual([d.groupState, d.protocolType, d.protocolData], ['Stable', 'consumer', 'range']);
  assert.equal(d.members[0].memberAssignment.toString(), 'all');
  assert.equal(d.members[0].clientHost, '/127.0.0.1');

  // A second member: its join parks until the first rejoins.
  const b = await joinNew(other, g);
  // b's join went out on another connection: wait until the coordinator has seen it.
  await until('the rebalance to start', async () => (await describe(client, g)).groupState === 'PreparingRebalance');
  assert.equal((await heartbeat(client, g, 1, a.memberId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal((await describe(client, g)).groupState, 'PreparingRebalance');
  const [ja2, jb2] = await Promise.all([join(client, g, a.memberId), b.response]);
  assert.equal(ja2.generationId, 2);
  assert.equal(jb2.generationId, 2);
  assert.equal(ja2.leader, a.memberId);
  assert.equal(jb2.leader, a.memberId);
  assert.equal(ja2.members.length, 2, 'the leader gets every member');
  assert.equal(jb2.members.length, 0, 'followers get none');
  // The follower's SyncGroup waits for the leader's assignment.
  const followerSync = sync(other, g, 2, b.memberId);
  const leaderSync = await sync(client, g, 2, a.memberId, [
    { memberId: a.memberId, assignment: Buffer.from('A') },
    { memberId: b.memberId, assignment: Buffer.from('B') },
  ]);
  assert.equal(leaderSync.assignment.toString(), 'A');
  assert.equal((await followerSync).assignment.toString(), 'B');
  assert.equal((await heartbeat(other, g, 1, b.memberId)).errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await heartbeat(other, g, 2, 'nobody')).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await sync(other, g, 1, b.memberId)).errorCode, ErrorCode.ILLEGAL_GENERATION);

  // Batched LeaveGroup (v3+): one known, one unknown member.
  const leave = await other.send(ApiKey.LeaveGroup, 5, { groupId: g, members: [{ memberId: b.memberId, groupInstanceId: null, reason: 'bye' }, { memberId: 'ghost', groupInstanceId: null, reason: null }] });
  assert.equal(leave.errorCode, ErrorCode.NONE);
  assert.deepEqual(leave.members!.map((m) => m.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.equal((await heartbeat(client, g, 2, a.memberId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const ja3 = await join(client, g, a.memberId);
  assert.equal(ja3.generationId, 3);
  assert.equal(ja3.members.length, 1);
  // LeaveGroup v0 of the last member empties the group.
  assert.equal((await client.send(ApiKey.LeaveGroup, 0, { groupId: g, memberId: a.memberId })).errorCode, ErrorCode.NONE);
  d = await describe(client, g);
  assert.equal(d.groupState, 'Empty');
  assert.equal(d.members.length, 0);
});

test('join errors: invalid group id and session timeout, inconsistent protocols, unknown member, group.max.size', async (t) => {
  const { client } = await setup(t, { 'group.max.size': 1 });
  assert.equal((await join(client, '', '')).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal((await join(client, 'g', '', { session: 50 })).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await join(client, 'g', '', { session: 2_000_000 })).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await join(client, 'g', '', { protocols: [] })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await join(client, 'g', 'made-up')).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const v0 = await join(client, 'g', '', { version: 0 });
  assert.equal(v0.errorCode, ErrorCode.NONE, 'v0–v3 join at once without MEMBER_ID_REQUIRED');
  assert.equal(v0.generationId, 1);
  assert.equal((await join(client, 'g', '')).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  const other = await RawClient.connect(client.socket.remotePort as number);
  t.after(() => other.close());
  // Protocol type and protocol names must match the group's.
  const { client: c2 } = { client: other };
  assert.equal((await join(c2, 'h', '', { version: 1 })).errorCode, ErrorCode.NONE);
  assert.equal((await join(c2, 'h', '', { version: 1, protocolType: 'connect' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await join(c2, 'h', '', { version: 1, protocols: [{ name: 'roundrobin', metadata: META }] })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test('protocol selection: the protocol every member supports, by vote', async (t) => {
  const { client } = await setup(t);
  const g = 'votes';
  const a = await joinNew(client, g, { protocols: [{ name: 'cooperative-sticky', metadata: META }, { name: 'range', metadata: META }] });
  await a.response;
  const b = await joinNew(client, g, { protocols: [{ name: 'range', metadata: META }, { name: 'roundrobin', metadata: META }] });
  const [ja, jb] = await Promise.all([join(client, g, a.memberId, { protocols: [{ name: 'cooperative-sticky', metadata: META }, { name: 'range', metadata: META }] }), b.response]);
  assert.equal(ja.protocolName, 'range');
  assert.equal(jb.protocolName, 'range');
});

test('session timeout removes a silent member and rebalances; the initial delay gathers early joiners', async (t) => {
  // A delay long enough that the second member's two joins (MEMBER_ID_REQUIRED, then the real one) land in it on a busy machine.
  const { client } = await setup(t, { 'group.initial.rebalance.delay.ms': 1_500 });
  const other = await RawClient.connect(client.socket.remotePort as number);
  t.after(() => other.close());
  const g = 'timeouts';
  const a = await joinNew(client, g, { session: 1000, rebalance: 3000 });
  const b = await joinNew(other, g, { session: 1000, rebalance: 3000 });
  const started = Date.now();
  const [ja, jb] = await Promise.all([a.response, b.response]);
  assert.equal(ja.generationId, 1, 'both joined the first generation');
  assert.equal(jb.generationId, 1);
  assert.ok(Date.now() - started >= 1_300, 'the initial rebalance delay was applied');
  const leader = ja.leader === a.memberId ? { c: client, id: a.memberId } : { c: other, id: b.memberId };
  const follower = leader.id === a.memberId ? { c: other, id: b.memberId } : { c: client, id: a.memberId };
  await Promise.all([sync(leader.c, g, 1, leader.id, []), sync(follower.c, g, 1, follower.id)]);
  // Only the leader keeps heartbeating; the follower's session (1 s) runs out.
  const gone = await until('the follower to be removed', async () => {
    const hb = await heartbeat(leader.c, g, 1, leader.id);
    return hb.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ? hb : null;
  });
  assert.ok(gone);
  const j2 = await join(leader.c, g, leader.id, { session: 1000, rebalance: 3000 });
  assert.equal(j2.generationId, 2);
  assert.deepEqual(j2.members.map((m) => m.memberId), [leader.id]);
  assert.equal((await heartbeat(follower.c, g, 1, follower.id)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a member that does not rejoin within the rebalance timeout is dropped from the generation', async (t) => {
  const { client } = await setup(t);
  const other = await RawClient.connect(client.socket.remotePort as number);
  t.after(() => other.close());
  const g = 'rebalance-timeout';
  const a = await joinNew(client, g, { rebalance: 800 });
  await a.response;
  await sync(client, g, 1, a.memberId, []);
  // b joins; a never rejoins (nor heartbeats), so the join completes after a's rebalance timeout.
  const b = await joinNew(other, g, { rebalance: 800 });
  const jb = await b.response;
  assert.equal(jb.generationId, 2);
  assert.equal(jb.leader, b.memberId);
  assert.deepEqual(jb.members.map((m) => m.memberId), [b.memberId]);
});

test('static membership: a restarted instance takes over without a rebalance; the old member id is fenced', async (t) => {
  // A full group: the restarted instance takes its old slot, so group.max.size does not stop it.
  const { client } = await setup(t, { 'group.max.size': 2 });
  const g = 'static';
  const ja = await join(client, g, '', { instance: 'instance-1' });
  assert.equal(ja.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
  assert.ok(ja.memberId.startsWith('instance-1-'));
  // b's join starts a rebalance and parks; a rejoins, and both get the new generation.
  const other = await RawClient.connect(client.socket.remotePort as number);
  t.after(() => other.close());
  const jbPending = join(other, g, '', { instance: 'instance-2' });
  await until('the rebalance to start', async () => (await describe(client, g)).groupState === 'PreparingRebalance');
  const [ja2, jb] = await Promise.all([join(client, g, ja.memberId, { instance: 'instance-1' }), jbPending]);
  assert.equal(jb.errorCode, ErrorCode.NONE);
  const gen = ja2.generationId;
  assert.equal(gen, 2);
  assert.equal(jb.generationId, 2);
  const follower = ja2.leader === ja.memberId ? { id: jb.memberId, inst: 'instance-2' } : { id: ja.memberId, inst: 'instance-1' };
  const leader = follower.inst === 'instance-1' ? { id: jb.memberId, inst: 'instance-2' } : { id: ja.memberId, inst: 'instance-1' };
  const followerSync = sync(client, g, gen, follower.id, [], follower.inst);
  await sync(client, g, gen, leader.id, [{ memberId: follower.id, assignment: Buffer.from('F') }, { memberId: leader.id, assignment: Buffer.from('L') }], leader.inst);
  assert.equal((await followerSync).assignment.toString(), 'F');
  assert.equal((await describe(client, g)).groupState, 'Stable');

  // The follower's process restarts: same instance id, no member id.
  const restarted = await join(client, g, '', { instance: follower.inst });
  assert.equal(restarted.errorCode, ErrorCode.NONE);
  assert.notEqual(restarted.memberId, follower.id);
  assert.equal(restarted.generationId, gen, 'same generation: no rebalance');
  assert.equal((await describe(client, g)).groupState, 'Stable');
  const s = await sync(client, g, gen, restarted.memberId, [], follower.inst);
  assert.equal(s.assignment.toString(), 'F', 'keeps its assignment');
  assert.equal((await heartbeat(client, g, gen, follower.id, follower.inst)).errorCode, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal((await heartbeat(client, g, gen, restarted.memberId, follower.inst)).errorCode, ErrorCode.NONE);
  const d = await describe(client, g);
  assert.deepEqual(d.members.map((m) => m.groupInstanceId).sort(), ['instance-1', 'instance-2']);

  // Removing a static member by instance id alone (what admin tools do) triggers a rebalance.
  const leave = await client.send(ApiKey.LeaveGroup, 4, { groupId: g, members: [{ memberId: '', groupInstanceId: follower.inst }, { memberId: 'wrong', groupInstanceId: leader.inst }] });
  assert.deepEqual(leave.members!.map((m) => m.errorCode), [ErrorCode.NONE, ErrorCode.FENCED_INSTANCE_ID]);
  assert.equal((await heartbeat(client, g, gen, leader.id, leader.inst)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('offsets: commits across versions, generation checks, metadata limits, fetch of one and several groups', async (t) => {
  const { tb, client } = await setup(t, { 'offset.metadata.max.bytes': 10 });
  await createTopic(client, 'orders', 3);
  // A group without members takes plain commits (generation -1), from v0 on.
  const v0 = await client.send(ApiKey.OffsetCommit, 0, { groupId: 'simple', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: 'v0' }] }] });
  assert.equal(v0.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const r = await commit(client, 'simple', -1, '', [
    ['orders', 1, 7n, 'meta'],
    ['orders', 2, 9n, 'far too long metadata'],
    ['orders', 9, 1n],
    ['missing', 0, 1n],
  ]);
  assert.deepEqual(r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)), [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.deepEqual(await fetchOffsets(client, 'simple', 'orders', [0, 1, 2]), [[0, 5n, 'v0'], [1, 7n, 'meta'], [2, -1n, '']]);
  // v1 fetch, and v2+ with null topics (everything committed).
  const v1 = await client.send(ApiKey.OffsetFetch, 1, { groupId: 'simple', topics: [{ name: 'orders', partitionIndexes: [1] }] });
  assert.equal(v1.topics![0].partitions[0].committedOffset, 7n);
  const all = await client.send(ApiKey.OffsetFetch, 5, { groupId: 'simple', topics: null });
  assert.deepEqual(all.topics!.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex).sort()]), [['orders', [0, 1]]]);
  assert.equal(all.topics![0].partitions.find((p) => p.partitionIndex === 0)!.committedLeaderEpoch, -1);

  // A group with members: only its members, with the current generation, may commit.
  const a = await joinNew(client, 'live');
  const ja = await a.response;
  assert.equal((await commit(client, 'live', ja.generationId, a.memberId, [['orders', 0, 1n]])).topics[0].partitions[0].errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  await sync(client, 'live', ja.generationId, a.memberId, []);
  assert.equal((await commit(client, 'live', ja.generationId, a.memberId, [['orders', 0, 11n]])).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal((await commit(client, 'live', ja.generationId + 1, a.memberId, [['orders', 0, 12n]])).topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await commit(client, 'live', ja.generationId, 'stranger', [['orders', 0, 12n]])).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await commit(client, 'live', -1, '', [['orders', 0, 12n]])).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await commit(client, 'nobody-home', 3, 'x', [['orders', 0, 12n]])).topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  // A plain commit that stores nothing creates no group.
  assert.equal((await commit(client, 'ghost', -1, '', [['missing', 0, 1n]])).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(tb.broker.groups.groups.has('ghost'), false);
  assert.equal(tb.broker.groups.groups.has('nobody-home'), false);

  // v8: several groups in one request, one of them unknown.
  const many = await client.send(ApiKey.OffsetFetch, 8, {
    groups: [
      { groupId: 'simple', topics: [{ name: 'orders', partitionIndexes: [1] }] },
      { groupId: 'live', topics: null },
      { groupId: 'unknown', topics: [{ name: 'orders', partitionIndexes: [0] }] },
    ],
    requireStable: true,
  });
  assert.deepEqual(
    many.groups!.map((g) => [g.groupId, g.errorCode, g.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}@${p.committedOffset}`))]),
    [['simple', 0, ['orders-1@7']], ['live', 0, ['orders-0@11']], ['unknown', 0, ['orders-0@-1']]],
  );
});

test('admin: ListGroups with state filter, DescribeGroups of unknown groups, OffsetDelete and DeleteGroups rules', async (t) => {
  const { client } = await setup(t);
  await createTopic(client, 'a', 1);
  await createTopic(client, 'b', 1);
  await commit(client, 'idle', -1, '', [['a', 0, 1n], ['b', 0, 2n]]);
  const m = await joinNew(client, 'busy', { protocols: [{ name: 'range', metadata: subscription(['a']) }] });
  const jm = await m.response;
  await sync(client, 'busy', jm.generationId, m.memberId, []);
  assert.equal((await commit(client, 'busy', jm.generationId, m.memberId, [['a', 0, 3n], ['b', 0, 4n]])).topics[0].partitions[0].errorCode, ErrorCode.NONE);

  const list = await client.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] });
  assert.deepEqual(list.groups.map((g) => [g.groupId, g.groupState, g.protocolType, g.groupType]).sort(), [
    ['busy', 'Stable', 'consumer', 'classic'],
    ['idle', 'Empty', '', 'classic'],
  ]);
  const stable = await client.send(ApiKey.ListGroups, 4, { statesFilter: ['stable'] });
  assert.deepEqual(stable.groups.map((g) => g.groupId), ['busy']);
  assert.equal((await client.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] })).groups.length, 0);
  assert.equal((await client.send(ApiKey.ListGroups, 0, {})).groups.length, 2);

  const unknown = await describe(client, 'never-seen');
  assert.deepEqual([unknown.errorCode, unknown.groupState, unknown.members.length], [ErrorCode.NONE, 'Dead', 0]);
  const ops = (await client.send(ApiKey.DescribeGroups, 3, { groups: ['busy'], includeAuthorizedOperations: true })).groups[0];
  assert.ok(ops.authorizedOperations! > 0);
  assert.deepEqual(ops.members[0].memberMetadata, subscription(['a']));

  // OffsetDelete: a live consumer group keeps offsets of topics it subscribes to.
  const del = await client.send(ApiKey.OffsetDelete, 0, { groupId: 'busy', topics: [{ name: 'a', partitions: [{ partitionIndex: 0 }] }, { name: 'b', partitions: [{ partitionIndex: 0 }] }] });
  assert.equal(del.errorCode, ErrorCode.NONE);
  assert.deepEqual(del.topics.map((t) => t.partitions[0].errorCode), [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE]);
  assert.deepEqual(await fetchOffsets(client, 'busy', 'b', [0]), [[0, -1n, '']]);
  assert.equal((await client.send(ApiKey.OffsetDelete, 0, { groupId: 'nope', topics: [] })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const idleDel = await client.send(ApiKey.OffsetDelete, 0, { groupId: 'idle', topics: [{ name: 'a', partitions: [{ partitionIndex: 0 }] }] });
  assert.equal(idleDel.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(await fetchOffsets(client, 'idle', 'a', [0]), [[0, -1n, '']]);

  // DeleteGroups: only empty groups.
  const dg = await client.send(ApiKey.DeleteGroups, 2, { groupsNames: ['busy', 'idle', 'idle', 'nope'] });
  assert.deepEqual(dg.results.map((r) => [r.groupId, r.errorCode]), [
    ['busy', ErrorCode.NON_EMPTY_GROUP],
    ['idle', ErrorCode.NONE],
    ['idle', ErrorCode.GROUP_ID_NOT_FOUND],
    ['nope', ErrorCode.GROUP_ID_NOT_FOUND],
  ]);
  assert.deepEqual(await fetchOffsets(client, 'idle', 'b', [0]), [[0, -1n, '']]);
  assert.deepEqual((await client.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId), ['busy']);
});

/** ConsumerProtocolSubscription v0 bytes for `topics`. */
function subscription(topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1].writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

async function readOffsetsTopic(tb: TestBroker, partition: number) {
  const log = tb.broker.context.replicaManager.getPartition('__consumer_offsets', partition)!.log;
  const read = await log.read(log.logStartOffset, 10 * 1024 * 1024, {});
  const out = [];
  for (const batch of iterateRecordBatches(read.records)) for (const r of batch.records) out.push(r);
  return out;
}

test('__consumer_offsets holds Kafka-format records on the group\'s partition; groups and offsets survive a restart', async (t) => {
  const dataDir = tempDir();
  const first = await setup(t, {}, dataDir);
  await createTopic(first.client, 'events', 2);
  const g = 'durable-group';
  const a = await joinNew(first.client, g);
  const ja = await a.response;
  await sync(first.client, g, ja.generationId, a.memberId, [{ memberId: a.memberId, assignment: Buffer.from('assignment') }]);
  await commit(first.client, g, ja.generationId, a.memberId, [['events', 0, 100n, 'hello'], ['events', 1, 200n]]);
  await commit(first.client, 'plain', -1, '', [['events', 1, 5n]]);

  const partition = partitionForGroup(g, 50);
  const records = await readOffsetsTopic(first.tb, partition);
  const decoded = records.map((r) => ({ key: decodeCoordinatorKey(r.key!), value: r.value }));
  const offsetRecords = decoded.filter((d) => d.key?.kind === 'offset');
  assert.deepEqual(offsetRecords.map((d) => d.key), [
    { kind: 'offset', group: g, topic: 'events', partition: 0 },
    { kind: 'offset', group: g, topic: 'events', partition: 1 },
  ]);
  const v = decodeOffsetCommitValue(offsetRecords[0].value!);
  assert.deepEqual([v.offset, v.metadata, v.leaderEpoch], [100n, 'hello', 0]);
  assert.ok(Math.abs(Number(v.commitTimestamp) - Date.now()) < 60_000);
  const groupRecord = decoded.find((d) => d.key?.kind === 'group')!;
  const meta = decodeGroupMetadataValue(groupRecord.value!);
  assert.deepEqual([meta.protocolType, meta.generation, meta.protocol, meta.leader], ['consumer', ja.generationId, 'range', a.memberId]);
  assert.equal(meta.members[0].assignment.toString(), 'assignment');

  await first.tb.stop();
  first.client.close();
  const second = await setup(t, { 'group.min.session.timeout.ms': 100 }, dataDir);
  assert.deepEqual(await fetchOffsets(second.client, g, 'events', [0, 1]), [[0, 100n, 'hello'], [1, 200n, '']]);
  assert.deepEqual(await fetchOffsets(second.client, 'plain', 'events', [1]), [[1, 5n, '']]);
  const d = await describe(second.client, g);
  assert.equal(d.groupState, 'Stable', 'the restored member gets a session to come back');
  assert.equal(d.members[0].memberId, a.memberId);
  assert.equal(d.members[0].memberAssignment.toString(), 'assignment');
  // The member carries on with its generation after the restart.
  assert.equal((await heartbeat(second.client, g, ja.generationId, a.memberId)).errorCode, ErrorCode.NONE);
  assert.equal((await commit(second.client, g, ja.generationId, a.memberId, [['events', 0, 101n]])).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  second.client.close();
  await second.tb.dispose();
});

test('offsets.retention.minutes expires the offsets of empty groups (and removes them), not of live ones', async (t) => {
  const dataDir = tempDir();
  const { tb, client } = await setup(t, { 'offsets.retention.minutes': 1 }, dataDir);
  await createTopic(client, 'x', 1);
  await commit(client, 'old', -1, '', [['x', 0, 1n]]);
  const a = await joinNew(client, 'alive', { protocols: [{ name: 'range', metadata: subscription(['x']) }] });
  const ja = await a.response;
  await sync(client, 'alive', ja.generationId, a.memberId, []);
  await commit(client, 'alive', ja.generationId, a.memberId, [['x', 0, 2n]]);
  // A group whose only joiner never came back after MEMBER_ID_REQUIRED is left empty, without offsets.
  assert.equal((await join(client, 'abandoned', '', { session: 2_000 })).errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(await tb.broker.groups.expireOffsets(Date.now() + 30_000), 0, 'nothing is a minute old yet');
  assert.ok(tb.broker.groups.groups.has('abandoned'), 'its pending member keeps it while its session lasts');
  await until('the pending member to expire', async () => (await tb.broker.groups.expireOffsets(Date.now() + 30_000)) === 0 && !tb.broker.groups.groups.has('abandoned'));
  assert.equal(await tb.broker.groups.expireOffsets(Date.now() + 120_000), 1);
  assert.deepEqual(await fetchOffsets(client, 'old', 'x', [0]), [[0, -1n, '']]);
  assert.deepEqual(await fetchOffsets(client, 'alive', 'x', [0]), [[0, 2n, '']]);
  assert.deepEqual((await client.send(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId), ['alive']);
  // The expiry was written as tombstones: still gone after a restart.
  await tb.stop();
  const again = await setup(t, {}, dataDir);
  assert.deepEqual(await fetchOffsets(again.client, 'old', 'x', [0]), [[0, -1n, '']]);
  assert.deepEqual(await fetchOffsets(again.client, 'alive', 'x', [0]), [[0, 2n, '']]);
  again.client.close();
  await again.tb.dispose();
});

test('__consumer_offsets is compacted down to the latest commit per partition, and state reloads from the compacted log', async (t) => {
  const dataDir = tempDir();
  const options = { 'offsets.topic.segment.bytes': 4096, 'offsets.topic.num.partitions': 1 };
  const { tb, client } = await setup(t, options, dataDir);
  await createTopic(client, 'c', 2);
  const commits = 300;
  for (let i = 1; i <= commits; i++) await commit(client, 'compacted', -1, '', [['c', i % 2, BigInt(i), `m${i}`]]);
  const count = async () => (await readOffsetsTopic(tb, 0)).length;
  // The storage cleaner compacts rolled segments in the background.
  await until('compaction of __consumer_offsets', async () => (await count()) < commits / 2, 60_000);
  assert.equal(tb.broker.context.topics.get('__consumer_offsets')!.configs['cleanup.policy'], 'compact');
  assert.equal(tb.broker.context.replicaManager.getPartition('__consumer_offsets', 0)!.log.logStartOffset, 0n, 'records were compacted away, not deleted by retention');
  await tb.stop();
  client.close();
  const again = await setup(t, options, dataDir);
  assert.deepEqual(await fetchOffsets(again.client, 'compacted', 'c', [0, 1]), [[0, 300n, 'm300'], [1, 299n, 'm299']]);
  again.client.close();
  await again.tb.dispose();
});

test('shutdown answers a parked JoinGroup with NOT_COORDINATOR instead of waiting for the rebalance', async (t) => {
  const { tb, client } = await setup(t);
  const other = await RawClient.connect(client.socket.remotePort as number);
  t.after(() => other.close());
  const a = await joinNew(client, 'parked', { rebalance: 60_000 });
  await a.response;
  await sync(client, 'parked', 1, a.memberId, []);
  const b = await joinNew(other, 'parked', { rebalance: 60_000 });
  await until('the rebalance to start', async () => (await describe(client, 'parked')).groupState === 'PreparingRebalance');
  const started = Date.now();
  await tb.stop();
  assert.ok(Date.now() - started < 15_000, 'stop did not wait for the 60 s rebalance');
  assert.equal((await b.response).errorCode, ErrorCode.NOT_COORDINATOR);
});

// Join completion in every join order: the last awaited JoinGroup completes the join, whoever sends it.

/** Long enough that a join finished by the rebalance timer, not by the last JoinGroup, cannot pass as prompt. */
const REBALANCE_MS = 15_000;
/** Generous for a loaded CI machine, still far below REBALANCE_MS. */
const PROMPT_MS = 5_000;
const META2 = Buffer.from('new subscription');

/**
 * One JoinGroup of the rebalance: 'a' (the leader) or 'b' rejoins with its member id and new
 * metadata (which alone starts a rebalance in a Stable group); 'b-restart' is b, a static member,
 * restarting (its group.instance.id, no member id); 'new?' is a new member's MEMBER_ID_REQUIRED
 * round trip and 'new' its join with that id.
 */
type JoinStep = 'a' | 'b' | 'b-restart' | 'new?' | 'new';

/**
 * From a Stable group {a (leader), b (static with `staticB`)}, sends the rebalance's JoinGroups in
 * `order`, each member on its own connection, each join seen parked by the coordinator before the
 * next goes out (so the order is the coordinator's too). Resolves with every answer and the time
 * from sending the last join to the last answer.
 */
async function rebalanceInOrder(t: { after(fn: () => unknown): void }, g: string, order: JoinStep[], { staticB = false } = {}) {
  const { tb, client } = await setup(t);
  const timeouts = { rebalance: REBALANCE_MS, session: 30_000 };
  const bTimeouts = staticB ? { ...timeouts, instance: 'b-instance' } : timeouts;
  const a = await joinNew(client, g, timeouts);
  const ja = await a.response;
  await sync(client, g, ja.generationId, a.memberId);
  const conns = { a: client, b: await RawClient.connect(tb.broker.port), new: await RawClient.connect(tb.broker.port) };
  t.after(() => conns.b.close());
  t.after(() => conns.new.close());
  const group = tb.broker.groups.groups.get(g)!;
  // b's join must reach the coordinator first: it starts the rebalance that a's rejoin completes.
  const b = staticB ? { memberId: '', response: join(conns.b, g, '', bTimeouts) } : await joinNew(conns.b, g, timeouts);
  await until('b to be parked in its join', async () => [...group.members.values()].find((m) => m.memberId !== a.memberId)?.awaitingJoin);
  const [ja2, jb2] = await Promise.all([join(client, g, a.memberId, timeouts), b.response]);
  assert.equal(ja2.leader, a.memberId);
  await Promise.all([sync(client, g, ja2.generationId, a.memberId), sync(conns.b, g, jb2.generationId, jb2.memberId, [], staticB ? 'b-instance' : null)]);
  assert.equal(group.state, 'Stable');

  const ids = { a: a.memberId, b: jb2.memberId, new: '' };
  const answers: ReturnType<typeof join>[] = [];
  let lastSentAt = 0;
  for (const [i, step] of order.entries()) {
    if (step === 'new?') {
      const first = await join(conns.new, g, '', timeouts);
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      ids.new = first.memberId;
      continue;
    }
    lastSentAt = Date.now();
    if (step === 'b-restart') answers.push(join(conns.b, g, '', bTimeouts));
    else if (step === 'new') answers.push(join(conns.new, g, ids.new, timeouts));
    else answers.push(join(conns[step], g, ids[step], { ...(step === 'b' ? bTimeouts : timeouts), protocols: [{ name: 'range', metadata: META2 }] }));
    if (i === order.length - 1) break;
    await until(`${step}'s join to be parked`, async () => {
      const id = step === 'b-restart' ? group.staticMembers.get('b-instance') : ids[step];
      return id !== undefined && group.members.get(id)?.awaitingJoin;
    });
    assert.equal(group.state, 'PreparingRebalance', `the join is not complete after ${order.slice(0, i + 1).join(', ')}`);
  }
  const results = await Promise.all(answers);
  return { results, elapsed: Date.now() - lastSentAt, leader: a.memberId };
}

/** Every member got the same new generation, the leader got all three members, and promptly. */
function assertJoinedPromptly({ results, elapsed, leader }: Awaited<ReturnType<typeof rebalanceInOrder>>) {
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE]);
  assert.deepEqual(results.map((r) => r.generationId), [3, 3, 3]);
  assert.deepEqual(results.map((r) => r.leader), [leader, leader, leader]);
  assert.deepEqual(results.map((r) => r.members.length).sort(), [0, 0, 3]);
  assert.ok(elapsed < PROMPT_MS, `the last JoinGroup completed the join after ${elapsed} ms (rebalance timeout ${REBALANCE_MS} ms)`);
}

test('join order existing, existing, new (MEMBER_ID_REQUIRED before the rebalance): the new member\'s join completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'new-last', ['new?', 'a', 'b', 'new']));
});

test('join order existing, existing, new (MEMBER_ID_REQUIRED during the rebalance): the new member\'s join completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'new-last-2', ['a', 'new?', 'b', 'new']));
});

test('join order leader, new, static member: the static member\'s rejoin completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'static-last', ['a', 'new?', 'new', 'b'], { staticB: true }));
});

test('join order leader, new, restarted static member: its join (instance id, no member id) completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'static-restart-last', ['a', 'new?', 'new', 'b-restart'], { staticB: true }));
});

test('join order follower, new, leader: the leader\'s rejoin completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'leader-last', ['b', 'new?', 'new', 'a']));
});

test('join order existing, new, existing: the last existing member\'s rejoin completes it', async (t) => {
  assertJoinedPromptly(await rebalanceInOrder(t, 'existing-last', ['a', 'new?', 'new', 'b']));
});
