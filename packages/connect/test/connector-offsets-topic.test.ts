/**
 * KIP-618's per-connector offsets topic: a source connector with `offsets.storage.topic` keeps its
 * offsets there (in its transactions, with exactly-once source support), copied to the worker's
 * global topic; reads prefer the connector's topic; the offsets endpoints see and reset both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '@sluice/broker';
import { Admin, Consumer, Producer } from '@sluice/client';
import { DistributedWorker } from '../src/index.js';
import { rest, waitFor } from './helpers.js';

/** Every record of a topic (read_committed), as [key, value] strings, value null for a tombstone. */
async function readAll(bootstrap: string, admin: Admin, topic: string): Promise<Array<[string, string | null]>> {
  const ends = await admin.listOffsets(topic);
  const consumer = new Consumer({ brokers: [bootstrap], isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  const out: Array<[string, string | null]> = [];
  try {
    await consumer.assign(ends.map((e) => ({ topic, partition: e.partition })));
    const next = new Map(ends.map((e) => [e.partition, 0n]));
    // Transaction markers take offsets too: read until every partition's position reaches its end.
    await waitFor(async () => {
      for (const r of (await consumer.poll(200))?.records ?? []) {
        out.push([r.key!.toString(), r.value === null ? null : r.value.toString()]);
        next.set(r.partition, r.offset + 1n);
      }
      for (const e of ends) {
        if (next.get(e.partition)! < e.offset) {
          const position = consumer.position({ topic, partition: e.partition }) ?? -1n;
          if (position < e.offset) return false;
        }
      }
      return true;
    }, `the records of ${topic}`);
  } finally {
    await consumer.close();
  }
  return out;
}

test('offsets.storage.topic: a source connector\'s offsets go to its own topic (in its transactions) and to the global one; reads prefer its own; the offsets endpoints cover both', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-offsets-topic-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'transaction.state.log.replication.factor': 1, 'transaction.state.log.min.isr': 1, 'group.initial.rebalance.delay.ms': 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ brokers: [bootstrap] });
  const worker = await DistributedWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'group.id': 'own-offsets',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'config.storage.topic': 'o-configs',
      'offset.storage.topic': 'o-offsets',
      'status.storage.topic': 'o-status',
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'offset.storage.partitions': '2',
      'status.storage.replication.factor': '1',
      'exactly.once.source.support': 'enabled',
      'offset.flush.interval.ms': '200',
      listeners: 'http://127.0.0.1:0',
    },
    log: () => undefined,
  });
  t.after(async () => {
    await worker.close();
    await admin.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const input = join(dir, 'input.txt');
  await writeFile(input, 'a\nb\nc\n');
  const config = { 'connector.class': 'FileStreamSource', file: input, topic: 'lines', 'offsets.storage.topic': 'src-offsets' };
  for (let i = 0; ; i++) {
    const r = await rest(worker.url, 'PUT', '/connectors/src/config', config);
    if (r.status === 201) break;
    assert.ok(r.status === 409 && i < 200, JSON.stringify(r.body));
    await new Promise((res) => setTimeout(res, 100));
  }
  const key = JSON.stringify(['src', { filename: input }]);
  await waitFor(async () => ((await rest(worker.url, 'GET', '/connectors/src/offsets')).body as { offsets: unknown[] }).offsets.length > 0, 'an offset committed');
  await waitFor(async () => (await readAll(bootstrap, admin, 'src-offsets')).some(([k, v]) => k === key && v === '{"position":6}'), 'the offset of all three lines in the connector\'s topic');
  // Created like the worker's offsets topic (its partitions), compacted.
  assert.equal((await admin.describeTopics(['src-offsets']))[0].partitions.length, 2);
  await waitFor(async () => (await readAll(bootstrap, admin, 'o-offsets')).some(([k, v]) => k === key && v === '{"position":6}'), 'the copy in the global topic');
  assert.deepEqual((await rest(worker.url, 'GET', '/connectors/src/offsets')).body, { offsets: [{ partition: { filename: input }, offset: { position: 6 } }] });

  // Stop; an older offset written only to the global topic does not win over the connector's own.
  assert.equal((await rest(worker.url, 'PUT', '/connectors/src/stop')).status, 202);
  const producer = new Producer({ brokers: [bootstrap] });
  await producer.send({ topic: 'o-offsets', key, value: '{"position":2}' });
  await producer.close();
  assert.deepEqual((await rest(worker.url, 'GET', '/connectors/src/offsets')).body, { offsets: [{ partition: { filename: input }, offset: { position: 6 } }] });

  // DELETE resets both topics: nothing is left, so a restart would read the file from the start.
  const reset = await rest(worker.url, 'DELETE', '/connectors/src/offsets');
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.deepEqual((await rest(worker.url, 'GET', '/connectors/src/offsets')).body, { offsets: [] });
  assert.deepEqual((await readAll(bootstrap, admin, 'src-offsets')).filter(([k]) => k === key).at(-1), [key, null]);
  assert.deepEqual((await readAll(bootstrap, admin, 'o-offsets')).filter(([k]) => k === key).at(-1), [key, null]);
});
