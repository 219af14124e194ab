/**
 * Issue 14's acceptance on a real local cluster (etcd and `sluice start` processes): the user's
 * scenario. Three brokers hold a keyed topic under steady produce (kcat and @sluice/client,
 * idempotent, acks=all) and consume (a group committing after every poll); a fourth broker starts;
 * `sluice reassign-partitions` generates a plan, executes it with a throttle and verifies it (which
 * removes the throttle); `sluice leader-election` elects preferred leaders; the new broker holds its
 * share. A throttled reassignment is cancelled midway; kafkajs's admin raises a replication factor
 * from 1 to 3 with data in place (AlterPartitionReassignments/ListPartitionReassignments);
 * `sluice cluster remove-broker` empties a broker, which then stops. Throughout, no acknowledged
 * record is lost and the consumer sees no gap or duplicate.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as KafkaJS from 'kafkajs';
import { Admin, Consumer, Producer } from '@sluice/client';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { run } from './helpers.js';
import { BrokerProcess, freePort, startProcessCluster, until } from './support/process-cluster.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;

const OVERRIDES = { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'offsets.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0, 'auto.leader.rebalance.enable': 'false' };
const step = (t: TestContext, message: string) => {
  t.diagnostic(message);
  if (process.env.SLUICE_TEST_LOG) process.stderr.write(`[operations] ${message}\n`);
};

test('add a broker, reassign with a throttle, verify, elect preferred leaders, cancel midway, RF 1→3 through kafkajs, remove a broker: nothing acknowledged lost, no consumer gap or duplicate', { timeout: 600_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server', 'kcat')) return;
  const cluster = await startProcessCluster({ brokers: 3, overrides: OVERRIDES });
  t.after(() => cluster.close());
  const extraDir = mkdtempSync(join(tmpdir(), 'sluice-ops-'));
  t.after(() => rmSync(extraDir, { recursive: true, force: true }));
  const bootstrap = () => cluster.bootstrap.join(',');
  const admin = new Admin({ brokers: cluster.bootstrap });
  t.after(() => admin.close());
  const file = (name: string, body: unknown) => {
    writeFileSync(join(extraDir, name), JSON.stringify(body));
    return join(extraDir, name);
  };
  const describe = async (topic: string) => (await admin.describeTopics([topic]))[0].partitions;
  const fullIsr = async (topic: string) => (await describe(topic)).every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);

  await admin.createTopics([{ topic: 'ops', numPartitions: 6, replicationFactor: 2 }]);
  await until('ops with full ISRs', () => fullIsr('ops'));

  // Our producer: keyed, idempotent, acks=all; what it saw acknowledged, by value.
  const acked = new Set<string>();
  let stopping = false;
  const producer = new Producer({ brokers: cluster.bootstrap, acks: 'all', enableIdempotence: true, lingerMs: 2, requestTimeoutMs: 5000 });
  const writer = (async () => {
    for (let n = 0; !stopping; n += 10) {
      const records = Array.from({ length: 10 }, (_, i) => ({ topic: 'ops', key: `k${(n + i) % 37}`, value: `ours:${n + i}` }));
      await producer.sendBatch(records);
      for (const r of records) acked.add(r.value);
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  // kcat: keyed lines, idempotent, acks=all; every line must be delivered by the time it exits.
  const kcat = spawn(kcatPath(), ['-P', '-b', bootstrap(), '-t', 'ops', '-K:', '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-X', 'request.timeout.ms=5000', '-X', 'message.timeout.ms=120000'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let kcatErr = '';
  kcat.stderr!.on('data', (b: Buffer) => (kcatErr += b.toString()));
  const kcatExit = new Promise<number | null>((resolve) => kcat.once('exit', resolve));
  let kcatLines = 0;
  const kcatTimer = setInterval(() => {
    let lines = '';
    for (let i = 0; i < 10; i++, kcatLines++) lines += `k${kcatLines % 29}:kcat:${kcatLines}\n`;
    kcat.stdin!.write(lines);
  }, 50);

  // A consumer group committing after every poll: offsets it sees must run on without gaps or repeats.
  const consumer = new Consumer({ brokers: cluster.bootstrap, groupId: 'ops-group', autoOffsetReset: 'earliest', enableAutoCommit: false });
  await consumer.subscribe(['ops']);
  const nextOffset = new Map<number, bigint>();
  const consumedValues: string[] = [];
  const reader = (async () => {
    while (!stopping) {
      const batch = await consumer.poll();
      if (!batch || batch.records.length === 0) continue;
      const positions = new Map<number, bigint>();
      for (const r of batch.records) {
        const expected = nextOffset.get(r.partition) ?? 0n;
        assert.equal(r.offset, expected, `consumer: partition ${r.partition} jumped from ${expected} to ${r.offset}`);
        nextOffset.set(r.partition, r.offset + 1n);
        positions.set(r.partition, r.offset + 1n);
        consumedValues.push(r.value!.toString());
      }
      // Committed before the next poll, retried through coordinator moves, so a rejoin resumes exactly here.
      await until('the commit', async () => (await consumer.commit([...positions].map(([partition, offset]) => ({ topic: 'ops', partition, offset }))), true), 60_000);
    }
  })();

  // Their failures surface when awaited at the end; until then a rejection must not go unhandled.
  writer.catch(() => undefined);
  reader.catch(() => undefined);
  // On a failure midway: stop the load so nothing keeps the test process alive.
  t.after(async () => {
    stopping = true;
    clearInterval(kcatTimer);
    kcat.kill('SIGKILL');
    await Promise.allSettled([producer.close(), consumer.close()]);
  });
  const progressed = async (what: string) => {
    const before = [acked.size, kcatLines, consumedValues.length];
    await until(`progress after ${what}`, async () => acked.size > before[0] + 50 && consumedValues.length > before[2] + 50, 60_000);
    step(t, `${what}: ${acked.size} acknowledged (ours), ${kcatLines} kcat lines, ${consumedValues.length} consumed`);
  };
  await progressed('start');

  // 1. A fourth broker joins; it holds nothing until partitions move to it.
  const fourth = new BrokerProcess(4, await freePort(), join(extraDir, 'broker4'), cluster.etcdEndpoints, OVERRIDES);
  cluster.brokers.push(fourth);
  cluster.bootstrap.push(fourth.bootstrap);
  await fourth.start();
  await until('broker 4 registered', async () => (await admin.describeCluster()).brokers.length === 4);
  assert.equal((await describe('ops')).filter((p) => p.replicas.includes(4)).length, 0, 'a new broker serves nothing by itself');

  // 2. Generate, execute with a throttle, verify until done (which clears the throttle).
  let r = await run('reassign-partitions', ['--bootstrap-server', bootstrap(), '--generate', '--topics-to-move-json-file', file('topics.json', { topics: [{ topic: 'ops' }], version: 1 }), '--broker-list', '1,2,3,4']);
  assert.equal(r.code, 0, r.stderr);
  const proposed = /Proposed partition reassignment configuration\n(.*)\n/.exec(r.stdout)![1];
  const plan = file('plan.json', JSON.parse(proposed));
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap(), '--execute', '--reassignment-json-file', plan, '--throttle', '2000000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /The inter-broker throttle limit was set to 2000000 B\/s/);
  await until('the reassignment verified complete', async () => {
    const v = await run('reassign-partitions', ['--bootstrap-server', bootstrap(), '--verify', '--reassignment-json-file', plan]);
    return /Clearing broker-level throttles/.test(v.stdout) && !/still in progress/.test(v.stdout);
  }, 120_000);
  const throttle = await admin.describeConfigs([{ type: 'broker', name: '4', keys: ['leader.replication.throttled.rate'] }]);
  assert.equal(throttle[0].configs.find((c) => c.name === 'leader.replication.throttled.rate')?.value ?? null, null, 'throttle removed by --verify');
  r = await run('leader-election', ['--bootstrap-server', bootstrap(), '--election-type', 'PREFERRED', '--all-topic-partitions']);
  assert.equal(r.code, 0, r.stderr);
  const ops = await describe('ops');
  const onFour = ops.filter((p) => p.replicas.includes(4)).length;
  // Kafka's generator spreads leaders round-robin from a random broker and followers with a shift:
  // 12 replicas over 4 brokers land 2 to 4 on each.
  assert.ok(onFour >= 2, `broker 4 holds ${onFour} of 12 replicas`);
  assert.ok(ops.every((p) => p.leader === p.replicas[0]), 'preferred leaders elected');
  await progressed('broker 4 added, reassigned with a throttle, preferred leaders elected');

  // 3. A throttled reassignment cancelled midway: the partition returns to its replicas.
  await admin.createTopics([{ topic: 'big', numPartitions: 1, replicationFactor: 1 }]);
  await until('big has a leader', () => fullIsr('big'));
  const bigProducer = new Producer({ brokers: cluster.bootstrap, acks: 'all', lingerMs: 5 });
  for (let i = 0; i < 40; i++) await bigProducer.sendBatch(Array.from({ length: 100 }, () => ({ topic: 'big', partition: 0, value: Buffer.alloc(1024, i) })));
  await bigProducer.close();
  const [bigBefore] = await describe('big');
  const target = [bigBefore.replicas[0], ...[1, 3, 4].filter((b) => b !== bigBefore.replicas[0]).slice(0, 1)];
  const bigPlan = file('big.json', { version: 1, partitions: [{ topic: 'big', partition: 0, replicas: target }] });
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap(), '--execute', '--reassignment-json-file', bigPlan, '--throttle', '100000']);
  assert.equal(r.code, 0, r.stderr);
  const kafka = new Kafka({ brokers: cluster.bootstrap, clientId: 'ops-admin', logLevel: logLevel.NOTHING });
  const kAdmin = kafka.admin();
  await kAdmin.connect();
  t.after(() => kAdmin.disconnect());
  const listed = await kAdmin.listPartitionReassignments({});
  // kafkajs's types say `topic`; its decoder gives the wire name `name`.
  const big = listed.topics.find((x) => (x as { name?: string }).name === 'big' || x.topic === 'big');
  assert.equal(big?.partitions[0].addingReplicas?.length, 1, `kafkajs lists the reassignment under way: ${JSON.stringify(listed)}`);
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap(), '--cancel', '--reassignment-json-file', bigPlan]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully cancelled partition reassignments for: big-0/);
  await until('big back on its replica', async () => {
    const [p] = await describe('big');
    return p.replicas.length === 1 && p.replicas[0] === bigBefore.replicas[0];
  });
  step(t, 'throttled reassignment of big-0 cancelled midway');

  // 4. Replication factor 1 → 3 with data in place, through kafkajs's admin.
  await admin.createTopics([{ topic: 'rf', numPartitions: 1, replicationFactor: 1 }]);
  await until('rf has a leader', () => fullIsr('rf'));
  const rfProducer = new Producer({ brokers: cluster.bootstrap, acks: 'all', lingerMs: 5 });
  await rfProducer.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ topic: 'rf', partition: 0, value: `rf:${i}` })));
  await rfProducer.close();
  const [rfBefore] = await describe('rf');
  const three = [rfBefore.replicas[0], ...[1, 3, 4].filter((b) => b !== rfBefore.replicas[0])].slice(0, 3);
  await kAdmin.alterPartitionReassignments({ topics: [{ topic: 'rf', partitionAssignment: [{ partition: 0, replicas: three }] }] });
  await until('rf on three in-sync replicas', async () => {
    const [p] = await describe('rf');
    return p.replicas.length === 3 && p.isr.length === 3 && (await kAdmin.listPartitionReassignments({})).topics.length === 0;
  }, 60_000);
  const rfReader = new Consumer({ brokers: cluster.bootstrap, autoOffsetReset: 'earliest' });
  const rfValues: string[] = [];
  await rfReader.assign([{ topic: 'rf', partition: 0 }]);
  await until('rf read back', async () => {
    for (const rec of (await rfReader.poll())?.records ?? []) rfValues.push(rec.value!.toString());
    return rfValues.length >= 1000;
  });
  await rfReader.close();
  assert.deepEqual(rfValues, Array.from({ length: 1000 }, (_, i) => `rf:${i}`));
  step(t, `rf raised to RF=3 on ${three.join(',')} by kafkajs with its 1000 records in place`);

  // 5. Remove broker 2: everything moves off it, then it stops cleanly.
  r = await run('cluster', ['remove-broker', '2', '--bootstrap-server', bootstrap(), '--throttle', '50000000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /broker 2 holds 0 replica\(s\); it can be stopped/);
  await cluster.broker(2).stop();
  await progressed('broker 2 emptied and stopped');

  stopping = true;
  clearInterval(kcatTimer);
  kcat.stdin!.end();
  assert.equal(await kcatExit, 0, kcatErr.slice(-2000));
  await writer;
  await producer.close();
  await reader;
  await consumer.close();

  // Every acknowledged record once: ours by value, kcat's every line (all delivered at its exit).
  const ends = new Map((await admin.listOffsets('ops')).map((o) => [o.partition, o.offset]));
  const all = new Consumer({ brokers: cluster.bootstrap, autoOffsetReset: 'earliest' });
  const seen = new Map<string, number>();
  await all.assign(Array.from({ length: 6 }, (_, partition) => ({ topic: 'ops', partition })));
  const next = Array.from({ length: 6 }, () => 0n);
  await until('ops read back', async () => {
    for (const rec of (await all.poll())?.records ?? []) {
      const v = rec.value!.toString();
      seen.set(v, (seen.get(v) ?? 0) + 1);
      next[rec.partition] = rec.offset + 1n;
    }
    return next.every((o, p) => o >= ends.get(p)!);
  }, 120_000);
  await all.close();
  for (const v of acked) assert.equal(seen.get(v), 1, `acknowledged ${v} read ${seen.get(v) ?? 0} times`);
  for (let i = 0; i < kcatLines; i++) assert.equal(seen.get(`kcat:${i}`), 1, `kcat line ${i} read ${seen.get(`kcat:${i}`) ?? 0} times`);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(duplicates, [], 'nothing stored twice');
  step(t, `${acked.size} of ours and ${kcatLines} kcat records each read once; the group consumed ${consumedValues.length} with no gap or repeat`);
});
