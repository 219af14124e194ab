import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@sluice/client';
import { startBroker } from '@sluice/broker';
import { KafkaStreams, Serdes, type KafkaStreamsState } from '../../src/index.js';
import { wordCountTopology } from '../../examples/word-count.js';

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('KafkaStreams runs word count against a broker: internal topics, state, interactive queries, restore', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-streams-rt-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ brokers: [bootstrap] });
  const opened: KafkaStreams[] = [];
  t.after(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await admin.createTopics([{ topic: 'lines', numPartitions: 2 }, { topic: 'counts-out', numPartitions: 2 }]);
  const producer = new Producer({ brokers: [bootstrap] });
  t.after(() => producer.close());
  const lines = ['the quick brown fox', 'the lazy dog', 'The End'];
  for (const [i, line] of lines.entries()) await producer.send({ topic: 'lines', key: `k${i}`, value: line });

  const props = { 'application.id': 'wc-rt', 'application.server': 'app-host-1:7070', 'bootstrap.servers': bootstrap, 'state.dir': join(dir, 'state'), 'commit.interval.ms': 200, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 300 };
  const streams = new KafkaStreams(wordCountTopology('lines', 'counts-out', 'in-memory'), props);
  opened.push(streams);
  const states: KafkaStreamsState[] = [];
  streams.setStateListener((next) => states.push(next));
  await streams.start();
  await waitFor(() => streams.state() === 'RUNNING' && streams.processedRecords >= 3, 30_000, 'processing');
  assert.deepEqual(states.slice(0, 2), ['REBALANCING', 'RUNNING']);
  const topics = await admin.listTopics();
  assert.ok(topics.includes('wc-rt-counts-repartition'), 'repartition topic created');
  assert.ok(topics.includes('wc-rt-counts-changelog'), 'changelog topic created');
  // The words land in two partitions (tasks) that progress independently.
  await waitFor(() => streams.state() === 'RUNNING' && streams.store<string, number>('counts').get('the') === 3 && streams.store<string, number>('counts').all().length === 7, 30_000, 'all counts');
  assert.equal(streams.store<string, number>('counts').get('fox'), 1);
  assert.equal(streams.store<string, number>('counts').all().length, 7);
  const meta = await streams.queryMetadataForKey('counts', 'the', Serdes.String());
  assert.ok(meta.partition === 0 || meta.partition === 1);
  assert.deepEqual(meta.activeHost, { host: 'app-host-1', port: 7070 });
  await streams.close();
  assert.deepEqual(states.slice(-2), ['PENDING_SHUTDOWN', 'NOT_RUNNING']);
  assert.throws(() => new KafkaStreams(wordCountTopology(), { 'application.id': 'x' }), /bootstrap.servers/);

  // A second run starts with an empty in-memory store and restores it from the changelog.
  const restored: number[] = [];
  const again = new KafkaStreams(wordCountTopology('lines', 'counts-out', 'in-memory'), props);
  opened.push(again);
  again.setGlobalStateRestoreListener({ onRestoreEnd: (_t, _p, _s, n) => restored.push(n) });
  await again.start();
  await producer.send({ topic: 'lines', key: 'k9', value: 'the fox' });
  await waitFor(() => again.state() === 'RUNNING' && again.store<string, number>('counts').get('the') === 4 && again.store<string, number>('counts').get('fox') === 2, 30_000, 'restored count');
  assert.ok(restored.reduce((a, b) => a + b, 0) >= 7, `restored ${restored}`);
  assert.equal(again.store<string, number>('counts').get('fox'), 2);
  await again.close();
  again.cleanUp();

  const consumer = new Consumer<Buffer | null, Buffer | null>({ brokers: [bootstrap], autoOffsetReset: 'earliest' });
  t.after(() => consumer.close());
  await consumer.assign([{ topic: 'counts-out', partition: 0 }, { topic: 'counts-out', partition: 1 }]);
  const latest = new Map<string, number>();
  await waitFor(async () => {
    const batch = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 300))]);
    for (const r of batch?.records ?? []) latest.set(String(r.key), Number((r.value as Buffer).readBigInt64BE(0)));
    return latest.get('the') === 4 && latest.get('end') === 1;
  }, 30_000, 'output topic');
  assert.equal(latest.get('end'), 1);
});
