/**
 * Consumer groups through third-party clients other than kafkajs: kcat's balanced consumer (-G),
 * kafka-python's KafkaConsumer, confluent-kafka with the cooperative-sticky assignor (incremental
 * rebalancing), and group administration through kafka-python's KafkaAdminClient and
 * @platformatic/kafka's Admin (list, describe, offsets with lag, delete offsets, delete groups).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { kcatPath, pythonPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker, type TestBroker } from '../helpers.js';
import { ChildClient, eventually } from './child.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;

const FIXTURES = new URL('../../../test/groups/fixtures/', import.meta.url).pathname;
const PYTHON = pythonPath();
const KCAT = kcatPath();
const BROKER_OPTIONS = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1000 };

/** A broker with a topic of `perPartition` records per partition; at the end, `children` stop (leaving their groups) before the broker does. */
async function brokerWithTopic(t: { after(fn: () => unknown): void }, topic: string, partitions: number, perPartition: number, children: ChildClient[]): Promise<TestBroker> {
  const tb = await startTestBroker(BROKER_OPTIONS);
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop(5000)));
    await tb.dispose();
  });
  const kafka = new Kafka({ clientId: 'setup', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await produce(producer, topic, partitions, perPartition, 'first');
  await admin.disconnect();
  await producer.disconnect();
  return tb;
}

async function produce(producer: KafkaJS.Producer, topic: string, partitions: number, perPartition: number, round: string) {
  await producer.send({
    topic,
    messages: Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `${round}-${p}-${i}` }))).flat(),
  });
}

