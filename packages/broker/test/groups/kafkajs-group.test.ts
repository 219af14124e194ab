/**
 * kafkajs consumer groups, each member in its own process: three members share a 6-partition
 * topic; a clean leave, a new member and a SIGKILLed member (noticed through the session timeout)
 * each end in a rebalance after which every partition has exactly one owner; with commits after
 * processing, members started after a broker restart resume where the group left off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { startTestBroker, tempDir, type TestBroker } from '../helpers.js';
import { ChildClient, eventually } from './child.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel, AssignerProtocol } = require('kafkajs') as typeof KafkaJS;

const MEMBER = new URL('./fixtures/kafkajs-member.js', import.meta.url).pathname;
const TOPIC = 'jobs';
const GROUP = 'workers';
const PARTITIONS = [0, 1, 2, 3, 4, 5];
const SESSION_TIMEOUT_MS = 4000;
const BROKER_OPTIONS = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1000 };

/** Every live member reports an assignment, no partition twice, all six covered. */
function balanced(members: ChildClient[]): boolean {
  const owned = members.map((m) => m.assignment);
  if (owned.some((a) => a === null)) return false;
  const all = owned.flatMap((a) => a!).sort((x, y) => x - y);
  return JSON.stringify(all) === JSON.stringify(PARTITIONS);
}

function recordsOf(members: ChildClient[]): Set<string> {
  const seen = new Set<string>();
  for (const m of members) for (const e of m.events) if (e.event === 'record') seen.add(`${e.partition}:${e.offset}`);
  return seen;
}

function assignedCount(m: ChildClient): number {
  return m.events.filter((e) => e.event === 'assigned').length;
}

test('kafkajs: three members share six partitions through joins, a clean leave and a crash; commits resume after a broker restart', { timeout: 300_000 }, async (t) => {
  const dataDir = tempDir();
  let tb: TestBroker = await startTestBroker(BROKER_OPTIONS, dataDir);
  let port = tb.broker.port;
  const children: ChildClient[] = [];
  const kafka = new Kafka({ clientId: 'group-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
  const admin = kafka.admin();
  const producer = kafka.producer();
  t.after(async () => {
    await Promise.all(children.map((c) => c.stop(5000)));
    await admin.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await tb.dispose();
  });
  const spawnMember = (name: string) => {
    const c = new ChildClient(name, process.execPath, [MEMBER, `127.0.0.1:${port}`, GROUP, TOPIC, String(SESSION_TIMEOUT_MS)]);
    children.push(c);
    return c;
  };
  const produce = async (round: string, perPartition: number) => {
    await producer.send({
      topic: TOPIC,
      messages: PARTITIONS.flatMap((partition) => Array.from({ length: perPartition }, (_, i) => ({ partition, value: `${round}-${partition}-${i}` }))),
    });
  };
  const describeOwners = async () => {
    const { groups } = await admin.describeGroups([GROUP]);
    const g = groups[0];
    return {
      state: g.state,
      owners: g.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[TOPIC] ?? []),
    };
  };

  await admin.connect();
  await producer.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] });
  await produce('first', 10);

  // Three members: each partition owned by exactly one of them, all 60 records processed.
  const [m1, m2, m3] = [spawnMember('m1'), spawnMember('m2'), spawnMember('m3')];
  await eventually('three members to share all partitions', () => balanced([m1, m2, m3]) && [m1, m2, m3].every((m) => m.assignment!.length === 2));
  await eventually('all 60 records processed', () => recordsOf(children).size === 60);
  const view = await eventually('the group to be stable with three members', async () => {
    const d = await describeOwners();
    return d.state === 'Stable' && d.owners.length === 3 ? d : null;
  });
  assert.deepEqual(view.owners.flat().sort((a, b) => a - b), PARTITIONS, 'the coordinator holds the same assignment');

  // A clean leave: the other two take over its partitions.
  const before = assignedCount(m1);
  assert.equal(await m3.stop(), 0);
  await eventually('two members to own everything after a leave', () => assignedCount(m1) > before && balanced([m1, m2]));

  // A new member joins.
  const m4 = spawnMember('m4');
  await eventually('three members again after a join', () => balanced([m1, m2, m4]) && m4.assignment!.length === 2);

  // A crash: nobody tells the coordinator; the session timeout does.
  const beforeCrash = assignedCount(m1);
  const killedAt = Date.now();
  m4.signal('SIGKILL');
  await m4.exited;
  await eventually('two members to own everything after the crash', () => assignedCount(m1) > beforeCrash && balanced([m1, m2]), 60_000);
  const detectedAfter = Date.now() - killedAt;
  assert.ok(detectedAfter >= SESSION_TIMEOUT_MS - 1000, `rebalanced ${detectedAfter} ms after the kill: only the session timeout (${SESSION_TIMEOUT_MS} ms) can have noticed`);

  // More records while two members run, then both stop cleanly: everything is committed.
  await produce('second', 10);
  await eventually('all 120 records processed', () => recordsOf(children).size === 120);
  await Promise.all([m1.stop(), m2.stop()]);
  const committed = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  assert.deepEqual(committed[0].partitions.map((p) => [p.partition, p.offset]).sort((a, b) => Number(a[0]) - Number(b[0])), PARTITIONS.map((p) => [p, '20']));

  // Records produced while nobody consumes, then a broker restart on the same data and port.
  await produce('third', 5);
  await admin.disconnect();
  await producer.disconnect();
  await tb.stop();
  // A fresh port: the old one may have been handed to another test's connection in the gap.
  tb = await startTestBroker(BROKER_OPTIONS, dataDir);
  port = tb.broker.port;

  // A member started now resumes from the committed offsets: exactly the 30 new records.
  const m5 = spawnMember('m5');
  await eventually('the restarted group to process the 30 new records', () => recordsOf([m5]).size === 30);
  const resumed = [...recordsOf([m5])].map((k) => k.split(':').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual(resumed, PARTITIONS.flatMap((p) => [20, 21, 22, 23, 24].map((o) => [p, o])), 'nothing skipped, nothing replayed');
  const values = m5.events.filter((e) => e.event === 'record').map((e) => String(e.value));
  assert.ok(values.every((v) => v.startsWith('third-')));
  assert.equal(await m5.stop(), 0);
});
