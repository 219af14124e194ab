/**
 * `sluice connect-standalone` as a process: worker.properties + connector properties files copy
 * a file through a topic; kill -9 and a restart on the same offset file leave no gap (at-least-
 * once: a line may repeat); SIGTERM stops it cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '@sluice/broker';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

function startWorker(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, 'connect-standalone', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /REST API at (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('connect-standalone: properties files, kill -9 and restart without a gap, clean SIGTERM', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-cli-'));
  const broker = await startBroker({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0 });
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const input = join(dir, 'test.txt');
  const output = join(dir, 'test.sink.txt');
  await writeFile(input, Array.from({ length: 200 }, (_, i) => `first ${i}`).join('\n') + '\n');
  await writeFile(join(dir, 'worker.properties'), [
    `bootstrap.servers=127.0.0.1:${broker.port}`,
    'key.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable=true',
    'value.converter.schemas.enable=true',
    `offset.storage.file.filename=${join(dir, 'connect.offsets')}`,
    'offset.flush.interval.ms=300',
    // The killed worker's sink consumer holds its partition until its session times out.
    'consumer.session.timeout.ms=6000',
    'consumer.heartbeat.interval.ms=1000',
    'listeners=http://127.0.0.1:0',
  ].join('\n'));
  await writeFile(join(dir, 'connect-file-source.properties'), `name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=${input}\ntopic=connect-test\n`);
  await writeFile(join(dir, 'connect-file-sink.properties'), `name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=${output}\ntopics=connect-test\n`);
  const args = ['worker.properties', 'connect-file-source.properties', 'connect-file-sink.properties'].map((f) => join(dir, f));

  const first = await startWorker(args);
  children.push(first.child);
  await waitFor('the first 200 lines', async () => (await lines(output)).length >= 200);
  assert.deepEqual(await lines(output), Array.from({ length: 200 }, (_, i) => `first ${i}`), 'JsonConverter with schemas round-trips each line');
  const status = (await (await fetch(`${first.url}/connectors/local-file-sink/status`)).json()) as { connector: { state: string } };
  assert.equal(status.connector.state, 'RUNNING');

  // kill -9 mid-stream: lines keep arriving while the worker dies.
  const writer = (async () => {
    for (let i = 0; i < 300; i++) {
      await appendFile(input, `second ${i}\n`);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await waitFor('some second lines', async () => (await lines(output)).some((l) => l.startsWith('second')));
  first.child.kill('SIGKILL');
  await writer;

  const second = await startWorker(args);
  children.push(second.child);
  const expected = [...Array.from({ length: 200 }, (_, i) => `first ${i}`), ...Array.from({ length: 300 }, (_, i) => `second ${i}`)];
  await waitFor('every line after the restart', async () => (await lines(output)).at(-1) === 'second 299');
  const got = await lines(output);
  // No gap: dropping repeated lines (at-least-once after kill -9) leaves exactly the input in order.
  const deduped = got.filter((l, i) => got.indexOf(l) === i);
  assert.deepEqual(deduped, expected);

  second.child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => second.child.on('exit', resolve));
  assert.equal(code, 0, second.stderr());
});

test('connect-standalone: --help, and a clear error for a missing file', async () => {
  const run = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, [MAIN, 'connect-standalone', ...args]);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: sluice connect-standalone/);
  const missing = await run(['/nonexistent/worker.properties']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read worker\.properties file \/nonexistent\/worker\.properties: no such file/);
});