async function produceMore(tb: TestBroker, topic: string, partitions: number, perPartition: number, round: string) {
  const producer = new Kafka({ clientId: 'more', brokers: [tb.bootstrap], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await produce(producer, topic, partitions, perPartition, round);
  await producer.disconnect();
}

/** The latest assignments of `members` are disjoint and cover partitions 0..n-1. */
function covers(assignments: (number[] | null)[], n: number): boolean {
  if (assignments.some((a) => a === null)) return false;
  const all = assignments.flatMap((a) => a!).sort((x, y) => x - y);
  return JSON.stringify(all) === JSON.stringify(Array.from({ length: n }, (_, i) => i));
}

function records(members: ChildClient[]): Set<string> {
  const out = new Set<string>();
  for (const m of members) for (const e of m.events) if (e.event === 'record') out.add(`${e.partition}:${e.offset}`);
  return out;
}

/** kcat's stderr: "% Group g rebalanced (memberid …): assigned: t [0], t [2]" → [0, 2]. */
function kcatAssignment(c: ChildClient): number[] | null {
  for (let i = c.stderrLines.length - 1; i >= 0; i--) {
    const m = /rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)$/.exec(c.stderrLines[i]);
    if (!m) continue;
    if (m[1] === 'revoked') return [];
    return [...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
  }
  return null;
}

function kcatRecords(members: ChildClient[]): Set<string> {
  const out = new Set<string>();
  for (const m of members) for (const line of m.stdoutLines) if (/^\d+ \d+ /.test(line)) out.add(line.split(' ').slice(0, 2).join(':'));
  return out;
}

test('kcat -G: two balanced consumers split the partitions; a later one resumes from their commits', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const children: ChildClient[] = [];
  const tb = await brokerWithTopic(t, 'kq', 4, 5, children);
  const kcat = (name: string, extra: string[] = []) => {
    const c = new ChildClient(name, KCAT, ['-b', tb.bootstrap, '-G', 'kcat-group', 'kq', '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=300', '-X', 'auto.commit.interval.ms=200', '-u', '-f', '%p %o %s\n', ...extra]);
    children.push(c);
    return c;
  };
  const a = kcat('kcat-a');
  await eventually('kcat-a to own all four partitions', () => JSON.stringify(kcatAssignment(a)) === '[0,1,2,3]');
  const b = kcat('kcat-b');
  await eventually('the two kcats to split the partitions', () => {
    const [x, y] = [kcatAssignment(a), kcatAssignment(b)];
    return x !== null && y !== null && x.length === 2 && y.length === 2 && covers([x, y], 4);
  });
  await eventually('all 20 records consumed', () => kcatRecords([a, b]).size === 20);
  // Stopping one member rebalances the group, which can turn the other's final commit away; so the
  // periodic commits must have landed first.
  await eventually('the consumed positions to be committed', () =>
    tb.broker.groups.fetchOffsets('kcat-group', [{ name: 'kq', partitions: [0, 1, 2, 3] }]).every((f) => f.offset === 5n),
  );
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
  // kcat commits on close; a new member starts where the group stopped.
  await produceMore(tb, 'kq', 4, 2, 'second');
  const c = kcat('kcat-c', ['-e']);
  assert.equal(await c.exited, 0, c.stderrTail);
  assert.deepEqual([...kcatRecords([c])].sort(), ['0:5', '0:6', '1:5', '1:6', '2:5', '2:6', '3:5', '3:6']);
});

test('kafka-python KafkaConsumer: two members share the topic, the survivor takes over on leave, commits persist', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-kafka')) return;
  const children: ChildClient[] = [];
  const tb = await brokerWithTopic(t, 'pyq', 4, 5, children);
  const member = (name: string) => {
    const c = new ChildClient(name, PYTHON, [FIXTURES + 'kafka_python_member.py', tb.bootstrap, 'py-group', 'pyq']);
    children.push(c);
    return c;
  };
  const a = member('py-a');
  await eventually('py-a to own everything', () => a.assignment?.length === 4, 90_000);
  const b = member('py-b');
  await eventually('two kafka-python members to split the partitions', () => a.assignment?.length === 2 && b.assignment?.length === 2 && covers([a.assignment, b.assignment], 4), 90_000);
  await eventually('all 20 records processed', () => records([a, b]).size === 20, 90_000);
  assert.equal(await b.stop(), 0, b.stderrTail);
  await eventually('py-a to take everything back', () => a.assignment?.length === 4, 90_000);
  await produceMore(tb, 'pyq', 4, 1, 'second');
  await eventually('the new records processed by the survivor', () => records([a]).size >= 4 && records([a, b]).size === 24, 90_000);
  assert.equal(await a.stop(), 0, a.stderrTail);
  const fetched = await tb.broker.groups.fetchOffsets('py-group', [{ name: 'pyq', partitions: [0, 1, 2, 3] }]);
  assert.deepEqual(fetched.map((f) => Number(f.offset)), [6, 6, 6, 6]);
});

test('confluent-kafka cooperative-sticky: a joining member takes half without the owner giving up the rest', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const children: ChildClient[] = [];
  const tb = await brokerWithTopic(t, 'coop', 4, 3, children);
  const member = (name: string) => {
    const c = new ChildClient(name, PYTHON, [FIXTURES + 'confluent_member.py', tb.bootstrap, 'coop-group', 'coop']);
    children.push(c);
    return c;
  };
  const a = member('coop-a');
  await eventually('coop-a to own everything', () => a.assignment?.length === 4, 90_000);
  await eventually('all 12 records processed', () => records([a]).size === 12, 90_000);
  const b = member('coop-b');
  await eventually('the partitions to be split', () => a.assignment?.length === 2 && b.assignment?.length === 2 && covers([a.assignment, b.assignment], 4), 90_000);
  // Incremental: a only ever gave up the two partitions b now owns; it never held nothing.
  const revokes = a.events.filter((e) => e.event === 'revoked');
  assert.equal(revokes.length, 1, JSON.stringify(a.events.filter((e) => e.event !== 'record')));
  assert.deepEqual(revokes[0].removed, b.assignment);
  assert.ok(a.events.filter((e) => e.event === 'assigned' || e.event === 'revoked').every((e) => (e.partitions as number[]).length > 0));
  const described = tb.broker.groups.describeGroup('coop-group');
  assert.deepEqual([described.state, described.protocolData, described.members.length], ['Stable', 'cooperative-sticky', 2]);
  // b leaves: its partitions are added to a's without revoking a's own.
  assert.equal(await b.stop(), 0, b.stderrTail);
  await eventually('coop-a to get everything back', () => a.assignment?.length === 4, 90_000);
  assert.equal(a.events.filter((e) => e.event === 'revoked').length, 1, 'no further revocation');
  await produceMore(tb, 'coop', 4, 1, 'second');
  await eventually('new records processed', () => records([a, b]).size === 16, 90_000);
});

