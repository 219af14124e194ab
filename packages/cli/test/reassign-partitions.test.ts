/** `sluice reassign-partitions` against three in-process brokers sharing one cluster metadata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryClusterMetadata } from '@sluice/broker';
import { buildRecordBatch } from '@sluice/protocol';
import { run, startTestBroker, type TestBroker } from './helpers.js';

test('generate, execute, list, verify and cancel with Kafka\'s JSON files; bad input changes nothing', async (t) => {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.stop();
  });
  // Followers fetch for real: a new replica joins the ISR once it has what the leader has. Broker 3
  // (the one being added) makes its first fetch (below the HW) wait replica.fetch.wait.max.ms for
  // more bytes than there are, so a reassignment stays in progress for those 5 s (the checks below
  // need that), then completes on its own.
  const slowFollower = { 'replica.fetch.min.bytes': 1 << 30, 'replica.fetch.wait.max.ms': 5000 };
  for (const nodeId of [1, 2, 3]) brokers.push(await startTestBroker({ nodeId, metadataStore: cluster.storeFor(nodeId), ...(nodeId === 3 ? slowFollower : {}) }));
  await brokers[0].broker.context.topics.create({ name: 'ra', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }] });
  await Promise.all(brokers.map((b) => b.broker.context.topics.reconciler.caughtUp()));
  for (const [index, leader] of [[0, 0], [1, 1]] as const) {
    const rm = brokers[leader].broker.context.replicaManager;
    const appended = await rm.appendRecords(rm.getPartition('ra', index)!, buildRecordBatch([{ key: null, value: Buffer.from('x'), timestamp: 0n }]), { acks: -1, timeoutMs: 5000, origin: 'client' });
    assert.equal(appended.errorCode, 0, 'committed: the HW is 1 before broker 3 joins');
  }
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-ra-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = (name: string, body: unknown) => writeFile(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body)).then(() => join(dir, name));
  const state = (p: number) => cluster.topicsByName.get('ra')!.partitions[p];

  const topicsFile = await file('topics.json', { topics: [{ topic: 'ra' }], version: 1 });
  let r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--generate', '--topics-to-move-json-file', topicsFile, '--broker-list', '2,3']);
  assert.equal(r.code, 0, r.stderr);
  const [, current, proposed] = /Current partition replica assignment\n(.*)\n\nProposed partition reassignment configuration\n(.*)\n/.exec(r.stdout)!;
  assert.deepEqual(JSON.parse(current).partitions.map((p: { replicas: number[] }) => p.replicas), [[1, 2], [2, 1]]);
  for (const p of JSON.parse(proposed).partitions as Array<{ replicas: number[]; log_dirs: string[] }>) {
    assert.deepEqual([...p.replicas].sort(), [2, 3]);
    assert.deepEqual(p.log_dirs, ['any', 'any']);
  }

  const plan = await file('plan.json', { version: 1, partitions: [{ topic: 'ra', partition: 0, replicas: [3, 2] }] });
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--execute', '--reassignment-json-file', plan]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Save this to use as the --reassignment-json-file option during rollback/);
  assert.match(r.stdout, /Successfully started partition reassignment for ra-0/);
  assert.deepEqual(state(0).addingReplicas, [3]);
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--list']);
  assert.match(r.stdout, /ra-0: replicas: 3,2,1\. adding: 3\. removing: 1\./);
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--verify', '--reassignment-json-file', plan]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Reassignment of partition ra-0 is still in progress/);
  assert.match(r.stdout, /PARTITION\s+ADDING\s+REMOVING\s+COPIED/);

  // The new replica joins the ISR (the leader's ISR expansion once it caught up): the controller finishes.
  const deadline = Date.now() + 15_000;
  while (state(0).addingReplicas?.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--verify', '--reassignment-json-file', plan, '--json']);
  const verified = JSON.parse(r.stdout);
  assert.equal(verified.partitions[0].state, 'completed');
  assert.deepEqual(verified.throttlesCleared, { brokers: [1, 2, 3], topics: ['ra'] });
  assert.deepEqual(state(0).replicas, [3, 2]);

  // Cancel: partition 1 goes back to its original replicas.
  const plan1 = await file('plan1.json', { version: 1, partitions: [{ topic: 'ra', partition: 1, replicas: [3, 1] }] });
  assert.equal((await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--execute', '--reassignment-json-file', plan1])).code, 0);
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--cancel', '--reassignment-json-file', plan1]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully cancelled partition reassignments for: ra-1/);
  assert.deepEqual([...state(1).replicas].sort(), [1, 2]);

  // Bad input: clear messages, nothing changed.
  const before = JSON.stringify(cluster.topicsByName.get('ra'));
  for (const [args, code, message] of [
    [['--execute', '--reassignment-json-file', await file('bad.json', '{nope')], 2, /not valid JSON/],
    [['--execute', '--reassignment-json-file', await file('dup.json', { partitions: [{ topic: 'ra', partition: 0, replicas: [1, 1] }] })], 2, /lists a broker twice/],
    [['--execute', '--reassignment-json-file', await file('unk.json', { partitions: [{ topic: 'ra', partition: 0, replicas: [1, 7] }] })], 1, /broker\(s\) 7 are not in the cluster/],
    [['--execute', '--reassignment-json-file', await file('nop.json', { partitions: [{ topic: 'nope', partition: 0, replicas: [1] }] })], 1, /do not exist/],
    [['--generate', '--topics-to-move-json-file', topicsFile, '--broker-list', '1,x'], 2, /broker ids/],
    [['--generate', '--topics-to-move-json-file', topicsFile, '--broker-list', '3'], 1, /replication factor 2, more than/],
    [['--execute'], 2, /needs --reassignment-json-file/],
    [['--verify', '--list'], 2, /exactly one of/],
    [['--execute', '--reassignment-json-file', plan1, '--throttle', 'fast'], 2, /--throttle/],
    [['--verify', '--reassignment-json-file', plan1, '--throttle', '1000'], 2, /--throttle goes with --execute/],
  ] as const) {
    r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, ...args]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(JSON.stringify(cluster.topicsByName.get('ra')), before);
});

test('--execute --throttle sets the rate on the brokers involved and the throttled replicas on the topic; the copy keeps to it; --verify clears it when done', { timeout: 90_000 }, async (t) => {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.stop();
  });
  // Two one-second quota windows: the rate settles quickly enough for a short copy.
  for (const nodeId of [1, 2, 3]) brokers.push(await startTestBroker({ nodeId, metadataStore: cluster.storeFor(nodeId), 'replication.quota.window.num': 2 }));
  await brokers[0].broker.context.topics.create({ name: 'th', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
  await Promise.all(brokers.map((b) => b.broker.context.topics.reconciler.caughtUp()));
  const rm1 = brokers[0].broker.context.replicaManager;
  for (let i = 0; i < 60; i++) {
    const batch = buildRecordBatch(Array.from({ length: 100 }, () => ({ key: null, value: Buffer.alloc(1024, i), timestamp: 0n })));
    await rm1.appendRecords(rm1.getPartition('th', 0)!, batch, { acks: 1, timeoutMs: 0, origin: 'client' });
  }
  const bytes = rm1.getPartition('th', 0)!.sizeInBytes;
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-th-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plan = join(dir, 'plan.json');
  await writeFile(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'th', partition: 0, replicas: [1, 2, 3] }] }));

  const rate = 2_000_000;
  const started = performance.now();
  let r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--execute', '--reassignment-json-file', plan, '--throttle', String(rate)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /The inter-broker throttle limit was set to 2000000 B\/s on brokers 1,2,3/);
  for (const b of brokers) assert.equal(b.broker.context.config.rawValue('leader.replication.throttled.rate'), String(rate), `broker ${b.broker.context.nodeId}`);
  assert.deepEqual(cluster.topicsByName.get('th')!.configs, { 'leader.replication.throttled.replicas': '0:1', 'follower.replication.throttled.replicas': '0:2,0:3' });

  const state = () => cluster.topicsByName.get('th')!.partitions[0];
  while (state().addingReplicas?.length) {
    assert.ok(performance.now() - started < 60_000, 'the throttled reassignment finishes');
    await new Promise((res) => setTimeout(res, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${bytes} bytes to two new replicas at --throttle ${rate}: ${seconds.toFixed(2)} s, ${Math.round(bytes / seconds)} B/s per replica`);
  // Unthrottled this takes a fraction of a second; the first quota window may burst.
  assert.ok(seconds > (0.6 * bytes) / rate, `copied in ${seconds.toFixed(2)} s: not throttled`);

  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--verify', '--reassignment-json-file', plan]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Reassignment of partition th-0 is completed/);
  assert.match(r.stdout, /Clearing broker-level throttles on brokers 1,2,3/);
  for (const b of brokers) assert.equal(b.broker.context.config.rawValue('leader.replication.throttled.rate'), null, `broker ${b.broker.context.nodeId}`);
  assert.deepEqual(cluster.topicsByName.get('th')!.configs, {});
});

test('log_dirs in the reassignment JSON: a new replica is created in the asked directory, an existing one moves between directories; a relative path is refused', { timeout: 60_000 }, async (t) => {
  const cluster = new InMemoryClusterMetadata();
  const root = await mkdtemp(join(tmpdir(), 'sluice-reassign-dirs-'));
  const [x, y] = [join(root, 'x'), join(root, 'y')];
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.broker.stop();
    for (const b of brokers) await rm(b.dataDir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });
  brokers.push(await startTestBroker({ nodeId: 1, metadataStore: cluster.storeFor(1) }));
  brokers.push(await startTestBroker({ nodeId: 2, metadataStore: cluster.storeFor(2), dataDir: `${x},${y}` }));
  await brokers[0].broker.context.topics.create({ name: 'rd', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
  await Promise.all(brokers.map((b) => b.broker.context.topics.reconciler.caughtUp()));
  const rm1 = brokers[0].broker.context.replicaManager;
  for (let i = 0; i < 10; i++) {
    const r = await rm1.appendRecords(rm1.getPartition('rd', 0)!, buildRecordBatch(Array.from({ length: 10 }, () => ({ key: null, value: Buffer.alloc(100, i), timestamp: 0n }))), { acks: -1, timeoutMs: 5000, origin: 'client' });
    assert.equal(r.errorCode, 0);
  }
  const bootstrap = brokers.map((b) => b.bootstrap).join(',');
  const rm2 = brokers[1].broker.context.replicaManager;
  const until = async (what: string, check: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const file = join(root, 'move.json');
  // Broker 2 would put its first replica in x (the first of two empty directories); the file asks for y.
  await writeFile(file, JSON.stringify({ version: 1, partitions: [{ topic: 'rd', partition: 0, replicas: [1, 2], log_dirs: ['any', y] }] }));
  let r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully started log directory move for: rd-0-2/);
  await until('broker 2 holds the replica, caught up', () => rm2.getPartition('rd', 0)?.logEndOffset === 100n);
  assert.equal(rm2.logDirOf('rd', 0), y);

  // The same replicas, broker 2's now in x: a move between its directories, live.
  await writeFile(file, JSON.stringify({ version: 1, partitions: [{ topic: 'rd', partition: 0, replicas: [1, 2], log_dirs: ['any', x] }] }));
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute', '--replica-alter-log-dirs-throttle', '50000000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /replica-alter-dir throttle limit was set to 50000000 B\/s on brokers 2/);
  const dirRate = () => brokers[1].broker.context.config.rawValue('replica.alter.log.dirs.io.max.bytes.per.second');
  await until('the throttle reaches broker 2', () => dirRate() === '50000000');
  await until('the replica moves to x', () => rm2.logDirOf('rd', 0) === x);
  assert.equal(rm2.getPartition('rd', 0)!.logEndOffset, 100n);
  // --verify reports the replica's move and, everything done, removes the throttle.
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--verify']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Reassignment of replica rd-0-2 to ${x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is completed`));
  assert.match(r.stdout, /Clearing broker-level throttles on brokers 1,2/);
  await until('the throttle is gone from broker 2', () => !dirRate());
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--verify', '--replica-alter-log-dirs-throttle', '1']);
  assert.equal(r.code, 2, 'the throttle goes with --execute');

  await writeFile(file, JSON.stringify({ version: 1, partitions: [{ topic: 'rd', partition: 0, replicas: [1, 2], log_dirs: ['any', 'relative/dir'] }] }));
  r = await run('reassign-partitions', ['--bootstrap-server', bootstrap, '--reassignment-json-file', file, '--execute']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /log_dirs must be "any" or an absolute path/);
  assert.equal(rm2.logDirOf('rd', 0), x, 'nothing changed');
});
