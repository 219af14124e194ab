/**
 * Third-party transactional clients against the broker: confluent-kafka (librdkafka) commits,
 * aborts, sends offsets in a transaction, gets fenced as a zombie, and has a transaction left open
 * aborted after its timeout; read_committed consumers see exactly the committed records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pythonPath, requirePeers } from '@sluice/test-peers';
import { spawn } from 'node:child_process';
import { run, startTestBroker, tempDir } from '../helpers.js';

const PYTHON = pythonPath();
const script = (name: string) => fileURLToPath(new URL(`../../../test/clients/${name}`, import.meta.url));

test('confluent-kafka: transactions commit/abort, read_committed, offsets, fencing, timeout', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const tb = await startTestBroker({ 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 });
  t.after(() => tb.dispose());
  const result = await run(PYTHON, [script('confluent_kafka_transactions.py'), tb.bootstrap], { timeoutMs: 170_000 });
  assert.equal(result.code, 0, `confluent-kafka transactions failed:\n${result.stdout}\n${result.stderr}`);
  for (const step of ['commit/abort: ok', 'send_offsets_to_transaction: ok', 'fencing: ok', 'timeout abort: ok']) assert.match(result.stdout, new RegExp(step));
});

/** A broker in its own process, so the test can kill it with SIGKILL. */
async function spawnBroker(dataDir: string): Promise<{ bootstrap: string; kill: () => Promise<void> }> {
  const entry = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const source = `const { startBroker } = await import(${JSON.stringify(entry)});
const b = await startBroker({ dataDir: ${JSON.stringify(dataDir)}, host: '127.0.0.1', port: 0 });
process.stdout.write('port ' + b.port + '\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return {
    bootstrap: `127.0.0.1:${port}`,
    kill: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

test('a broker killed with -9 mid-transaction reloads the coordinator; the open transaction is aborted by a new instance', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const dataDir = tempDir('sluice-txn-restart-');
  const first = await spawnBroker(dataDir);
  let killed = false;
  t.after(async () => {
    if (!killed) await first.kill();
  });
  const before = await run(PYTHON, [script('confluent_kafka_txn_restart.py'), first.bootstrap, 'before'], { timeoutMs: 100_000 });
  assert.equal(before.code, 0, `before the kill:\n${before.stdout}\n${before.stderr}`);
  await first.kill();
  killed = true;
  const second = await spawnBroker(dataDir);
  t.after(() => second.kill());
  const after = await run(PYTHON, [script('confluent_kafka_txn_restart.py'), second.bootstrap, 'after'], { timeoutMs: 100_000 });
  assert.equal(after.code, 0, `after the restart:\n${after.stdout}\n${after.stderr}`);
  assert.match(after.stdout, /after: ok/);
});
