import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { Consumer, KafkaError, MisuseError, Producer, type ConsumerRecord } from '../../src/index.js';
import { uniqueTopic, withBroker, type TestBroker } from '../helpers.js';

async function setup(t: { after(fn: () => Promise<void>): void }, partitions = 1, count = 100): Promise<{ broker: TestBroker; topic: string; produceAt: number }> {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: partitions }]);
  const producer = new Producer({ brokers: [broker.bootstrap], partitioner: 'roundrobin' });
  const produceAt = 1_700_000_000_000;
  await producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}`, timestamp: produceAt + i * 1000 })));
  await producer.close();
  return { broker, topic, produceAt };
}

async function take(consumer: Consumer, n: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  if (n === 0) return out;
  for await (const r of consumer) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

test('manual assign: autoOffsetReset earliest/latest/none, seek, seekToBeginning/End, position', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t);
  const tp = { topic, partition: 0 };
  const earliest = new Consumer({ brokers: [broker.bootstrap], autoOffsetReset: 'earliest' });
  await earliest.assign([tp]);
  assert.deepEqual((await take(earliest, 3)).map((r) => r.value?.toString()), ['v0', 'v1', 'v2']);
  earliest.seek(tp, 50n);
  assert.equal((await take(earliest, 1))[0].offset, 50n);
  await earliest.seekToEnd();
  assert.equal(earliest.position(tp), 100n);
  await earliest.seekToBeginning([tp]);
  assert.equal((await take(earliest, 1))[0].offset, 0n);
  assert.throws(() => earliest.seek({ topic, partition: 9 }, 0n), MisuseError);
  await earliest.close();

  const latest = new Consumer({ brokers: [broker.bootstrap] });
  await latest.assign([tp]);
  assert.equal(latest.position(tp), 100n);
  const producer = new Producer({ brokers: [broker.bootstrap] });
  await producer.send({ topic, value: 'after' });
  await producer.close();
  assert.deepEqual((await take(latest, 1)).map((r) => [r.offset, r.value?.toString()]), [[100n, 'after']]);
  await latest.close();

  // 'none' (Kafka's NoOffsetForPartitionException): assign() succeeds, poll() fails while the
  // partition has neither a committed offset nor a seek(); after a seek() it reads from there.
  const none = new Consumer({ brokers: [broker.bootstrap], groupId: `none-${topic}`, autoOffsetReset: 'none' });
  await none.assign([tp]);
  assert.equal(none.position(tp), null);
  await assert.rejects(none.poll(), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE && /seek\(\)/.test(e.message));
  none.seek(tp, 42n);
  assert.deepEqual((await take(none, 1)).map((r) => r.offset), [42n]);
  await none.close();
});

test('offsetsForTimes finds the first offset at or after a timestamp', { timeout: 60_000 }, async (t) => {
  const { broker, topic, produceAt } = await setup(t);
  const consumer = new Consumer({ brokers: [broker.bootstrap] });
  const found = await consumer.offsetsForTimes([
    { topic, partition: 0, timestamp: produceAt + 42_500 },
    { topic, partition: 0, timestamp: produceAt + 10_000_000 },
  ]);
  assert.deepEqual(found.map((f) => f.offset).sort(), [-1n, 43n].sort());
  await consumer.close();
});

test('pause stops delivery of a partition, resume continues where it stopped', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t, 2, 100);
  const consumer = new Consumer({ brokers: [broker.bootstrap], autoOffsetReset: 'earliest' });
  const p0 = { topic, partition: 0 };
  const p1 = { topic, partition: 1 };
  await consumer.assign([p0, p1]);
  consumer.pause([p0]);
  assert.deepEqual(consumer.paused(), [p0]);
  const first = await take(consumer, 50);
  assert.ok(first.every((r) => r.partition === 1), 'only the unpaused partition is delivered');
  consumer.resume([p0]);
  const rest = await take(consumer, 50);
  assert.ok(rest.every((r) => r.partition === 0));
  assert.deepEqual(rest.map((r) => r.offset), Array.from({ length: 50 }, (_, i) => BigInt(i)));
  await consumer.close();
});

test('commits: sync and async commits of explicit offsets, committed() reads them back, auto-commit stores consumed positions', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t, 1, 20);
  const groupId = `g-${topic}`;
  const tp = { topic, partition: 0 };
  const consumer = new Consumer({ brokers: [broker.bootstrap], groupId, enableAutoCommit: false, autoOffsetReset: 'earliest' });
  await consumer.assign([tp]);
  await consumer.commit([{ ...tp, offset: 7n, metadata: 'seven' }]);
  assert.equal((await consumer.committed([tp])).get(`${topic}\0${0}`), 7n);
  await new Promise<void>((resolve, reject) => consumer.commitAsync([{ ...tp, offset: 9n }], (e) => (e ? reject(e) : resolve())));
  assert.equal((await consumer.committed([tp])).get(`${topic}\0${0}`), 9n);
  await consumer.close();

  // A new consumer of the group starts at the committed offset; auto-commit stores what it consumed.
  const auto = new Consumer({ brokers: [broker.bootstrap], groupId, autoCommitIntervalMs: 100 });
  await auto.assign([tp]);
  const committedNow = async () => (await auto.committed([tp])).get(`${topic}\0${0}`) ?? -1n;
  const waitCommitted = async (offset: bigint) => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await committedNow()) !== offset) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await committedNow(), offset);
  };
  const seen: bigint[] = [];
  for await (const r of auto) {
    seen.push(r.offset);
    if (r.offset === 13n) {
      // While 13 is being processed, auto-commit stores 13 (everything before it), never 14.
      await waitCommitted(13n);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await committedNow(), 13n);
      break;
    }
  }
  assert.deepEqual(seen, [9n, 10n, 11n, 12n, 13n]);
  // Leaving the loop finishes 13.
  await waitCommitted(14n);
  await auto.close();
  assert.throws(() => new Consumer({ brokers: [broker.bootstrap], groupId: '' }), MisuseError);
  const noGroup = new Consumer({ brokers: [broker.bootstrap] });
  await assert.rejects(noGroup.commit([{ ...tp, offset: 1n }]), MisuseError);
  await assert.rejects(noGroup.subscribe([topic]), MisuseError);
  await noGroup.close();
});

test('back-pressure: an idle consumer buffers about max.partition.fetch.bytes, not the whole log', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], batchSize: 64 * 1024 });
  const value = Buffer.alloc(1024, 7);
  await producer.sendBatch(Array.from({ length: 4000 }, () => ({ topic, value })));
  await producer.close();
  const consumer = new Consumer({ brokers: [broker.bootstrap], autoOffsetReset: 'earliest', maxPartitionFetchBytes: 256 * 1024 });
  await consumer.assign([{ topic, partition: 0 }]);
  const first = await take(consumer, 1);
  assert.equal(first[0].offset, 0n);
  await new Promise((r) => setTimeout(r, 500));
  const state = (consumer as unknown as { states: Map<string, { bufferedBytes: number; fetchPosition: bigint }> }).states.values().next().value!;
  assert.ok(state.bufferedBytes <= 3 * 256 * 1024 + 64 * 1024, `buffered ${state.bufferedBytes} bytes`);
  assert.ok(state.fetchPosition < 1000n, `fetched ahead to ${state.fetchPosition}`);
  // Draining lets the fetcher continue to the end.
  const rest = await take(consumer, 3999);
  assert.equal(rest[rest.length - 1].offset, 3999n);
  await consumer.close();
});

test('fetch.min.bytes with fetch.max.wait.ms: a fetch waits for data up to the wait, and returns early when enough arrives', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t, 1, 0);
  const consumer = new Consumer({ brokers: [broker.bootstrap], fetchMinBytes: 1, fetchMaxWaitMs: 30_000, isolationLevel: 'read_committed' });
  await consumer.assign([{ topic, partition: 0 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 0 });
  await new Promise((r) => setTimeout(r, 300)); // the fetch is now parked on the broker
  const started = Date.now();
  await producer.send({ topic, value: 'wake' });
  const [r] = await take(consumer, 1);
  assert.equal(r.value?.toString(), 'wake');
  // Well inside the 30 s wait, with room for the producer's first connection on a busy machine.
  assert.ok(Date.now() - started < 10_000, 'a parked fetch returns as soon as min bytes arrive');
  await producer.close();
  await consumer.close();
});

test('run({ eachBatch }) and poll() hand out per-partition batches', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t, 2, 40);
  const consumer = new Consumer({ brokers: [broker.bootstrap], autoOffsetReset: 'earliest' });
  await consumer.assign([{ topic, partition: 0 }, { topic, partition: 1 }]);
  let total = 0;
  const partitions = new Set<number>();
  const running = consumer.run({
    eachBatch: async (batch) => {
      assert.ok(batch.records.every((r) => r.partition === batch.partition));
      assert.equal(batch.highWatermark, 20n);
      partitions.add(batch.partition);
      total += batch.records.length;
      if (total === 40) await consumer.close();
    },
  });
  await running;
  assert.equal(total, 40);
  assert.deepEqual([...partitions].sort(), [0, 1]);
});

test('deserializers turn key and value bytes into application values', { timeout: 60_000 }, async (t) => {
  const { broker, topic } = await setup(t, 1, 0);
  const producer = new Producer<number, { n: number }>({ brokers: [broker.bootstrap], keySerializer: (k) => Buffer.from(String(k)), valueSerializer: (v) => Buffer.from(JSON.stringify(v)) });
  await producer.send({ topic, key: 41, value: { n: 1 } });
  await producer.send({ topic, key: 42, value: { n: 2 } });
  await producer.close();
  const consumer = new Consumer<number, { n: number } | null>({
    brokers: [broker.bootstrap],
    autoOffsetReset: 'earliest',
    keyDeserializer: (b) => Number(b!.toString()),
    valueDeserializer: (b, topicName) => {
      assert.equal(topicName, topic);
      return b === null ? null : (JSON.parse(b.toString()) as { n: number });
    },
  });
  await consumer.assign([{ topic, partition: 0 }]);
  const got: Array<[number, number | undefined]> = [];
  for await (const r of consumer) {
    got.push([r.key + 1, r.value?.n]);
    if (got.length === 2) break;
  }
  assert.deepEqual(got, [[42, 1], [43, 2]]);
  await consumer.close();
});
