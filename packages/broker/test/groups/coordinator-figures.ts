/**
 * Coordinator figures, each beside a reference measured in the same run (not a test; run with
 * `npx tsc -b packages/broker && node packages/broker/dist/test/groups/coordinator-figures.js`):
 *   - OffsetCommit (10 partitions per request) vs Produce of 10 records of the same sizes;
 *   - OffsetFetch of 10 partitions vs ApiVersions (the dispatch floor);
 *   - a rebalance of N members (join + sync round) vs one Heartbeat round trip;
 *   - rebuilding the groups from __consumer_offsets vs reading the same log bytes.
 */
import { ApiKey, buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { partitionForGroup } from '../../src/groups/records.js';
import { RawClient, startTestBroker } from '../helpers.js';

const REQUESTS = 3000;
const WINDOW = 64;
const PARTITIONS = 10;

async function pipelined(count: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < count) await send(next++);
    }),
  );
  return performance.now() - started;
}

const tb = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1000 });
const client = await RawClient.connect(tb.broker.port);
await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 'figures', numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
await client.send(ApiKey.CreateTopics, 5, { topics: [{ name: 'reference', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
const rows: string[] = [];
const report = (what: string, ms: number, ref: string, refMs: number, unit: number) =>
  rows.push(`${what.padEnd(44)} ${((unit * 1000) / ms).toFixed(0).padStart(9)}/s   ${ref.padEnd(40)} ${((unit * 1000) / refMs).toFixed(0).padStart(9)}/s   ratio ${(ms / refMs).toFixed(2)}x the time`);

// Warm-up of both paths (JIT, topic creation of __consumer_offsets).
await client.send(ApiKey.FindCoordinator, 3, { key: 'figures-group', keyType: 0 });
const commitOnce = (i: number) =>
  client.send(ApiKey.OffsetCommit, 8, {
    groupId: 'figures-group',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: 'figures', partitions: partitions.map((p) => ({ partitionIndex: p, committedOffset: BigInt(i), committedLeaderEpoch: 0, committedMetadata: '' })) }],
  });
// Ten records sized like the offset records: key = version + group + topic + partition, value = v3.
const key = Buffer.alloc(2 + 2 + 'figures-group'.length + 2 + 'figures'.length + 4);
const value = Buffer.alloc(2 + 8 + 4 + 2 + 8);
const produceOnce = () =>
  client.send(ApiKey.Produce, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: 'reference', partitionData: [{ index: 0, records: buildRecordBatch(partitions.map(() => ({ key, value }))) }] }],
  });
await pipelined(300, commitOnce);
await pipelined(300, produceOnce);

const commitMs = await pipelined(REQUESTS, commitOnce);
const produceMs = await pipelined(REQUESTS, produceOnce);
report(`OffsetCommit (${PARTITIONS} partitions) requests`, commitMs, `Produce (${PARTITIONS} same-size records)`, produceMs, REQUESTS);

const fetchOnce = () => client.send(ApiKey.OffsetFetch, 7, { groupId: 'figures-group', topics: [{ name: 'figures', partitionIndexes: partitions }], requireStable: false });
const versionsOnce = () => client.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'figures', clientSoftwareVersion: '1' });
await pipelined(300, fetchOnce);
await pipelined(300, versionsOnce);
const fetchMs = await pipelined(REQUESTS * 2, fetchOnce);
const versionsMs = await pipelined(REQUESTS * 2, versionsOnce);
report(`OffsetFetch (${PARTITIONS} partitions) requests`, fetchMs, 'ApiVersions requests', versionsMs, REQUESTS * 2);

// Rebalance of N members, each on its own connection: one member rejoins and every member's
// join and sync completes, vs a single Heartbeat round trip.
const MEMBERS = 20;
const members = await Promise.all(Array.from({ length: MEMBERS }, () => RawClient.connect(tb.broker.port)));
const meta = Buffer.from('subscription');
const join = (c: RawClient, memberId: string) =>
  c.send(ApiKey.JoinGroup, 5, { groupId: 'rebalance', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: meta }], reason: null });
const ids = await Promise.all(members.map(async (c) => (await join(c, '')).memberId));
async function rebalance(): Promise<number> {
  const started = performance.now();
  const joined = await Promise.all(members.map((c, i) => join(c, ids[i])));
  const generation = joined[0].generationId!;
  const leader = joined.findIndex((j, i) => j.leader === ids[i]);
  await Promise.all(
    members.map((c, i) =>
      c.send(ApiKey.SyncGroup, 3, { groupId: 'rebalance', generationId: generation, memberId: ids[i], groupInstanceId: null, assignments: i === leader ? ids.map((memberId) => ({ memberId, assignment: Buffer.from('a') })) : [] }),
    ),
  );
  return performance.now() - started;
}
await rebalance();
let rebalanceMs = 0;
const ROUNDS = 20;
for (let r = 0; r < ROUNDS; r++) rebalanceMs += await rebalance();
const generation = tb.broker.groups.groups.get('rebalance')!.generationId;
let heartbeatMs = 0;
for (let r = 0; r < ROUNDS; r++) {
  const started = performance.now();
  const hb = await members[0].send(ApiKey.Heartbeat, 3, { groupId: 'rebalance', generationId: generation, memberId: ids[0], groupInstanceId: null });
  if (hb.errorCode !== ErrorCode.NONE) throw new Error(`heartbeat error ${hb.errorCode}`);
  heartbeatMs += performance.now() - started;
}
report(`rebalances of ${MEMBERS} members (join+sync)`, rebalanceMs, 'Heartbeat round trips', heartbeatMs, ROUNDS);

// Rebuilding state from __consumer_offsets (what start-up does) vs reading the same bytes.
const partition = partitionForGroup('figures-group', tb.broker.groups.offsetsLog.partitionCount);
const log = tb.broker.context.replicaManager.getPartition('__consumer_offsets', partition)!.log;
const records = Number(log.logEndOffset - log.logStartOffset);
let readMs = Infinity;
let loadMs = Infinity;
for (let r = 0; r < 5; r++) {
  let started = performance.now();
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) offset = (await log.read(offset, 5 * 1024 * 1024, {})).nextOffset;
  readMs = Math.min(readMs, performance.now() - started);
  started = performance.now();
  await new GroupCoordinator(tb.broker.context).load();
  loadMs = Math.min(loadMs, performance.now() - started);
}
report(`load of ${records} __consumer_offsets records (all partitions)`, loadMs, 'reading the same partition log', readMs, records);

for (const c of members) c.close();
client.close();
await tb.dispose();
console.log(rows.join('\n'));
process.exit(0);
