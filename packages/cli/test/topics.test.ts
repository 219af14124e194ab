import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Producer, murmur2Partition } from '@sluice/client';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startTestBroker();
});
after(async () => {
  await tb.stop();
});

const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

test('create, list, describe and delete follow kafka-topics.sh', async () => {
  const created = await run('topics', ['--create', '--topic', 'my-topic', ...bs(), '--partitions', '3', '--config', 'retention.ms=60000']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'Created topic my-topic.\n');

  const again = await run('topics', ['--create', '--topic', 'my-topic', ...bs()]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /TOPIC_ALREADY_EXISTS/);
  assert.match(again.stderr, /hint: add --if-not-exists/);
  const idempotent = await run('topics', ['--create', '--topic', 'my-topic', ...bs(), '--if-not-exists']);
  assert.equal(idempotent.code, 0, idempotent.stderr);

  const list = await run('topics', ['--list', ...bs()]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(list.stdout.split('\n').includes('my-topic'));

  const describe = await run('topics', [...bs(), '--describe', '--topic', 'my-topic']);
  assert.equal(describe.code, 0, describe.stderr);
  const lines = describe.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^Topic: my-topic\tTopicId: \S+\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention\.ms=60000$/);
  assert.equal(lines.length, 4);
  assert.equal(lines[1], `\tTopic: my-topic\tPartition: 0\tLeader: ${tb.broker.nodeId}\tReplicas: ${tb.broker.nodeId}\tIsr: ${tb.broker.nodeId}`);

  const json = await run('topics', [...bs(), '--describe', '--topic', 'my-topic', '--json']);
  const parsed = JSON.parse(json.stdout) as Array<{ topic: string; partitionCount: number; partitions: unknown[] }>;
  assert.equal(parsed[0].partitionCount, 3);

  // The user's notes run `kafka-topics.sh --topic <name> --bootstrap-server …` with no action.
  const bare = await run('topics', ['--topic', 'my-topic', ...bs()]);
  assert.equal(bare.code, 0);
  assert.match(bare.stdout, /^Topic: my-topic\t/);

  const overrides = await run('topics', [...bs(), '--describe', '--topics-with-overrides']);
  assert.match(overrides.stdout, /^Topic: my-topic\t.*Configs: retention\.ms=60000\n$/m);
  assert.doesNotMatch(overrides.stdout, /Partition: /);
  const under = await run('topics', [...bs(), '--describe', '--under-replicated-partitions']);
  assert.equal(under.stdout, '');

  const missing = await run('topics', [...bs(), '--describe', '--topic', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Topic 'nope' does not exist as expected\n {2}hint: list the topics/);

  const deleted = await run('topics', [...bs(), '--delete', '--topic', 'my-topic']);
  assert.equal(deleted.code, 0, deleted.stderr);
  const after = await run('topics', ['--list', ...bs()]);
  assert.ok(!after.stdout.split('\n').includes('my-topic'));
});

test('replication factor above the broker count and wrong flags give clear errors', async () => {
  const rf = await run('topics', ['--create', '--topic', 'rf3', ...bs(), '--replication-factor', '3', '--partitions', '1']);
  assert.equal(rf.code, 1);
  assert.match(rf.stderr, /Replication factor: 3 larger than available brokers: 1/);
  const noAction = await run('topics', [...bs()]);
  assert.equal(noAction.code, 2);
  assert.match(noAction.stderr, /choose an action/);
  const misplaced = await run('topics', [...bs(), '--list', '--force']);
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /--force does not apply to --list/);
  const assigned = await run('topics', ['--create', '--topic', 'assigned', ...bs(), '--replica-assignment', `${tb.broker.nodeId},${tb.broker.nodeId}`]);
  assert.equal(assigned.code, 0, assigned.stderr);
  const d = await run('topics', [...bs(), '--describe', '--topic', 'assigned']);
  assert.match(d.stdout, /PartitionCount: 2\tReplicationFactor: 1/);
});

