/**
 * `sluice cluster up/status/down` as a user runs them, as processes: in the foreground (logs
 * prefixed per process, Ctrl-C stops everything), then again on the same directory in the
 * background (the same cluster with its data), seen by `status` and stopped by `down`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@sluice/client';
import { requirePeers } from '@sluice/test-peers';
import { until } from '../support/process-cluster.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** A port p with p and p+1 free (brokers 1 and 2 listen on consecutive ports). */
async function twoFreePorts(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await free(port)) && (await free(port + 1))) return port;
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

function sluice(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('cluster up in the foreground streams prefixed logs and stops everything on Ctrl-C; up --detach on the same directory brings back the same cluster; status and down', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-local-cluster-'));
  t.after(async () => {
    await sluice(['cluster', 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await twoFreePorts();
  const bootstrap = [`127.0.0.1:${port}`, `127.0.0.1:${port + 1}`];

  const fg = spawn(process.execPath, [MAIN, 'cluster', 'up', '--brokers', '2', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  fg.stdout.on('data', (b: Buffer) => (out += b.toString()));
  fg.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => fg.once('exit', resolve));
  t.after(() => fg.kill('SIGKILL'));
  await until('the cluster up', async () => /Ctrl-C stops the cluster/.test(out), 90_000);
  assert.match(out, new RegExp(`bootstrap servers: ${bootstrap.join(',')}`));
  assert.match(out, /^\[broker-1\] .*listening on /m);
  assert.match(out, /^\[broker-2\] .*listening on /m);
  assert.match(out, /^\[etcd\] /m);

  const admin = new Admin({ brokers: bootstrap });
  await admin.createTopics([{ topic: 'kept', numPartitions: 2, replicationFactor: 2 }]);
  await until('kept on both brokers', async () => (await admin.describeTopics(['kept']))[0].partitions.every((p) => p.isr.length === 2));
  assert.equal((await admin.describeCluster()).brokers.length, 2);
  await admin.close();

  fg.kill('SIGINT');
  assert.equal(await exited, 0, out.slice(-2000));
  assert.match(out, /stopping the cluster/);
  for (const p of [port, port + 1]) assert.equal(await listening(p), false, `port ${p} closed after Ctrl-C`);

  // The same directory again, in the background: same cluster, same data.
  let r = await sluice(['cluster', 'up', '--dir', dir, '--port', String(port), '--detach']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /running in the background/);
  const again = new Admin({ brokers: bootstrap });
  t.after(() => again.close());
  await until('kept is back', async () => (await again.describeTopics(['kept']))[0].partitions.every((p) => p.leader >= 0));
  r = await sluice(['cluster', 'status', '--dir', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout) as { etcd: { healthy: boolean } };
  assert.equal(status.etcd.healthy, true);
  r = await sluice(['cluster', 'up', '--dir', dir, '--detach']);
  assert.notEqual(r.code, 0, 'a second up on a running cluster is refused');
  assert.match(r.stderr, /already running/);
  await again.close();

  r = await sluice(['cluster', 'down', '--dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  for (const p of [port, port + 1]) assert.equal(await listening(p), false, `port ${p} closed after down`);
});
