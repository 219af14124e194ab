/**
 * The group coordinator's leadership hooks over the wire: a resigned __consumer_offsets partition
 * answers NOT_COORDINATOR for its groups (others carry on); leading it again reloads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

test('onResign: the partition\'s groups answer NOT_COORDINATOR; onBecomeLeader reloads them from the log', async (t) => {
  const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 4 });
  t.after(() => tb.dispose());
  const client = await RawClient.connect(tb.broker.port);
  t.after(() => client.close());
  const created = await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  const coordinator = tb.broker.groups;
  // Two groups in different partitions.
  const moved = 'moved';
  const partition = coordinator.partitionFor(moved);
  let stays = 'stays';
  for (let i = 0; coordinator.partitionFor(stays) === partition; i++) stays = `stays-${i}`;
  const commit = (groupId: string, offset: bigint) =>
    client.send(ApiKey.OffsetCommit, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 0, committedMetadata: null }] }],
    });
  const fetch = (groupId: string) => client.send(ApiKey.OffsetFetch, 8, { groups: [{ groupId, topics: [{ name: 't', partitionIndexes: [0] }] }], requireStable: false });
  assert.equal((await commit(moved, 5n)).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal((await commit(stays, 6n)).topics[0].partitions[0].errorCode, ErrorCode.NONE);

  coordinator.onResign(partition);
  assert.equal((await commit(moved, 7n)).topics[0].partitions[0].errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await fetch(moved)).groups![0].errorCode, ErrorCode.NOT_COORDINATOR);
  const v1 = await client.send(ApiKey.OffsetFetch, 1, { groupId: moved, topics: [{ name: 't', partitionIndexes: [0] }] });
  assert.equal(v1.topics![0].partitions[0].errorCode, ErrorCode.NOT_COORDINATOR, 'v0–v1 say it per partition');
  const join = await client.send(ApiKey.JoinGroup, 5, { groupId: moved, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 5_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }], reason: null });
  assert.equal(join.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await client.send(ApiKey.Heartbeat, 3, { groupId: moved, generationId: 1, memberId: 'x', groupInstanceId: null })).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await client.send(ApiKey.DescribeGroups, 5, { groups: [moved], includeAuthorizedOperations: false })).groups[0].errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await fetch(stays)).groups![0].topics[0].partitions[0].committedOffset, 6n, 'other partitions carry on');
  assert.deepEqual((await client.send(ApiKey.ListGroups, 4, { statesFilter: [] })).groups.map((g) => g.groupId), [stays]);

  await coordinator.onBecomeLeader(partition, 1);
  const back = await fetch(moved);
  assert.equal(back.groups![0].errorCode, ErrorCode.NONE);
  assert.equal(back.groups![0].topics[0].partitions[0].committedOffset, 5n, 'reloaded from __consumer_offsets');
  const found = await client.send(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: [moved] });
  assert.deepEqual(found.coordinators!.map((c) => [c.errorCode, c.nodeId, c.port]), [[ErrorCode.NONE, tb.broker.nodeId, tb.broker.port]]);
});
