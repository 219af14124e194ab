/** librdkafka (kcat 2.0.2) against our client: partitioner parity and records both ways. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, murmur2Partition } from '../../src/index.js';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { readAll, run, startTestBroker, uniqueTopic, withBroker } from '../helpers.js';

const KCAT = kcatPath();

test('10,000 keys: our default partitioner picks the partitions kcat picks with murmur2_random', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('parity');
  const partitions = 7;
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}-${(i * 7919).toString(36)}`);
  const produced = await run(KCAT, ['-b', broker.bootstrap, '-P', '-t', topic, '-K:', '-X', 'topic.partitioner=murmur2_random', '-X', 'linger.ms=20'], {
    input: keys.map((k) => `${k}:v`).join('\n') + '\n',
  });
  assert.equal(produced.code, 0, produced.stderr);
  const kcatPartition = new Map<string, number>();
  for (const r of await readAll(broker.bootstrap, topic, keys.length)) kcatPartition.set(r.key!, r.partition);
  assert.equal(kcatPartition.size, keys.length);
  let spread = new Set<number>();
  for (const k of keys) {
    assert.equal(murmur2Partition(Buffer.from(k), partitions), kcatPartition.get(k), k);
    spread.add(kcatPartition.get(k)!);
  }
  assert.equal(spread.size, partitions, 'keys use every partition');

  // And through the producer itself: the same keys land on the same partitions.
  const topic2 = uniqueTopic('parity2');
  await admin.createTopics([{ topic: topic2, numPartitions: partitions }]);
  const producer = new Producer({ brokers: [broker.bootstrap] });
  const results = await producer.sendBatch(keys.map((k) => ({ topic: topic2, key: k, value: 'v' })));
  await producer.close();
  results.forEach((r, i) => assert.equal(r.partition, kcatPartition.get(keys[i])));
});

test('what our producer writes (every codec, headers) kcat reads identically', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
  for (const compression of codecs) {
    const topic = uniqueTopic(`to-kcat-${compression}`);
    const producer = new Producer({ brokers: [broker.bootstrap], compression, allowAutoTopicCreation: false });
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic, numPartitions: 1 }]);
    admin.close();
    const records = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: i % 10 === 0 ? null : `k${i}`,
      value: `value-${compression}-${i}-${'x'.repeat(i % 50)}`,
      headers: { h1: `a${i}`, h2: 'b' },
      timestamp: 1_700_000_000_000 + i,
    }));
    await producer.sendBatch(records);
    await producer.close();
    const out = await run(KCAT, ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o|%k|%s|%T|%h\n']);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.equal(lines.length, records.length, compression);
    lines.forEach((line, i) => {
      const r = records[i];
      assert.equal(line, `${i}|${r.key ?? ''}|${r.value}|${r.timestamp}|h1=a${i},h2=b`, compression);
    });
  }
});

test('what kcat writes (every codec, headers) our consumer reads identically', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const topic = uniqueTopic(`from-kcat-${codec}`);
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic, numPartitions: 1 }]);
    admin.close();
    const lines = Array.from({ length: 200 }, (_, i) => `key${i}:value-${codec}-${i}`);
    const produced = await run(KCAT, ['-b', broker.bootstrap, '-P', '-t', topic, '-K:', '-z', codec, '-H', 'source=kcat', '-X', 'linger.ms=10'], { input: lines.join('\n') + '\n' });
    assert.equal(produced.code, 0, produced.stderr);
    const got = await readAll(broker.bootstrap, topic, lines.length);
    assert.deepEqual(
      got.map((r) => `${r.key}:${r.value}`),
      lines,
      codec,
    );
    assert.deepEqual(got.map((r) => r.offset), lines.map((_, i) => BigInt(i)));
    for (const r of got) assert.deepEqual(r.headers, [['source', 'kcat']]);
  }
});
