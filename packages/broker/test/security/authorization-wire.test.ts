/**
 * Authorization over the wire: a broker with `authorizer.class.name` set, answering raw requests
 * of every API that touches a resource, one allowed and one denied case each, with Kafka's exact
 * errors, and denied principals learning nothing they may not describe.
 *
 * Until authentication lands every connection is User:ANONYMOUS, so the cases are made by adding
 * and removing ACLs for User:ANONYMOUS between steps (PRINCIPAL below; with SASL, a second
 * connection per principal is the only change). The one ACL the test starts from (Alter on the
 * cluster, so that ACLs can be managed over the wire) is put into the metadata store directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey as api, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { RawClient, startTestBroker, tempDir, type TestBroker } from '../helpers.js';
import { AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT, type AclBinding } from '../../src/security/acls.js';

const PRINCIPAL = 'User:ANONYMOUS';
const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const AUTHORIZER = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:admin', 'num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 };

function acl(resourceType: number, resourceName: string, operation: number, permissionType: number = Perm.ALLOW, patternType: number = PatternType.LITERAL): AclBinding {
  return { resourceType, resourceName, patternType, principal: PRINCIPAL, host: '*', operation, permissionType };
}
const CLUSTER_ALTER = acl(RT.CLUSTER, 'kafka-cluster', Op.ALTER);

async function addAcls(c: RawClient, ...acls: AclBinding[]): Promise<void> {
  const res = await c.send(api.CreateAcls, 3, {
    creations: acls.map((a) => ({ resourceType: a.resourceType, resourceName: a.resourceName, resourcePatternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
  });
  for (const r of res.results) assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
}

async function removeAcls(c: RawClient, ...acls: AclBinding[]): Promise<void> {
  const res = await c.send(api.DeleteAcls, 3, {
    filters: acls.map((a) => ({ resourceTypeFilter: a.resourceType, resourceNameFilter: a.resourceName, patternTypeFilter: a.patternType, principalFilter: a.principal, hostFilter: a.host, operation: a.operation, permissionType: a.permissionType })),
  });
  for (const r of res.filterResults) assert.equal(r.errorCode, ErrorCode.NONE);
}

function records(...values: string[]) {
  return buildRecordBatch(values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: BigInt(Date.now()) })));
}

async function produce(c: RawClient, topic: string, transactionalId: string | null = null): Promise<number> {
  const res = await c.send(api.Produce, 11, { transactionalId, acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: records('v') }] }] });
  return res.responses[0].partitionResponses[0].errorCode;
}

async function fetch(c: RawClient, topic: string, replicaId = -1): Promise<number> {
  const res = await c.send(api.Fetch, 12, {
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  return res.responses[0].partitions[0].errorCode;
}

async function metadata(c: RawClient, topics: string[] | null, allowAutoTopicCreation = false) {
  return c.send(api.Metadata, 12, { topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO })), allowAutoTopicCreation, includeTopicAuthorizedOperations: true });
}

async function setUp(t: { after: (fn: () => Promise<void> | void) => void }, dataDir = tempDir()): Promise<{ tb: TestBroker; c: RawClient }> {
  const tb = await startTestBroker(AUTHORIZER, dataDir);
  t.after(() => tb.dispose());
  await tb.broker.context.metadata.updateAcls([CLUSTER_ALTER], []);
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  return { tb, c };
}

test('topic APIs: allowed and denied for each, prefixed and DENY ACLs, nothing learnt of undescribable topics', async (t) => {
  const { tb, c } = await setUp(t);
  // Topics the principal may not touch exist too: created by the broker itself.
  for (const name of ['hidden', 'ok-secret', 'ro']) await tb.broker.context.topics.create({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  await addAcls(c, acl(RT.TOPIC, 'ok-', Op.ALL, Perm.ALLOW, PatternType.PREFIXED), acl(RT.TOPIC, 'ok-secret', Op.ALL, Perm.DENY), acl(RT.TOPIC, 'ro', Op.READ));

  // CreateTopics: Create on the topic (prefixed) allowed; elsewhere TOPIC_AUTHORIZATION_FAILED.
  const created = await c.send(api.CreateTopics, 7, {
    topics: ['ok-a', 'ok-b', 'nope'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.deepEqual(created.topics.map((x) => [x.name, x.errorCode]), [['ok-a', ErrorCode.NONE], ['ok-b', ErrorCode.NONE], ['nope', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);

  // Metadata: all topics lists only describable ones; named undescribable ones (existing or not) are refused alike.
  const all = await metadata(c, null);
  assert.deepEqual(all.topics.map((x) => x.name).sort(), ['ok-a', 'ok-b', 'ro']);
  const named = await metadata(c, ['ok-a', 'hidden', 'ok-secret', 'missing']);
  assert.deepEqual(named.topics.map((x) => [x.name, x.errorCode, x.partitions.length, x.topicId]), [
    ['ok-a', ErrorCode.NONE, 1, tb.broker.context.topics.get('ok-a')!.topicId],
    ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, ZERO],
    ['ok-secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, ZERO],
    ['missing', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, ZERO],
  ]);
  // Authorized operations: ro grants Read and (implied) Describe only.
  const ro = all.topics.find((x) => x.name === 'ro')!;
  assert.equal(ro.topicAuthorizedOperations, (1 << Op.READ) | (1 << Op.DESCRIBE));
  // Auto-creation needs Create: refused for a topic without it.
  assert.equal((await metadata(c, ['auto-x'], true)).topics[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(tb.broker.context.topics.get('auto-x'), undefined);
  assert.equal((await metadata(c, ['ok-auto'], true)).topics[0].errorCode, ErrorCode.NONE);

  // Produce: Write.
  assert.equal(await produce(c, 'ok-a'), ErrorCode.NONE);
  assert.equal(await produce(c, 'ro'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await produce(c, 'hidden'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await produce(c, 'ok-secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await produce(c, 'does-not-exist'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // A transactional produce needs Write on the transactional id.
  assert.equal(await produce(c, 'ok-a', 'tx-denied'), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

  // Fetch: Read; a follower's fetch needs ClusterAction.
  assert.equal(await fetch(c, 'ok-a'), ErrorCode.NONE);
  assert.equal(await fetch(c, 'ro'), ErrorCode.NONE);
  assert.equal(await fetch(c, 'hidden'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await fetch(c, 'ok-a', 7), ErrorCode.TOPIC_AUTHORIZATION_FAILED);

  // ListOffsets: Describe.
  const offsets = await c.send(api.ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: ['ok-a', 'hidden'].map((name) => ({ name, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] })),
  });
  assert.deepEqual(offsets.topics.map((x) => [x.name, x.partitions[0].errorCode, x.partitions[0].offset]), [['ok-a', ErrorCode.NONE, 1n], ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n]]);

  // DescribeProducers: Read; DescribeTopicPartitions and OffsetForLeaderEpoch: Describe (a follower's ClusterAction).
  const producers = await c.send(api.DescribeProducers, 0, { topics: ['ok-a', 'hidden'].map((name) => ({ name, partitionIndexes: [0] })) });
  assert.deepEqual(producers.topics.map((x) => x.partitions[0].errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
  const partitions = await c.send(api.DescribeTopicPartitions, 0, { topics: [{ name: 'ok-a' }, { name: 'hidden' }], responsePartitionLimit: 100, cursor: null });
  assert.deepEqual(partitions.topics.map((x) => [x.name, x.errorCode, x.partitions.length]), [['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0], ['ok-a', ErrorCode.NONE, 1]]);
  const allPartitions = await c.send(api.DescribeTopicPartitions, 0, { topics: [], responsePartitionLimit: 100, cursor: null });
  assert.deepEqual(allPartitions.topics.map((x) => x.name), ['ok-a', 'ok-auto', 'ok-b', 'ro']);
  const epochs = (replicaId: number, topic: string) =>
    c.send(api.OffsetForLeaderEpoch, 4, { replicaId, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] });
  assert.equal((await epochs(-1, 'ok-a')).topics[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.equal((await epochs(-1, 'hidden')).topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal((await epochs(3, 'ok-a')).topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);

  // CreatePartitions: Alter (Read does not grant it).
  const grown = await c.send(api.CreatePartitions, 3, { topics: ['ok-a', 'ro'].map((name) => ({ name, count: 2, assignments: null })), timeoutMs: 5000, validateOnly: false });
  assert.deepEqual(grown.results.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);

  // DeleteRecords: Delete.
  const trimmed = await c.send(api.DeleteRecords, 2, { topics: ['ok-a', 'ro'].map((name) => ({ name, partitions: [{ partitionIndex: 0, offset: -1n }] })), timeoutMs: 5000 });
  assert.deepEqual(trimmed.topics.map((x) => x.partitions[0].errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);

  // DescribeConfigs: DescribeConfigs on the topic; brokers need it on the cluster.
  const described = await c.send(api.DescribeConfigs, 4, {
    resources: [
      { resourceType: 2, resourceName: 'ok-a', configurationKeys: ['cleanup.policy'] },
      { resourceType: 2, resourceName: 'hidden', configurationKeys: null },
      { resourceType: 4, resourceName: '1', configurationKeys: null },
    ],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  assert.deepEqual(described.results.map((x) => [x.errorCode, x.configs.length]), [[ErrorCode.NONE, 1], [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 0]]);

  // IncrementalAlterConfigs: AlterConfigs.
  const altered = await c.send(api.IncrementalAlterConfigs, 1, {
    resources: ['ok-a', 'ro'].map((name) => ({ resourceType: 2, resourceName: name, configs: [{ name: 'retention.ms', configOperation: 0, value: '60000' }] })),
    validateOnly: false,
  });
  assert.deepEqual(altered.responses.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
  assert.equal(tb.broker.context.topics.get('ro')!.configs['retention.ms'], undefined);

  // DeleteTopics: Delete.
  const deleted = await c.send(api.DeleteTopics, 6, { topics: ['ok-b', 'hidden', 'ro'].map((name) => ({ name, topicId: ZERO })), timeoutMs: 5000 });
  assert.deepEqual(deleted.responses.map((x) => [x.name, x.errorCode]), [['ok-b', ErrorCode.NONE], ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['ro', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
  assert.ok(tb.broker.context.topics.get('hidden'));

  // Removing the ACL takes effect at once (the decision cache is dropped).
  await removeAcls(c, acl(RT.TOPIC, 'ro', Op.READ));
  assert.equal(await fetch(c, 'ro'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.deepEqual((await metadata(c, null)).topics.map((x) => x.name).sort(), ['ok-a', 'ok-auto']);
});

test('group, transactional-id and cluster APIs: allowed and denied, and the ACL APIs themselves', async (t) => {
  const { tb, c } = await setUp(t);
  await tb.broker.context.topics.create({ name: 'hidden', numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  await addAcls(c, acl(RT.TOPIC, 'data', Op.ALL), acl(RT.GROUP, 'g-ok', Op.READ), acl(RT.GROUP, 'g-del', Op.DELETE), acl(RT.TRANSACTIONAL_ID, 'tx-ok', Op.WRITE));
  assert.equal((await c.send(api.CreateTopics, 7, { topics: [{ name: 'data', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false })).topics[0].errorCode, ErrorCode.NONE);

  // FindCoordinator: Describe on the group / transactional id.
  const found = await c.send(api.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['g-ok', 'g-bad'] });
  assert.deepEqual(found.coordinators!.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
  const foundTxn = await c.send(api.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['tx-ok', 'tx-bad'] });
  assert.deepEqual(foundTxn.coordinators!.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);

  // JoinGroup: Read on the group (allowed: the first join asks for a member id).
  const join = (groupId: string) =>
    c.send(api.JoinGroup, 6, { groupId, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
  assert.equal((await join('g-ok')).errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal((await join('g-bad')).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.Heartbeat, 4, { groupId: 'g-bad', generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.SyncGroup, 5, { groupId: 'g-bad', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] })).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.LeaveGroup, 5, { groupId: 'g-bad', members: [{ memberId: 'm', groupInstanceId: null }] })).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);

  // OffsetCommit: Read on the group and on each topic.
  const commit = (groupId: string, topics: string[]) =>
    c.send(api.OffsetCommit, 8, { groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: topics.map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: '' }] })) });
  const committed = await commit('g-ok', ['data', 'hidden']);
  assert.deepEqual(committed.topics.map((x) => x.partitions[0].errorCode), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
  assert.equal((await commit('g-bad', ['data'])).topics[0].partitions[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);

  // OffsetFetch: Describe on the group; undescribable topics refused when named, left out when all are asked.
  const fetched = await c.send(api.OffsetFetch, 8, { groups: [{ groupId: 'g-ok', topics: [{ name: 'data', partitionIndexes: [0] }, { name: 'hidden', partitionIndexes: [0] }] }, { groupId: 'g-bad', topics: null }], requireStable: false });
  const okGroup = fetched.groups![0];
  assert.equal(okGroup.errorCode, ErrorCode.NONE);
  assert.deepEqual(okGroup.topics.map((x) => [x.name, x.partitions[0].errorCode, x.partitions[0].committedOffset]), [['data', ErrorCode.NONE, 0n], ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n]]);
  assert.equal(fetched.groups![1].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);

  // DescribeGroups: Describe on the group (implied by Read).
  const groups = await c.send(api.DescribeGroups, 5, { groups: ['g-ok', 'g-bad'], includeAuthorizedOperations: true });
  assert.deepEqual(groups.groups.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
  assert.equal(groups.groups[0].authorizedOperations, (1 << Op.READ) | (1 << Op.DESCRIBE));

  // DeleteGroups: Delete on the group.
  const deletedGroups = await c.send(api.DeleteGroups, 2, { groupsNames: ['g-ok', 'g-del'] });
  assert.deepEqual(deletedGroups.results.map((x) => x.errorCode), [ErrorCode.GROUP_AUTHORIZATION_FAILED, ErrorCode.GROUP_ID_NOT_FOUND]);

  // InitProducerId: Write on the transactional id; idempotent: IdempotentWrite on the cluster or Write on some topic.
  assert.equal((await c.send(api.InitProducerId, 4, { transactionalId: 'tx-bad', transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.notEqual((await c.send(api.InitProducerId, 4, { transactionalId: 'tx-ok', transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })).errorCode, ErrorCode.NONE);
  assert.equal((await c.send(api.EndTxn, 4, { transactionalId: 'tx-bad', producerId: 1n, producerEpoch: 0, committed: true })).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.AddOffsetsToTxn, 3, { transactionalId: 'tx-ok', producerId: 1n, producerEpoch: 0, groupId: 'g-bad' })).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const describedTxn = await c.send(api.DescribeTransactions, 0, { transactionalIds: ['tx-bad'] });
  assert.equal(describedTxn.transactionStates[0].errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

  // Cluster APIs while the principal holds Alter on the cluster (which implies Describe).
  assert.equal((await c.send(api.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 })).errorCode, ErrorCode.NONE);
  assert.equal((await c.send(api.ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 'data', partitions: [0] }], timeoutMs: 5000 })).errorCode, ErrorCode.NONE);
  assert.equal((await c.send(api.ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null })).errorCode, ErrorCode.NONE);
  const acls = await c.send(api.DescribeAcls, 3, { resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY });
  assert.equal(acls.errorCode, ErrorCode.NONE);
  assert.equal(acls.resources.reduce((n, r) => n + r.acls.length, 0), 5);
  const invalid = await c.send(api.CreateAcls, 3, { creations: [{ resourceType: RT.TOPIC, resourceName: 'x', resourcePatternType: PatternType.MATCH, principal: PRINCIPAL, host: '*', operation: Op.READ, permissionType: Perm.ALLOW }] });
  assert.equal(invalid.results[0].errorCode, ErrorCode.INVALID_REQUEST);
  // ListGroups with Describe on the cluster lists every group.
  const listedAll = await c.send(api.ListGroups, 4, { statesFilter: [] });
  assert.ok(listedAll.groups.some((g) => g.groupId === 'g-ok'));

  // Give up the cluster ACL: every cluster API is refused, and ListGroups shows only describable groups.
  await tb.broker.context.topics.create({ name: 'other', numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  await removeAcls(c, CLUSTER_ALTER);
  assert.equal((await c.send(api.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 5000 })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.AlterPartitionReassignments, 0, { timeoutMs: 5000, topics: [] })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.DescribeLogDirs, 4, { topics: null })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.DescribeAcls, 3, { resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const refused = await c.send(api.CreateAcls, 3, { creations: [{ resourceType: RT.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: PatternType.LITERAL, principal: PRINCIPAL, host: '*', operation: Op.ALL, permissionType: Perm.ALLOW }] });
  assert.equal(refused.results[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal((await c.send(api.DeleteAcls, 3, { filters: [{ resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY }] })).filterResults[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const listed = await c.send(api.ListGroups, 4, { statesFilter: [] });
  assert.deepEqual(listed.groups.map((g) => g.groupId), ['g-ok']);
  // The cluster-wide idempotent check still passes through Write on a topic.
  assert.equal((await c.send(api.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })).errorCode, ErrorCode.NONE);
  await tb.broker.context.metadata.updateAcls([], [acl(RT.TOPIC, 'data', Op.ALL)]);
  assert.equal((await c.send(api.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 10000, producerId: -1n, producerEpoch: -1 })).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
});

test('without an authorizer the ACL APIs answer SECURITY_DISABLED and everything is allowed; ACLs survive a restart', async (t) => {
  const plain = await startTestBroker({ 'num.partitions': 1 });
  t.after(() => plain.dispose());
  const p = await RawClient.connect(plain.broker.port);
  t.after(() => p.close());
  const res = await p.send(api.CreateAcls, 3, { creations: [{ resourceType: RT.TOPIC, resourceName: 'x', resourcePatternType: PatternType.LITERAL, principal: PRINCIPAL, host: '*', operation: Op.READ, permissionType: Perm.ALLOW }] });
  assert.equal(res.results[0].errorCode, ErrorCode.SECURITY_DISABLED);
  assert.equal((await metadata(p, ['anything'], true)).topics[0].errorCode, ErrorCode.NONE);

  const dataDir = tempDir();
  const first = await startTestBroker(AUTHORIZER, dataDir);
  await first.broker.context.metadata.updateAcls([CLUSTER_ALTER], []);
  const c1 = await RawClient.connect(first.broker.port);
  await addAcls(c1, acl(RT.TOPIC, 'kept-', Op.WRITE, Perm.ALLOW, PatternType.PREFIXED));
  c1.close();
  await first.stop();
  const second = await startTestBroker(AUTHORIZER, dataDir);
  t.after(() => second.dispose());
  const c2 = await RawClient.connect(second.broker.port);
  t.after(() => c2.close());
  const listed = await c2.send(api.DescribeAcls, 3, { resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'kept-1', patternTypeFilter: PatternType.MATCH, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY });
  assert.deepEqual(listed.resources.map((r) => [r.resourceName, r.patternType, r.acls.map((a) => [a.principal, a.operation])]), [['kept-', PatternType.PREFIXED, [[PRINCIPAL, Op.WRITE]]]]);
});
