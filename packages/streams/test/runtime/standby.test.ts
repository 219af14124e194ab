import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer } from '@sluice/client';
import { startBroker } from '@sluice/broker';
import { KafkaStreams } from '../../src/index.js';
import { wordCountTopology } from '../../examples/word-count.js';

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('num.standby.replicas=1: a task moving to its standby restores only what the standby had not applied', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-streams-standby-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ brokers: [bootstrap] });
  const producer = new Producer({ brokers: [bootstrap] });
  const instances: KafkaStreams[] = [];
  t.after(async () => {
    for (const s of instances) await s.close().catch(() => undefined);
    await producer.close();
    admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await admin.createTopics([{ topic: 'sb-lines', numPartitions: 2 }, { topic: 'sb-out', numPartitions: 2 }]);
  const make = (name: string) => {
    const s = new KafkaStreams(wordCountTopology('sb-lines', 'sb-out', 'in-memory'), {
      'application.id': 'wc-standby', 'bootstrap.servers': bootstrap, 'state.dir': join(dir, name), 'num.standby.replicas': 1, 'commit.interval.ms': 100, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 300,
    });
    instances.push(s);
    return s;
  };
  const a = make('a');
  await a.start();
  await waitFor(() => a.state() === 'RUNNING', 20_000, 'a running');
  const b = make('b');
  let restoredByB = 0;
  b.setGlobalStateRestoreListener({ onBatchRestored: (_t, _p, _s, _o, n) => void (restoredByB += n) });
  await b.start();
  await waitFor(() => a.state() === 'RUNNING' && b.state() === 'RUNNING' && a.activeTasks().length + b.activeTasks().length === 4, 20_000, 'both running');
  // Every task with a store (sub-topology 1) has a standby on the other instance.
  const standbys = [...a.standbyTasks(), ...b.standbyTasks()].sort();
  assert.deepEqual(standbys, ['1_0', '1_1']);
  for (const s of [a, b]) for (const task of s.standbyTasks()) assert.ok(!s.activeTasks().includes(task));

  const words = Array.from({ length: 300 }, (_, i) => `w${i % 50}`);
  for (let i = 0; i < words.length; i += 3) await producer.send({ topic: 'sb-lines', key: `l${i}`, value: words.slice(i, i + 3).join(' ') });
  const total = (s: KafkaStreams) => s.store<string, number>('counts').all().reduce((n, e) => n + e.value, 0);
  await waitFor(() => total(a) + total(b) === 300, 30_000, 'all words counted');
  await new Promise((r) => setTimeout(r, 500)); // the standbys catch up with the changelog
  restoredByB = 0;
  await a.close();
  await waitFor(() => b.state() === 'RUNNING' && b.activeTasks().includes('1_0') && b.activeTasks().includes('1_1'), 30_000, 'b takes over');
  await waitFor(() => total(b) === 300, 10_000, 'b holds every count');
  // Without the standby, b would restore every changelog record of a's task (its words' updates).
  assert.ok(restoredByB < 10, `restored ${restoredByB} records after takeover`);
  assert.equal(b.store<string, number>('counts').get('w7'), 6);
});
