import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Producer } from '@sluice/client';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
let scratch: string;
before(async () => {
  tb = await startTestBroker();
  scratch = await mkdtemp(join(tmpdir(), 'sluice-cli-files-'));
});
after(async () => {
  await tb.stop();
  await rm(scratch, { recursive: true, force: true });
});
const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

test('configs: alter and describe topic and broker configs like kafka-configs.sh', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'cfg', ...bs(), '--partitions', '1'])).code, 0);
  const added = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'cfg', '--alter', '--add-config', 'retention.ms=1000,cleanup.policy=[compact,delete]']);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'Completed updating config for topic cfg.\n');

  const described = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'cfg', '--describe']);
  assert.equal(described.code, 0, described.stderr);
  assert.equal(
    described.stdout,
    'Dynamic configs for topic cfg are:\n' +
      '  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete}\n' +
      '  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\n',
  );
  const all = await run('configs', [...bs(), '--topic', 'cfg', '--describe', '--all', '--json']);
  const parsed = JSON.parse(all.stdout) as Array<{ configs: Array<{ name: string; value: string; source: string }> }>;
  assert.ok(parsed[0].configs.some((c) => c.name === 'segment.bytes' && c.source !== 'DYNAMIC_TOPIC_CONFIG'));

  const removed = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'cfg', '--alter', '--delete-config', 'retention.ms']);
  assert.equal(removed.code, 0, removed.stderr);
  const after = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'cfg', '--describe']);
  assert.doesNotMatch(after.stdout, /retention\.ms/);

  const broker = await run('configs', [...bs(), '--entity-type', 'brokers', '--entity-name', String(tb.broker.nodeId), '--describe', '--all']);
  assert.equal(broker.code, 0, broker.stderr);
  assert.match(broker.stdout, new RegExp(`^All configs for broker ${tb.broker.nodeId} are:\n`));
  assert.match(broker.stdout, /\n {2}num\.partitions=\d+ sensitive=false/);

  // Broker settings at both of Kafka's dynamic levels; a per-broker one needs the broker id.
  const id = String(tb.broker.nodeId);
  const perBroker = await run('configs', [...bs(), '--entity-type', 'brokers', '--entity-name', id, '--alter', '--add-config', 'sasl.kerberos.min.time.before.relogin=58000']);
  assert.equal(perBroker.code, 0, perBroker.stderr);
  const clusterWide = await run('configs', [...bs(), '--entity-type', 'brokers', '--entity-default', '--alter', '--add-config', 'log.cleaner.threads=2']);
  assert.equal(clusterWide.code, 0, clusterWide.stderr);
  assert.equal(clusterWide.stdout, 'Completed updating default config for brokers in the cluster.\n');
  const notAtDefault = await run('configs', [...bs(), '--broker-defaults', '--alter', '--add-config', 'sasl.kerberos.min.time.before.relogin=58000']);
  assert.equal(notAtDefault.code, 1);
  assert.match(notAtDefault.stderr, /INVALID_REQUEST.*broker id must be specified/);
  const readOnly = await run('configs', [...bs(), '--broker', id, '--alter', '--add-config', 'log.dirs=/elsewhere']);
  assert.equal(readOnly.code, 1);
  assert.match(readOnly.stderr, /Cannot update these configs dynamically: Set\(log\.dirs\)/);
  const ownLevel = await run('configs', [...bs(), '--entity-type', 'brokers', '--entity-name', id, '--describe']);
  assert.equal(
    ownLevel.stdout,
    `Dynamic configs for broker ${id} are:\n  sasl.kerberos.min.time.before.relogin=58000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:sasl.kerberos.min.time.before.relogin=58000}\n`,
  );
  const defaults = await run('configs', [...bs(), '--entity-type', 'brokers', '--entity-default', '--describe']);
  assert.equal(defaults.stdout, 'Default configs for brokers in the cluster are:\n  log.cleaner.threads=2 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.cleaner.threads=2}\n');
  for (const [flag, key] of [['--entity-name', 'sasl.kerberos.min.time.before.relogin'], ['--entity-default', 'log.cleaner.threads']]) {
    const undo = await run('configs', [...bs(), '--entity-type', 'brokers', ...(flag === '--entity-name' ? [flag, id] : [flag]), '--alter', '--delete-config', key]);
    assert.equal(undo.code, 0, undo.stderr);
  }

  const bad = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'cfg', '--alter', '--add-config', 'retention.ms=soon']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_CONFIG/);
  const noTopic = await run('configs', [...bs(), '--entity-type', 'topics', '--entity-name', 'ghost', '--describe']);
  assert.equal(noTopic.code, 1);
  assert.match(noTopic.stderr, /Topic 'ghost' does not exist/);
  const wrongType = await run('configs', [...bs(), '--entity-type', 'widgets', '--describe']);
  assert.equal(wrongType.code, 2);
});

