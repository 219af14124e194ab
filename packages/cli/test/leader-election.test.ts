/** `sluice leader-election` against two in-process brokers sharing one cluster metadata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryClusterMetadata } from '@sluice/broker';
import { run, startTestBroker, type TestBroker } from './helpers.js';

test('preferred election by partition, JSON file and all partitions; Kafka\'s report lines; bad input refused', async (t) => {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.stop();
  });
  for (const nodeId of [1, 2]) brokers.push(await startTestBroker({ nodeId, metadataStore: cluster.storeFor(nodeId), 'auto.leader.rebalance.enable': false }));
  const ctx = brokers[0].broker.context;
  await ctx.topics.create({ name: 'le', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }] });
  const moveAway = async () => {
    for (const p of [0, 1]) {
      const s = cluster.topicsByName.get('le')!.partitions[p];
      await cluster.storeFor(1).alterPartition('le', p, s.partitionEpoch!, { leader: s.replicas[1] });
    }
  };
  const leaders = () => cluster.topicsByName.get('le')!.partitions.map((p) => p.leader);
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');

  await moveAway();
  let r = await run('leader-election', ['--bootstrap-server', bootstrap, '--election-type', 'PREFERRED', '--topic', 'le', '--partition', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully completed leader election \(PREFERRED\) for partitions le-0/);
  assert.deepEqual(leaders(), [1, 1]);

  const dir = await mkdtemp(join(tmpdir(), 'sluice-le-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'p.json');
  await writeFile(file, JSON.stringify({ partitions: [{ topic: 'le', partition: 0 }, { topic: 'le', partition: 1 }] }));
  r = await run('leader-election', ['--bootstrap-server', bootstrap, '--election-type', 'preferred', '--path-to-json-file', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully completed leader election \(PREFERRED\) for partitions le-1/);
  assert.match(r.stdout, /Valid replica already elected for partitions le-0/);
  assert.deepEqual(leaders(), [1, 2]);

  await moveAway();
  r = await run('leader-election', ['--bootstrap-server', bootstrap, '--election-type', 'PREFERRED', '--all-topic-partitions', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).map((x: { topic: string; partition: number; error: string | null }) => [x.topic, x.partition, x.error]).sort(), [['le', 0, null], ['le', 1, null]]);
  assert.deepEqual(leaders(), [1, 2]);

  // Bad input: a clear message and the usage exit code, nothing elected.
  for (const [args, message] of [
    [['--election-type', 'SIDEWAYS', '--all-topic-partitions'], /must be PREFERRED or UNCLEAN/],
    [['--election-type', 'PREFERRED'], /exactly one of/],
    [['--election-type', 'PREFERRED', '--topic', 'le'], /--topic needs --partition/],
    [['--election-type', 'PREFERRED', '--path-to-json-file', join(dir, 'missing.json')], /no such file/],
  ] as const) {
    r = await run('leader-election', ['--bootstrap-server', bootstrap, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  await writeFile(file, '{"partitions": [{"topic": "le"}]}');
  r = await run('leader-election', ['--bootstrap-server', bootstrap, '--election-type', 'PREFERRED', '--path-to-json-file', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs a "partition" number/);
});
