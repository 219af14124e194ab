import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, Producer } from '@sluice/client';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
let scratch: string;
const base = Date.now() - 3_600_000;
before(async () => {
  tb = await startTestBroker({ 'metrics.port': 0 });
  scratch = await mkdtemp(join(tmpdir(), 'sluice-cli-groups-'));
  assert.equal((await run('topics', ['--create', '--topic', 'events', '--bootstrap-server', tb.bootstrap, '--partitions', '2'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0 });
  try {
    // Partition 0: offsets 0..9 one minute apart, an hour ago; partition 1: 4 records.
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'events', partition: 0, value: `e${i}`, timestamp: base + i * 60_000 });
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'events', partition: 1, value: `f${i}`, timestamp: base + i * 60_000 });
  } finally {
    await producer.close();
  }
});
after(async () => {
  await tb.stop();
  await rm(scratch, { recursive: true, force: true });
});
const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

/** A group member that has read and committed `count` records, left running. */
async function activeMember(group: string, count: number): Promise<Consumer> {
  const consumer = new Consumer({ brokers: [tb.bootstrap], groupId: group, autoOffsetReset: 'earliest', enableAutoCommit: false, clientId: 'billing-app' });
  await consumer.subscribe('events');
  let read = 0;
  while (read < count) {
    const batch = await consumer.poll(count - read);
    if (!batch) break;
    read += batch.records.length;
    const last = batch.records[batch.records.length - 1];
    await consumer.commit([{ topic: last.topic, partition: last.partition, offset: last.offset + 1n }]);
  }
  return consumer;
}

test('list and describe an active group: offsets with lag, members, state', async () => {
  const consumer = await activeMember('billing', 14);
  try {
    const list = await run('consumer-groups', [...bs(), '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.split('\n').includes('billing'));
    const states = await run('consumer-groups', [...bs(), '--list', '--state']);
    assert.match(states.stdout, /^GROUP +STATE\n(.*\n)*billing +Stable\n/);

    const describe = await run('consumer-groups', [...bs(), '--describe', '--group', 'billing']);
    assert.equal(describe.code, 0, describe.stderr);
    const lines = describe.stdout.trim().split('\n');
    assert.match(lines[0], /^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID +STATUS$/);
    // Without --metrics-url there is no window of commits to judge: STATUS is -.
    assert.match(lines[1], /^billing +events +0 +10 +10 +0 +\S+ +\/\S+ +billing-app +-$/);
    assert.match(lines[2], /^billing +events +1 +4 +4 +0 +\S+ +\/\S+ +billing-app +-$/);

    // With the broker's metrics endpoint: the coordinator's Burrow verdict (caught up: OK).
    const metricsUrl = `http://127.0.0.1:${tb.broker.metricsEndpoint!.port}`;
    const judged = await run('consumer-groups', [...bs(), '--describe', '--group', 'billing', '--metrics-url', metricsUrl]);
    assert.equal(judged.code, 0, judged.stderr);
    assert.match(judged.stdout, /\nbilling +events +0 +10 +10 +0 +\S+ +\/\S+ +billing-app +OK\n/);
    const judgedJson = JSON.parse((await run('consumer-groups', [...bs(), '--describe', '--group', 'billing', '--metrics-url', metricsUrl, '--json'])).stdout) as { status: string }[];
    assert.deepEqual(judgedJson.map((r) => r.status), ['OK', 'OK']);

    const members = await run('consumer-groups', [...bs(), '--describe', '--group', 'billing', '--members', '--verbose']);
    assert.match(members.stdout, /GROUP +CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS +ASSIGNMENT\nbilling +\S+ +\/\S+ +billing-app +2 +events\(0,1\)\n/);
    const state = await run('consumer-groups', [...bs(), '--describe', '--group', 'billing', '--state']);
    assert.match(state.stdout, new RegExp(`billing +127\\.0\\.0\\.1:${tb.broker.port} \\(${tb.broker.nodeId}\\) +\\S+ +Stable +1\\n`));

    const everyGroup = await run('consumer-groups', [...bs(), '--describe', '--all-groups', '--state', '--json']);
    const groupStates = JSON.parse(everyGroup.stdout) as Array<{ group: string; state: string; members: number }>;
    const billing = groupStates.find((g) => g.group === 'billing');
    assert.equal(billing?.state, 'Stable');
    assert.equal(billing?.members, 1);

    const reset = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'billing', '--topic', 'events', '--to-earliest', '--execute']);
    assert.equal(reset.code, 1);
    assert.match(reset.stderr, /Assignments can only be reset if the group 'billing' is inactive, but the current state is Stable\./);
    const del = await run('consumer-groups', [...bs(), '--delete', '--group', 'billing']);
    assert.equal(del.code, 1);
    assert.match(del.stderr, /Group 'billing' could not be deleted due to: NON_EMPTY_GROUP/);
  } finally {
    await consumer.close();
  }
});