test('confluent-kafka static membership: a killed member restarted with its group.instance.id gets its partitions back without a rebalance', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const children: ChildClient[] = [];
  const tb = await brokerWithTopic(t, 'stat', 4, 2, children);
  // Long enough that a restarted python process (interpreter start, import, join) always beats it.
  const STATIC_SESSION_MS = 12_000;
  const member = (name: string, instance: string) => {
    const c = new ChildClient(name, PYTHON, [FIXTURES + 'confluent_member.py', tb.bootstrap, 'static-group', 'stat', 'range', instance, String(STATIC_SESSION_MS)]);
    children.push(c);
    return c;
  };
  const a = member('static-a', 'instance-a');
  await eventually('static-a to own everything', () => a.assignment?.length === 4, 90_000);
  const b = member('static-b', 'instance-b');
  await eventually('the partitions to be split', () => a.assignment?.length === 2 && b.assignment?.length === 2 && covers([a.assignment, b.assignment], 4), 90_000);
  const group = tb.broker.groups.groups.get('static-group')!;
  await eventually('the group to be stable', () => group.state === 'Stable');
  const generation = group.generationId;
  const eventsOfA = a.events.length;
  const owned = b.assignment;

  b.signal('SIGKILL');
  await b.exited;
  const restarted = member('static-b2', 'instance-b');
  await eventually('the restarted instance to get its partitions', () => JSON.stringify(restarted.assignment) === JSON.stringify(owned), 90_000);
  assert.equal(group.generationId, generation, 'no new generation');
  assert.equal(group.state, 'Stable');
  assert.deepEqual([...group.staticMembers.keys()].sort(), ['instance-a', 'instance-b']);
  assert.equal(group.members.size, 2);
  // Well past the old incarnation's session timeout: still no rebalance, a was never disturbed.
  await new Promise((r) => setTimeout(r, STATIC_SESSION_MS + 1_000));
  assert.equal(group.generationId, generation);
  assert.deepEqual(a.events.slice(eventsOfA).filter((e) => e.event !== 'record'), []);
});

interface PlatformaticAdmin {
  listGroups(options?: { states?: string[]; types?: string[] }): Promise<Map<string, { id: string; state: string; protocolType: string; groupType: string }>>;
  describeGroups(options: { groups: string[] }): Promise<Map<string, { id: string; state: string; protocol: string; protocolType: string; members: Map<string, { clientId: string; assignments?: Map<string, { partitions: number[] }> }> }>>;
  listConsumerGroupOffsets(options: { groups: string[] }): Promise<{ groupId: string; topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] }[] }[]>;
  alterConsumerGroupOffsets(options: { groupId: string; topics: { name: string; partitionOffsets: { partition: number; offset: bigint }[] }[] }): Promise<void>;
  deleteConsumerGroupOffsets(options: { groupId: string; topics: { name: string; partitionIndexes: number[] }[] }): Promise<unknown>;
  deleteGroups(options: { groups: string[] }): Promise<void>;
  close(): Promise<void>;
}

