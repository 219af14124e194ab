/** `sluice start` as a process: ready quickly, logs where it listens, SIGTERM stops it cleanly, bad config is reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

function startProcess(args: string[]) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

test('sluice start listens, logs its address and stops cleanly on SIGTERM', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'server.properties');
  writeFileSync(config, '# test config\nnum.partitions=3\nlog.retention.hours=24\n');
  const started = Date.now();
  const p = startProcess(['start', '--port', '0', '--data-dir', join(dir, 'data'), '--config', config, '--override', 'auto.create.topics.enable=false']);
  while (!/listening on 127\.0\.0\.1:\d+/.test(p.stderr())) {
    assert.equal(p.child.exitCode, null, p.stderr());
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = Number(/ready in (\d+) ms/.exec(p.stderr())![1]);
  // Typically ~25 ms; the bound only has to survive a CI machine busy with fsyncs from other tests.
  t.diagnostic(`ready in ${readyMs} ms`);
  assert.ok(readyMs < 5000, `ready in ${readyMs} ms`);
  assert.ok(Date.now() - started < 30_000);
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.stderr());
  assert.match(p.stderr(), /shut down cleanly/);
  assert.ok(existsSync(join(dir, 'data', '.kafka_cleanshutdown')));
});

test('sluice start reports unknown and invalid settings and exits non-zero', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'server.properties');
  writeFileSync(config, 'num.partitons=3\nmessage.max.bytes=lots\n');
  const p = startProcess(['start', '--port', '0', '--data-dir', join(dir, 'data'), '--config', config, '--override', 'log.retention.ms=-7']);
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /unknown configuration key "num\.partitons" \(did you mean "num\.partitions"\?\)/);
  assert.match(p.stderr(), /invalid value for message\.max\.bytes/);
  assert.match(p.stderr(), /log\.retention\.ms/);
});

test('sluice start --etcd with no etcd answering says so and exits non-zero (it exited silently with 0)', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = startProcess(['start', '--node-id', '1', '--etcd', 'http://127.0.0.1:1', '--port', '0', '--data-dir', join(dir, 'data'), '--override', 'etcd.request.timeout.ms=500']);
  assert.equal(await p.exited, 1);
  assert.match(p.stderr(), /cluster metadata store \(etcd at http:\/\/127\.0\.0\.1:1\) unreachable/);
});

test('sluice with an unknown command prints usage', async () => {
  const p = startProcess(['frobnicate']);
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /unknown command "frobnicate"/);
  assert.match(p.stderr(), /start/);
});

test('sluice start --metrics-port --log-format json: /metrics served, every log line a JSON object with the stable fields', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = startProcess(['start', '--port', '0', '--data-dir', join(dir, 'data'), '--metrics-port', '0', '--log-format', 'json']);
  while (!/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/.test(p.stderr())) {
    assert.equal(p.child.exitCode, null, p.stderr());
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(p.stderr())![1];
  const page = await (await fetch(url)).text();
  assert.match(page, /^kafka_controller_kafkacontroller_activecontrollercount 1$/m);
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.stderr());
  const lines = p.stderr().trim().split('\n').filter((l) => !l.startsWith('received '));
  assert.ok(lines.length >= 3);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entry), ['time', 'level', 'logger', 'node_id', 'msg']);
    assert.equal(typeof entry.msg, 'string');
    assert.ok(!Number.isNaN(Date.parse(entry.time as string)));
  }
  assert.ok(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'shut down cleanly'));

  const bad = startProcess(['start', '--port', '0', '--data-dir', join(dir, 'data2'), '--log-format', 'xml']);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr(), /--log-format is text or json/);
});