test('reset offsets of an inactive group: dry run, execute, every spec, export/from-file', async () => {
  const consumer = await activeMember('reporting', 14);
  await consumer.close();
  const describeOffsets = async (): Promise<string[]> => {
    const r = await run('consumer-groups', [...bs(), '--describe', '--group', 'reporting', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ partition: number; currentOffset: number; lag: number }>).map((x) => `${x.partition}:${x.currentOffset}:${x.lag}`);
  };
  const text = await run('consumer-groups', [...bs(), '--describe', '--group', 'reporting']);
  assert.match(text.stdout, /Consumer group 'reporting' has no active members\./);
  assert.match(text.stdout, /reporting +events +0 +10 +10 +0 +- +- +- +-\n/);

  const dry = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--topic', 'events', '--to-earliest']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /GROUP +TOPIC +PARTITION +NEW-OFFSET\nreporting +events +0 +0\nreporting +events +1 +0\n/);
  assert.match(dry.stderr, /Dry run: nothing was changed/);
  assert.deepEqual(await describeOffsets(), ['0:10:0', '1:4:0']);

  const exec = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--topic', 'events:0', '--to-offset', '3', '--execute']);
  assert.equal(exec.code, 0, exec.stderr);
  assert.deepEqual(await describeOffsets(), ['0:3:7', '1:4:0']);

  assert.equal((await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--all-topics', '--shift-by', '-2', '--execute'])).code, 0);
  assert.deepEqual(await describeOffsets(), ['0:1:9', '1:2:2']);

  const clamped = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--topic', 'events:1', '--to-offset', '99', '--execute']);
  assert.match(clamped.stderr, /New offset \(99\) is higher than latest offset for topic partition events-1\. Value will be set to 4/);
  assert.deepEqual(await describeOffsets(), ['0:1:9', '1:4:0']);

  // Records of partition 0 are one minute apart from `base`: 4.5 minutes later is offset 5.
  const when = new Date(base + 270_000).toISOString().replace('Z', '');
  assert.equal((await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--topic', 'events:0', '--to-datetime', when, '--execute'])).code, 0);
  assert.deepEqual(await describeOffsets(), ['0:5:5', '1:4:0']);
  // Everything is older than 30 minutes, so "the last 30 minutes" starts at the end.
  assert.equal((await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--all-topics', '--by-duration', 'PT30M', '--execute'])).code, 0);
  assert.deepEqual(await describeOffsets(), ['0:10:0', '1:4:0']);

  const exported = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--all-topics', '--to-earliest', '--export']);
  assert.equal(exported.stdout, 'events,0,0\nevents,1,0\n');
  const csv = join(scratch, 'plan.csv');
  await writeFile(csv, 'events,0,6\nevents,1,1\n');
  assert.equal((await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--from-file', csv, '--execute'])).code, 0);
  assert.deepEqual(await describeOffsets(), ['0:6:4', '1:1:3']);

  const noScope = await run('consumer-groups', [...bs(), '--reset-offsets', '--group', 'reporting', '--to-latest']);
  assert.equal(noScope.code, 2);
  assert.match(noScope.stderr, /needs a scope/);

  const delOffsets = await run('consumer-groups', [...bs(), '--delete-offsets', '--group', 'reporting', '--topic', 'events:1']);
  assert.equal(delOffsets.code, 0, delOffsets.stderr);
  assert.match(delOffsets.stdout, /events +1 +Successful/);
  assert.deepEqual(await describeOffsets(), ['0:6:4']);

  const deleted = await run('consumer-groups', [...bs(), '--delete', '--group', 'reporting']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, "Deletion of requested consumer groups ('reporting') was successful.\n");
  const gone = await run('consumer-groups', [...bs(), '--describe', '--group', 'reporting']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /Consumer group 'reporting' does not exist\./);
});

test('dump-log --offsets-decoder reads the commits the broker wrote to __consumer_offsets', async () => {
  const consumer = await activeMember('auditors', 14);
  await consumer.close();
  const dirs = (await readdir(tb.dataDir)).filter((d) => d.startsWith('__consumer_offsets-'));
  let found = '';
  for (const d of dirs) {
    const logs = (await readdir(join(tb.dataDir, d))).filter((f) => f.endsWith('.log'));
    for (const l of logs) {
      const r = await run('dump-log', ['--files', join(tb.dataDir, d, l), '--offsets-decoder']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      if (r.stdout.includes('"group":"auditors"')) found += r.stdout;
    }
  }
  assert.match(found, /key: \{"type":"offset_commit","version":1,"group":"auditors","topic":"events","partition":0\} payload: \{"version":\d,"offset":10,/);
  assert.match(found, /key: \{"type":"group_metadata","version":2,"group":"auditors"\} payload: /);
});

test('console-consumer --formatter OffsetsMessageFormatter shows a group committing (reading __consumer_offsets)', async () => {
  const consumer = await activeMember('watchers', 14);
  await consumer.close();
  const r = await run('console-consumer', [
    ...bs(),
    '--topic',
    '__consumer_offsets',
    '--from-beginning',
    '--formatter',
    'kafka.coordinator.group.GroupMetadataManager$OffsetsMessageFormatter',
    '--timeout-ms',
    '5000',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[watchers,events,0\]::OffsetAndMetadata\(offset=10, leaderEpoch=\S+, metadata=, commitTimestamp=\d+, expireTimestamp=None\)$/m);
  assert.match(r.stdout, /^\[watchers,events,1\]::OffsetAndMetadata\(offset=4,/m);

  const del = await run('topics', [...bs(), '--delete', '--topic', '__consumer_offsets']);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /Topic __consumer_offsets is an internal topic and cannot be deleted/);
  const everything = await run('topics', [...bs(), '--delete', '--topic', 'nothing-matches-.*']);
  assert.equal(everything.code, 1);
  assert.match((await run('topics', [...bs(), '--list'])).stdout, /^__consumer_offsets$/m);
});