test('an unreachable broker exits 3 and says what to check', async () => {
  const r = await run('topics', ['--list', '--bootstrap-server', '127.0.0.1:1', '--command-config', '/dev/null']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /cannot reach the broker at 127\.0\.0\.1:1/);
  assert.match(r.stderr, /hint: is the broker running/);
});

test('adding partitions to a keyed topic reports moving keys and needs --force', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'keyed', ...bs(), '--partitions', '2'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0 });
  try {
    await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ topic: 'keyed', key: `user-${i % 50}`, value: `v${i}` })));
  } finally {
    await producer.close();
  }
  const expectedMoving = Array.from({ length: 50 }, (_, i) => Buffer.from(`user-${i}`)).filter((k) => murmur2Partition(k, 2) !== murmur2Partition(k, 4)).length;
  assert.ok(expectedMoving > 0);

  const refused = await run('topics', ['--alter', '--topic', 'keyed', '--partitions', '4', ...bs()]);
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stdout, /sampled 200 recent records \(200 keyed, 50 distinct keys\)/);
  assert.match(refused.stdout, new RegExp(`moves ${expectedMoving} of 50 keys`));
  assert.match(refused.stdout, /FROM-PARTITION {2}TO-PARTITION {2}KEYS/);
  assert.match(refused.stderr, /refusing to add partitions/);
  assert.match(refused.stderr, /--create --topic keyed-v2 --partitions 4/);
  const unchanged = await run('topics', [...bs(), '--describe', '--topic', 'keyed']);
  assert.match(unchanged.stdout, /PartitionCount: 2/);

  const forced = await run('topics', ['--alter', '--topic', 'keyed', '--partitions', '4', '--force', ...bs()]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /Increased the partition count of keyed from 2 to 4\./);
  const shrink = await run('topics', ['--alter', '--topic', 'keyed', '--partitions', '3', ...bs()]);
  assert.equal(shrink.code, 1);
  assert.match(shrink.stderr, /can only be increased/);
});

test('adding partitions to a topic without keys goes ahead', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'unkeyed', ...bs(), '--partitions', '1'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0 });
  try {
    await producer.sendBatch(Array.from({ length: 20 }, (_, i) => ({ topic: 'unkeyed', value: `v${i}` })));
  } finally {
    await producer.close();
  }
  const r = await run('topics', ['--alter', '--topic', 'unkeyed', '--partitions', '3', ...bs()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /none keyed: adding partitions moves no keys/);
});

test('the installed command runs as a child process', async (t) => {
  const exec = promisify(execFile);
  const main = new URL('../src/main.js', import.meta.url).pathname;
  assert.equal((await run('topics', ['--create', '--topic', 'kc', ...bs(), '--partitions', '2'])).code, 0);
  const { stdout } = await exec(process.execPath, [main, 'topics', '--describe', '--topic', 'kc', '--json', ...bs()]);
  const ours = JSON.parse(stdout) as Array<{ topic: string; partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }> }>;
  const failed = await exec(process.execPath, [main, 'topics', '--lisst', ...bs()]).then(
    () => assert.fail('expected a usage error'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /unknown option --lisst\n {2}hint: did you mean --list\?/);

  // A subtest, so that without kcat only this comparison is skipped.
  await t.test('its --describe agrees with kcat metadata', async (st) => {
    if (!requirePeers(st, 'kcat')) return;
    let kcat: { topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }> };
    try {
      kcat = JSON.parse((await exec(kcatPath(), ['-b', tb.bootstrap, '-L', '-J', '-t', 'kc'])).stdout) as typeof kcat;
    } catch (err) {
      assert.fail(`kcat failed: ${(err as Error).message}`);
    }
    const theirs = kcat.topics.find((topic) => topic.topic === 'kc')!;
    assert.deepEqual(
      ours[0].partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]),
      theirs.partitions.sort((a, b) => a.partition - b.partition).map((p) => [p.partition, p.leader, p.replicas.map((r) => r.id), p.isrs.map((r) => r.id)]),
    );
  });
});