test('get-offsets prints topic:partition:offset', async (t) => {
  assert.equal((await run('topics', ['--create', '--topic', 'offs', ...bs(), '--partitions', '2'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0 });
  const base = 1_700_000_000_000;
  try {
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'offs', partition: 0, value: `a${i}`, timestamp: base + i * 1000 });
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'offs', partition: 1, value: `b${i}`, timestamp: base + i * 1000 });
  } finally {
    await producer.close();
  }
  const latest = await run('get-offsets', [...bs(), '--topic', 'offs']);
  assert.equal(latest.code, 0, latest.stderr);
  assert.equal(latest.stdout, 'offs:0:10\noffs:1:3\n');
  const earliest = await run('get-offsets', [...bs(), '--topic', 'offs', '--time', '-2', '--partitions', '0']);
  assert.equal(earliest.stdout, 'offs:0:0\n');
  const atTime = await run('get-offsets', [...bs(), '--topic-partitions', 'offs:0-1', '--time', String(base + 4500)]);
  assert.equal(atTime.stdout, 'offs:0:5\noffs:1:\n');

  const noPartition = await run('get-offsets', [...bs(), '--topic', 'offs', '--partitions', '7']);
  assert.equal(noPartition.code, 1);
  assert.match(noPartition.stderr, /has no partition 7/);

  // A subtest, so that without kcat only this comparison is skipped.
  await t.test('kcat -Q agrees', async (st) => {
    if (!requirePeers(st, 'kcat')) return;
    const exec = promisify(execFile);
    const kcat = async (spec: string): Promise<string> => (await exec(kcatPath(), ['-b', tb.bootstrap, '-Q', '-t', spec])).stdout;
    assert.match(await kcat(`offs:0:${base + 4500}`), /offs \[0\] offset 5\b/);
    assert.match(await kcat('offs:1:-1'), /offs \[1\] offset 3\b/);
  });
});

test('delete-records moves the log start offset as the JSON file says', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'del', ...bs(), '--partitions', '1'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], lingerMs: 0 });
  try {
    await producer.sendBatch(Array.from({ length: 8 }, (_, i) => ({ topic: 'del', partition: 0, value: `r${i}` })));
  } finally {
    await producer.close();
  }
  const file = join(scratch, 'offsets.json');
  await writeFile(file, JSON.stringify({ partitions: [{ topic: 'del', partition: 0, offset: 5 }], version: 1 }));
  const r = await run('delete-records', [...bs(), '--offset-json-file', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Executing records delete operation\nRecords delete operation completed:\npartition: del-0\tlow_watermark: 5\n');
  const earliest = await run('get-offsets', [...bs(), '--topic', 'del', '--time', 'earliest']);
  assert.equal(earliest.stdout, 'del:0:5\n');

  await writeFile(file, JSON.stringify({ partitions: [{ topic: 'del', partition: 0, offset: 99 }], version: 1 }));
  const beyond = await run('delete-records', [...bs(), '--offset-json-file', file]);
  assert.equal(beyond.code, 1);
  assert.match(beyond.stdout, /partition: del-0\terror: OFFSET_OUT_OF_RANGE/);

  await writeFile(file, '{"partitions":[{"topic":"del"}]}');
  const malformed = await run('delete-records', [...bs(), '--offset-json-file', file]);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /partitions\[0\] needs a "partition" number/);
});
