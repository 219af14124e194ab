import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { BufferExhaustedError, KafkaError, MisuseError, Producer, type RequestEvent } from '../../src/index.js';
import { readAll, uniqueTopic, withBroker } from '../helpers.js';

function countRequests(apiKey: number): { count: () => number; stop: () => void } {
  let n = 0;
  const on = (m: unknown) => {
    if ((m as RequestEvent).apiKey === apiKey) n++;
  };
  subscribe('sluice:client:request', on);
  return { count: () => n, stop: () => unsubscribe('sluice:client:request', on) };
}

test('send resolves with offsets once acknowledged; keys, values, headers and timestamps arrive intact with acks 0, 1 and all', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  let expectedOffset = 0n;
  for (const acks of [1, 'all'] as const) {
    const producer = new Producer({ brokers: [broker.bootstrap], acks });
    const r = await producer.send({ topic, key: 'k', value: Buffer.from([0, 1, 2, 255]), headers: [{ key: 'h', value: Buffer.from('x') }, { key: 'nul', value: null }], timestamp: new Date(1_600_000_000_000) });
    assert.equal(r.offset, expectedOffset++);
    assert.equal(r.partition, 0);
    await producer.close();
  }
  const zero = new Producer({ brokers: [broker.bootstrap], acks: 0 });
  const r0 = await zero.send({ topic, key: null, value: 'fire-and-forget', timestamp: 1_600_000_000_001n });
  assert.equal(r0.offset, -1n, 'acks=0 has no offset');
  await zero.close();
  const got = await readAll(broker.bootstrap, topic, 3);
  assert.deepEqual(got[0].headers, [['h', 'x'], ['nul', null]]);
  assert.equal(got[0].timestamp, 1_600_000_000_000n);
  assert.deepEqual([...Buffer.from(got[0].value!, 'utf8')].length > 0, true);
  assert.equal(got[2].value, 'fire-and-forget');
  assert.equal(got[2].key, null);
});

test('linger.ms gathers concurrent sends into few Produce requests', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 100 });
  await producer.connect();
  await producer.cluster.ensureTopics([topic]);
  const produce = countRequests(ApiKey.Produce);
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => producer.send({ topic, value: `m${i}` })));
  produce.stop();
  assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 500 }, (_, i) => BigInt(i)));
  assert.ok(produce.count() <= 2, `500 sends took ${produce.count()} Produce requests`);
  await producer.close();
});

test('a full batch (batch.size) goes at once; a lone record waits for linger until flush()', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 600_000, batchSize: 2_000 });
  const value = Buffer.alloc(100, 1);
  const started = Date.now();
  // Records of ~120 bytes: 16 fill a 2000-byte batch; the 17th opens the next, and the full one
  // goes out without waiting for linger.
  const sends = Array.from({ length: 17 }, () => producer.send({ topic, value }));
  const full = await Promise.all(sends.slice(0, 16));
  assert.deepEqual(full.map((r) => r.offset), Array.from({ length: 16 }, (_, i) => BigInt(i)));
  let settled = false;
  void sends[16].then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(settled, false, 'the record in the open batch waits for linger.ms');
  await producer.flush();
  assert.ok(Date.now() - started < 30_000, 'flush sent it, not the 10-minute linger');
  assert.equal((await sends[16]).offset, 16n);
  await producer.close();
});

test('buffer.memory: a full buffer blocks send until space frees, and fails after maxBlockMs', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 600_000, batchSize: 1_000_000, bufferMemory: 10_000, maxBlockMs: 2_000 });
  const value = Buffer.alloc(1000);
  const held = Array.from({ length: 9 }, () => producer.send({ topic, value }));
  await assert.rejects(producer.send({ topic, value }), (e: unknown) => e instanceof BufferExhaustedError && e.retriable);
  // A blocked send goes through once a flush frees the buffer.
  const blocked = producer.send({ topic, value: Buffer.alloc(2000) });
  await new Promise((r) => setTimeout(r, 50));
  await producer.flush();
  const offsets = (await Promise.all(held)).map((r) => r.offset);
  assert.deepEqual(offsets, Array.from({ length: 9 }, (_, i) => BigInt(i)));
  await producer.flush();
  assert.equal((await blocked).offset, 9n);
  await producer.close();
});

test('partitioners through the producer: round-robin, a custom function, explicit partitions', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 3 }]);
  const rr = new Producer({ brokers: [broker.bootstrap], partitioner: 'roundrobin' });
  const r = await rr.sendBatch(Array.from({ length: 6 }, () => ({ topic, key: 'same', value: 'x' })));
  assert.deepEqual(r.map((x) => x.partition), [0, 1, 2, 0, 1, 2]);
  await rr.close();
  const custom = new Producer({ brokers: [broker.bootstrap], partitioner: ({ value }) => (value?.toString() === 'two' ? 2 : 0) });
  assert.equal((await custom.send({ topic, value: 'two' })).partition, 2);
  assert.equal((await custom.send({ topic, value: 'one', partition: 1 })).partition, 1);
  await custom.close();
});

test('misuse and broker errors are typed', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  assert.throws(() => new Producer({ brokers: [] }), MisuseError);
  assert.throws(() => new Producer({ brokers: [broker.bootstrap], acks: 1, enableIdempotence: true }), MisuseError);
  const producer = new Producer<Buffer | string | null, unknown>({ brokers: [broker.bootstrap], retry: { retries: 1, initialRetryTimeMs: 10 } });
  await assert.rejects(producer.send({ topic, value: 'x', partition: 5 }), MisuseError);
  await assert.rejects(producer.send({ topic, value: 42 }), MisuseError);
  await assert.rejects(producer.send({ topic: uniqueTopic('missing'), value: 'x' }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  await producer.close();
  await assert.rejects(producer.send({ topic, value: 'x' }), MisuseError);
});

test('serializers turn application values into bytes', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer<number, { n: number }>({
    brokers: [broker.bootstrap],
    keySerializer: (k) => Buffer.from(String(k)),
    valueSerializer: (v) => Buffer.from(JSON.stringify(v)),
  });
  await producer.send({ topic, key: 7, value: { n: 1 } });
  await producer.close();
  const [r] = await readAll(broker.bootstrap, topic, 1);
  assert.equal(r.key, '7');
  assert.deepEqual(JSON.parse(r.value!), { n: 1 });
});

test('a connection dropped under load: every send still resolves and every record is stored', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic();
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 2, retry: { retries: 10, initialRetryTimeMs: 20 } });
  await producer.connect();
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < 50; i++) {
    sends.push(producer.sendBatch(Array.from({ length: 20 }, (_, j) => ({ topic, key: `k${i}-${j}`, value: `v${i}-${j}` }))));
    if (i === 25) {
      for (const c of (producer.cluster as unknown as { connections: Map<string, { close(): void; socket: { destroy(): void } | null }> }).connections.values()) c.socket?.destroy();
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(sends);
  await producer.close();
  // Without idempotence a retry after a lost response may write a record twice: read everything.
  const total = (await admin.listOffsets(topic)).reduce((n, p) => n + Number(p.offset), 0);
  assert.ok(total >= 1000);
  const got = await readAll(broker.bootstrap, topic, total);
  const keys = new Set(got.map((r) => r.key));
  for (let i = 0; i < 50; i++) for (let j = 0; j < 20; j++) assert.ok(keys.has(`k${i}-${j}`));
});