test('admin through kafka-python and @platformatic/kafka: list, describe, offsets with lag, delete offsets, delete groups', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-kafka')) return;
  const children: ChildClient[] = [];
  const tb = await brokerWithTopic(t, 'ledger', 3, 10, children);
  const { Admin } = (await import('@platformatic/kafka' as string)) as { Admin: new (o: { clientId: string; bootstrapBrokers: string[] }) => PlatformaticAdmin };
  const admin = new Admin({ clientId: 'platformatic-admin', bootstrapBrokers: [tb.bootstrap] });
  t.after(() => admin.close());

  // "readers": offsets only (set through the admin client); "live": a running kafka-python member.
  await admin.alterConsumerGroupOffsets({ groupId: 'readers', topics: [{ name: 'ledger', partitionOffsets: [0, 1, 2].map((p) => ({ partition: p, offset: BigInt(4 + p) })) }] });
  const live = new ChildClient('live', PYTHON, [FIXTURES + 'kafka_python_member.py', tb.bootstrap, 'live', 'ledger']);
  children.push(live);
  await eventually('the live member to consume everything', () => live.assignment?.length === 3 && records([live]).size === 30, 90_000);
  // The member prints a record before committing it: lag 0 needs the commits, not only the prints.
  await eventually('the live member to commit everything', () =>
    tb.broker.groups.fetchOffsets('live', [{ name: 'ledger', partitions: [0, 1, 2] }]).every((f) => f.offset === 10n),
  );

  const py = await run(PYTHON, [FIXTURES + 'kafka_python_admin.py', tb.bootstrap, 'ledger', 'readers', 'live'], { timeoutMs: 90_000 });
  assert.equal(py.code, 0, py.stderr);
  const report = JSON.parse(py.stdout) as {
    list: [string, string][];
    describe: Record<string, { state: string; protocol_type: string; protocol: string; members: { client_id: string; client_host: string; assigned: number[] }[] }>;
    offsets: Record<string, Record<string, number>>;
    lag: Record<string, Record<string, number>>;
  };
  assert.deepEqual(report.list, [['live', 'consumer'], ['readers', '']]);
  assert.equal(report.describe.live.state, 'Stable');
  assert.equal(report.describe.live.protocol_type, 'consumer');
  assert.equal(report.describe.live.members.length, 1);
  assert.equal(report.describe.live.members[0].client_id, 'kafka-python-member');
  assert.deepEqual(report.describe.live.members[0].assigned, [0, 1, 2]);
  assert.equal(report.describe.readers.state, 'Empty');
  assert.deepEqual(report.offsets.readers, { 'ledger-0': 4, 'ledger-1': 5, 'ledger-2': 6 });
  assert.deepEqual(report.lag.readers, { 'ledger-0': 6, 'ledger-1': 5, 'ledger-2': 4 });
  assert.deepEqual(report.lag.live, { 'ledger-0': 0, 'ledger-1': 0, 'ledger-2': 0 });

  const listed = await admin.listGroups();
  assert.deepEqual([...listed.values()].map((g) => [g.id, g.state.toUpperCase(), g.protocolType]).sort(), [['live', 'STABLE', 'consumer'], ['readers', 'EMPTY', '']]);
  const described = await admin.describeGroups({ groups: ['live'] });
  const liveGroup = described.get('live')!;
  assert.equal(liveGroup.members.size, 1);
  assert.deepEqual([...[...liveGroup.members.values()][0].assignments!.values()][0].partitions.slice().sort(), [0, 1, 2]);

  await admin.deleteConsumerGroupOffsets({ groupId: 'readers', topics: [{ name: 'ledger', partitionIndexes: [0] }] });
  const after = await admin.listConsumerGroupOffsets({ groups: ['readers'] });
  const committed = after[0].topics.flatMap((t) => t.partitions.filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, Number(p.committedOffset)]));
  assert.deepEqual(committed.sort(), [[1, 5], [2, 6]]);
  // A group with members cannot be deleted; an empty one can.
  await assert.rejects(admin.deleteGroups({ groups: ['live'] }));
  await admin.deleteGroups({ groups: ['readers'] });
  assert.deepEqual([...(await admin.listGroups()).keys()], ['live']);
});
