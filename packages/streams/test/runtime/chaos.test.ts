/**
 * Two word-count instances as child processes; one is killed with SIGKILL midway and restarted.
 * exactly_once_v2: the read_committed output holds each word's counts 1..n exactly once.
 * at_least_once: every count 1..n is there (duplicates allowed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, Producer } from '@sluice/client';
import { startBroker } from '@sluice/broker';

let lastWhere = new Map<string, string[]>();
const example = fileURLToPath(new URL('../../examples/word-count.js', import.meta.url));
const VOCAB = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Instance {
  child: ChildProcess;
  states: string[];
  restored: number;
  output: string[];
}

function launch(bootstrap: string, appId: string, stateDir: string, guarantee: string, windowMs?: number): Instance {
  const args = [example, '--bootstrap-server', bootstrap, '--application-id', appId, '--state-dir', stateDir, '--processing-guarantee', guarantee, '--input', `${appId}-in`, '--output', `${appId}-out`, '--commit-interval-ms', '200'];
  if (windowMs) args.push('--window-ms', String(windowMs));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const inst: Instance = { child, states: [], restored: 0, output: [] };
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      inst.output.push(line);
      try {
        const e = JSON.parse(line) as { event: string; next?: string; total?: number };
        if (e.event === 'state' && e.next) inst.states.push(e.next);
        if (e.event === 'restored') inst.restored += e.total ?? 0;
      } catch {
        /* not an event line */
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => inst.output.push(d.toString()));
  return inst;
}

async function scenario(guarantee: 'exactly_once_v2' | 'at_least_once', t: { after(fn: () => Promise<void> | void): void }, windowMs?: number): Promise<{ counts: Map<string, number[]>; expected: Map<string, number>; restored: number }> {
  const dir = await mkdtemp(join(tmpdir(), `sluice-streams-chaos-${guarantee}-`));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const appId = `wc-${guarantee.replace(/_/g, '-')}${windowMs ? '-windowed' : ''}`;
  const admin = new Admin({ brokers: [bootstrap] });
  const instances: Instance[] = [];
  const producer = new Producer({ brokers: [bootstrap], lingerMs: 5 });
  t.after(async () => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    await producer.close().catch(() => undefined);
    admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await admin.createTopics([{ topic: `${appId}-in`, numPartitions: 4 }, { topic: `${appId}-out`, numPartitions: 4 }]);
  const expected = new Map<string, number>();
  let n = 0;
  const produce = async (lines: number): Promise<void> => {
    const batch = [];
    for (let i = 0; i < lines; i++, n++) {
      const words = [VOCAB[n % VOCAB.length], VOCAB[(n * 3 + 1) % VOCAB.length]];
      // Windowed runs: 10 ms between lines, so each window holds windowMs / 10 lines.
      const timestamp = 1_700_000_000_000 + n * 10;
      const key = (w: string) => (windowMs ? `${w}@${timestamp - (timestamp % windowMs)}` : w);
      for (const w of words) expected.set(key(w), (expected.get(key(w)) ?? 0) + 1);
      batch.push({ topic: `${appId}-in`, key: `line-${n}`, value: words.join(' '), timestamp });
    }
    await producer.sendBatch(batch);
  };
  const a = launch(bootstrap, appId, join(dir, 'a'), guarantee, windowMs);
  const b = launch(bootstrap, appId, join(dir, 'b'), guarantee, windowMs);
  instances.push(a, b);
  const diag = () => instances.map((i) => `exit=${i.child.exitCode} ${i.output.slice(-8).join('\n')}`).join('\n---\n');
  await waitFor(() => a.states.includes('RUNNING') && b.states.includes('RUNNING'), 30_000, `both instances running\n${diag()}`);

  const consumer = new Consumer<Buffer | null, Buffer | null>({ brokers: [bootstrap], isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  t.after(() => consumer.close());
  await consumer.assign([0, 1, 2, 3].map((partition) => ({ topic: `${appId}-out`, partition })));
  const counts = new Map<string, number[]>();
  const where = new Map<string, string[]>();
  lastWhere = where;
  const reached = (target: Map<string, number>) => [...target].every(([w, c]) => Math.max(0, ...(counts.get(w) ?? [])) >= c);
  let next: ReturnType<typeof consumer.poll> | null = null;
  /** Reads the output until every count of `target` is there. */
  const readUntil = (target: Map<string, number>, what: string) =>
    waitFor(async () => {
      next ??= consumer.poll();
      const batch = await Promise.race([next, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200))]);
      if (batch !== 'tick') {
        next = null;
        for (const r of batch?.records ?? []) {
          const w = String(r.key);
          if (!counts.has(w)) counts.set(w, []);
          counts.get(w)!.push(Number((r.value as Buffer).readBigInt64BE(0)));
          if (!where.has(w)) where.set(w, []);
          where.get(w)!.push(`${batch!.partition}@${r.offset}`);
        }
      }
      return reached(target);
    }, 45_000, `${what}\n${JSON.stringify([...target])}\n${JSON.stringify([...counts].map(([w, c]) => [w, Math.max(...c)]))}\n${diag()}`);

  await produce(400);
  // Both instances have committed their part of the first lines (output and changelogs together),
  // so the tasks that move after the kill have state to restore, however slow the machine.
  await readUntil(new Map(expected), 'the first lines counted');
  a.child.kill('SIGKILL');
  await produce(400);
  const a2 = launch(bootstrap, appId, join(dir, 'a'), guarantee, windowMs);
  instances.push(a2);
  await produce(400);
  await readUntil(expected, 'final counts');
  await waitFor(() => a2.states.includes('RUNNING'), 10_000, 'restarted instance running');
  return { counts, expected, restored: a2.restored + b.restored };
}

test('exactly_once_v2: after kill -9 and restart, read_committed output has every count exactly once', { timeout: 120_000 }, async (t) => {
  const { counts, expected, restored } = await scenario('exactly_once_v2', t);
  assert.ok(restored > 0, 'the tasks that moved were restored from their changelogs');
  for (const [word, total] of expected) {
    const seen = counts.get(word) ?? [];
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1), `counts of ${word} at ${lastWhere.get(word)?.join(' ')}`);
  }
});

test('at_least_once: after kill -9 and restart, no count is missing', { timeout: 120_000 }, async (t) => {
  const { counts, expected, restored } = await scenario('at_least_once', t);
  assert.ok(restored > 0, 'the tasks that moved were restored from their changelogs');
  for (const [word, total] of expected) {
    const seen = new Set(counts.get(word) ?? []);
    for (let c = 1; c <= total; c++) assert.ok(seen.has(c), `count ${c} of ${word} missing`);
  }
});

test('exactly_once_v2 windowed counts: after kill -9 and restart, every window count appears exactly once', { timeout: 120_000 }, async (t) => {
  const { counts, expected, restored } = await scenario('exactly_once_v2', t, 2_000);
  assert.ok(expected.size > 8, 'several windows per word');
  assert.ok(restored > 0, 'the tasks that moved were restored from their window store changelogs');
  for (const [key, total] of expected) assert.deepEqual(counts.get(key) ?? [], Array.from({ length: total }, (_, i) => i + 1), `counts of ${key}`);
});
