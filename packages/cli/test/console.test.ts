import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer } from '@sluice/client';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
let scratch: string;
before(async () => {
  tb = await startTestBroker();
  scratch = await mkdtemp(join(tmpdir(), 'sluice-cli-console-'));
});
after(async () => {
  await tb.stop();
  await rm(scratch, { recursive: true, force: true });
});
const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

async function readAll(topic: string, count: number): Promise<Array<{ partition: number; key: string | null; value: string | null; headers: Array<[string, string | null]> }>> {
  const consumer = new Consumer({ brokers: [tb.bootstrap] });
  const admin = new Admin({ brokers: [tb.bootstrap] });
  try {
    await admin.connect();
    const [meta] = await admin.describeTopics([topic]);
    await consumer.assign(meta.partitions.map((p) => ({ topic, partition: p.partition })));
    await consumer.seekToBeginning();
    const out: Array<{ partition: number; key: string | null; value: string | null; headers: Array<[string, string | null]> }> = [];
    while (out.length < count) {
      const batch = await consumer.poll();
      if (!batch) break;
      for (const r of batch.records) {
        out.push({ partition: r.partition, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]) });
      }
    }
    return out;
  } finally {
    admin.close();
    await consumer.close();
  }
}

test('console-producer writes stdin lines with keys and headers', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'lines', ...bs(), '--partitions', '1'])).code, 0);
  const plain = await run('console-producer', [...bs(), '--topic', 'lines'], { stdin: 'first\nsecond\n' });
  assert.equal(plain.code, 0, plain.stderr);
  const keyed = await run('console-producer', [...bs(), '--topic', 'lines', '--property', 'parse.key=true', '--property', 'key.separator=:', '--compression-codec', 'gzip'], {
    stdin: 'user1:hello\nuser2:with:colon\n',
  });
  assert.equal(keyed.code, 0, keyed.stderr);
  const headers = await run('console-producer', [...bs(), '--topic', 'lines', '--property', 'parse.headers=true', '--property', 'parse.key=true', '--property', 'null.marker=NULL'], {
    stdin: 'trace:abc,tenant:7\tk\tv\n\tNULL\ttombstone-key-null\n',
  });
  assert.equal(headers.code, 0, headers.stderr);
  const records = await readAll('lines', 6);
  assert.deepEqual(
    records.map((r) => [r.key, r.value, r.headers]),
    [
      [null, 'first', []],
      [null, 'second', []],
      ['user1', 'hello', []],
      ['user2', 'with:colon', []],
      ['k', 'v', [['trace', 'abc'], ['tenant', '7']]],
      [null, 'tombstone-key-null', []],
    ],
  );

  const badLine = await run('console-producer', [...bs(), '--topic', 'lines', '--property', 'parse.key=true'], { stdin: 'no separator here\n' });
  assert.equal(badLine.code, 2);
  assert.match(badLine.stderr, /line 1: no key separator "\\t" found/);
  const unknown = await run('console-producer', [...bs(), '--topic', 'ghost-topic'], { stdin: 'x\n' });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /Topic 'ghost-topic' does not exist/);
});

test('console-producer reads --producer.config like the notes (producer.properties)', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'topic5', ...bs(), '--partitions', '1'])).code, 0);
  const file = join(scratch, 'producer.properties');
  await writeFile(file, '# as in the notes\nacks=1\nlinger.ms=0\ncompression.type=lz4\n');
  const r = await run('console-producer', ['--topic', 'topic5', ...bs(), '--producer.config', file], { stdin: 'a\nb\nc\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readAll('topic5', 3)).map((x) => x.value), ['a', 'b', 'c']);
  const secure = join(scratch, 'secure.properties');
  await writeFile(secure, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n');
  const refused = await run('console-producer', ['--topic', 'topic5', ...bs(), '--producer.config', secure], { stdin: 'a\n' });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /sasl\.mechanism=SCRAM-SHA-256 needs username="…" password="…" in sasl\.jaas\.config/);
});

test('console-consumer prints records with Kafka formatter properties, JSON, groups and limits', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'printed', ...bs(), '--partitions', '1'])).code, 0);
  const produced = await run('console-producer', [...bs(), '--topic', 'printed', '--property', 'parse.key=true', '--property', 'key.separator=='], { stdin: 'a=1\nb=2\nc=3\n' });
  assert.equal(produced.code, 0, produced.stderr);

  const values = await run('console-consumer', [...bs(), '--topic', 'printed', '--from-beginning', '--max-messages', '3']);
  assert.equal(values.code, 0, values.stderr);
  assert.equal(values.stdout, '1\n2\n3\n');
  assert.match(values.stderr, /Processed a total of 3 messages/);

  const detailed = await run('console-consumer', [
    ...bs(),
    '--topic',
    'printed',
    '--from-beginning',
    '--max-messages',
    '1',
    '--property',
    'print.key=true',
    '--property',
    'print.partition=true',
    '--property',
    'print.offset=true',
    '--property',
    'print.headers=true',
    '--property',
    'print.timestamp=true',
  ]);
  assert.match(detailed.stdout, /^CreateTime:\d+\tPartition:0\tOffset:0\tNO_HEADERS\ta\t1\n$/);

  const json = await run('console-consumer', [...bs(), '--topic', 'printed', '--partition', '0', '--offset', '1', '--max-messages', '2', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { offset: number; key: string; value: string });
  assert.deepEqual(lines.map((l) => [l.offset, l.key, l.value]), [[1, 'b', '2'], [2, 'c', '3']]);

  // A named group commits what it read: a second run of the same group continues after it.
  const first = await run('console-consumer', [...bs(), '--topic', 'printed', '--group', 'printers', '--from-beginning', '--max-messages', '2']);
  assert.equal(first.stdout, '1\n2\n');
  const second = await run('console-consumer', [...bs(), '--topic', 'printed', '--group', 'printers', '--timeout-ms', '6000']);
  assert.equal(second.stdout, '3\n');
  assert.match(second.stderr, /No message arrived within 6000 ms/);

  const pattern = await run('console-consumer', [...bs(), '--include', 'print.*', '--from-beginning', '--max-messages', '3']);
  assert.equal(pattern.stdout, '1\n2\n3\n');

  const both = await run('console-consumer', [...bs(), '--topic', 'a', '--include', 'b']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /exactly one of --topic or --include/);
});

test('console-consumer stops cleanly on Ctrl-C, as a child process too', async () => {
  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const r = await run('console-consumer', [...bs(), '--topic', 'printed', '--from-beginning'], {
    interrupt: interrupted,
    onStdout: (out) => {
      if (out === '1\n2\n3\n') interrupt();
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n2\n3\n');

  const main = new URL('../src/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, 'console-consumer', ...bs(), '--topic', 'printed', '--from-beginning'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout === '1\n2\n3\n') child.kill('SIGINT');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, '1\n2\n3\n');
  assert.match(stderr, /Processed a total of 3 messages/);
});

test('console-producer sends what it read when interrupted with stdin still open', async () => {
  assert.equal((await run('topics', ['--create', '--topic', 'interrupted', ...bs(), '--partitions', '1'])).code, 0);
  const main = new URL('../src/main.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, 'console-producer', ...bs(), '--topic', 'interrupted', '--sync'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.write('one\ntwo\n');
  // Wait until both records are stored, then interrupt while stdin is still open.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await run('get-offsets', [...bs(), '--topic', 'interrupted']);
    if (r.stdout === 'interrupted:0:2\n') break;
    assert.ok(Date.now() < deadline, `records never arrived: ${r.stdout} ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.deepEqual((await readAll('interrupted', 2)).map((r) => r.value), ['one', 'two']);
});
