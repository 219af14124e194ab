/** `sluice log-dirs` and `sluice broker-api-versions` against two in-process brokers sharing one cluster metadata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryClusterMetadata, startBroker } from '@sluice/broker';
import { ApiKey, buildRecordBatch } from '@sluice/protocol';
import { run, startTestBroker, type TestBroker } from './helpers.js';

async function twoBrokers(t: import('node:test').TestContext): Promise<TestBroker[]> {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.stop();
  });
  for (const nodeId of [1, 2]) brokers.push(await startTestBroker({ nodeId, metadataStore: cluster.storeFor(nodeId) }));
  return brokers;
}

test('log-dirs --describe: every broker\'s directory with each replica\'s size and offset lag; --broker-list, --topic-list, --json in Kafka\'s shape; bad input refused', async (t) => {
  const brokers = await twoBrokers(t);
  const ctx = brokers[0].broker.context;
  await ctx.topics.create({ name: 'ld', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2] }] });
  await ctx.topics.create({ name: 'other', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
  for (const b of brokers) await b.broker.context.topics.reconciler.caughtUp();
  const leader = ctx.replicaManager.getPartition('ld', 0)!;
  await ctx.replicaManager.appendRecords(leader, buildRecordBatch([{ key: null, value: Buffer.alloc(500, 1), timestamp: 0n }]), { acks: -1, timeoutMs: 5000, origin: 'client' });
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');

  let r = await run('log-dirs', ['--bootstrap-server', bootstrap, '--describe']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Received log directory information from brokers 1,2/);
  assert.match(r.stdout, /BROKER\s+LOG DIR\s+PARTITION\s+SIZE\s+OFFSET LAG/);
  for (const [broker, partition] of [[1, 'ld-0'], [2, 'ld-0'], [2, 'ld-1'], [1, 'other-0']] as const) {
    assert.match(r.stdout, new RegExp(`^${broker}\\s+\\S+\\s+${partition}\\s`, 'm'), `broker ${broker} holds ${partition}`);
  }

  r = await run('log-dirs', ['--bootstrap-server', bootstrap, '--describe', '--broker-list', '1', '--topic-list', 'ld', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.brokers.map((b: { broker: number }) => b.broker), [1]);
  const [dir] = doc.brokers[0].logDirs;
  assert.equal(dir.logDir, brokers[0].dataDir);
  assert.equal(dir.error, null);
  assert.deepEqual(dir.partitions.map((p: { partition: string }) => p.partition), ['ld-0']);
  assert.ok(dir.partitions[0].size > 500, 'the record batch is counted');
  assert.equal(dir.partitions[0].offsetLag, 0);

  for (const [args, code, message] of [
    [[], 2, /--describe is required/],
    [['--describe', '--broker-list', '1,x'], 2, /broker ids/],
    [['--describe', '--broker-list', '7'], 1, /broker\(s\) 7 are not in the cluster/],
  ] as const) {
    r = await run('log-dirs', ['--bootstrap-server', bootstrap, ...args]);
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('broker-api-versions: each broker\'s range per API and the usable version, in kafka-broker-api-versions.sh\'s format; --json', async (t) => {
  const brokers = await twoBrokers(t);
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  let r = await run('broker-api-versions', ['--bootstrap-server', bootstrap]);
  assert.equal(r.code, 0, r.stderr);
  for (const b of brokers) assert.match(r.stdout, new RegExp(`^127\\.0\\.0\\.1:${b.broker.port} \\(id: ${b.broker.context.nodeId} rack: null\\) -> \\(`, 'm'));
  assert.match(r.stdout, /^\tProduce\(0\): \d+ to \d+ \[usable: 11\],$/m);
  assert.match(r.stdout, /^\tApiVersions\(18\): 0 to \d+ \[usable: \d+\],?$/m);
  r = await run('broker-api-versions', ['--bootstrap-server', bootstrap, '--json']);
  const doc = JSON.parse(r.stdout) as Array<{ id: number; apis: Array<{ apiKey: number; usable: number; max: number }> }>;
  assert.deepEqual(doc.map((b) => b.id), [1, 2]);
  const fetch = doc[0].apis.find((a) => a.apiKey === ApiKey.Fetch)!;
  assert.ok(fetch.usable >= 4 && fetch.usable <= fetch.max);
});

test('log-dirs --describe on a broker with two log.dirs (JBOD): one entry per directory, each with its own replicas', async (t) => {
  const dirs = [mkdtempSync(join(tmpdir(), 'sluice-ld-a-')), mkdtempSync(join(tmpdir(), 'sluice-ld-b-'))];
  const broker = await startBroker({ host: '127.0.0.1', port: 0, 'log.dirs': dirs.join(',') } as Parameters<typeof startBroker>[0]);
  t.after(async () => {
    await broker.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  await broker.context.topics.create({ name: 'jb', numPartitions: 2, replicationFactor: 1, configs: {} });
  const r = await run('log-dirs', ['--bootstrap-server', `127.0.0.1:${broker.port}`, '--describe', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { brokers: Array<{ logDirs: Array<{ logDir: string; partitions: Array<{ partition: string }> }> }> };
  const logDirs = doc.brokers[0].logDirs;
  assert.deepEqual(logDirs.map((d) => d.logDir).sort(), [...dirs].sort());
  assert.deepEqual(logDirs.map((d) => d.partitions.length), [1, 1], 'one partition in each directory');
  assert.deepEqual(logDirs.flatMap((d) => d.partitions.map((p) => p.partition)).sort(), ['jb-0', 'jb-1']);
});
