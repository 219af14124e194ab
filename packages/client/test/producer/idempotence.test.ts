/**
 * Idempotence against our broker and a scripted one. Against the real broker: the producer gets a
 * producer id, a response lost after the broker appended (a proxy swallows it and drops the
 * connection) is retried with the identical batch and answered with the original offsets, and
 * connections killed under load leave every record stored exactly once. The scripted broker
 * covers what the real one cannot do on demand: an exact script of lost responses and the bytes
 * of each retry, and a broker without InitProducerId.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { ApiKey, ErrorCode, KafkaError, readBatchHeader } from '@sluice/protocol';
import { Admin, Producer, UnsupportedVersionError } from '../../src/index.js';
import { startScriptedCluster, type ProduceVerdict } from '../scripted-broker.js';
import { readAll, startTestBroker, uniqueTopic, withBroker, type TestBroker } from '../helpers.js';

/**
 * A TCP proxy in front of the broker that forwards everything, except that the response to the
 * Produce requests numbered in `dropResponseOf` (1-based, counted across connections) is
 * swallowed and the client's connection closed: the broker has appended, the client never hears.
 */
async function startResponseDroppingProxy(dropResponseOf: Set<number>): Promise<{ server: Server; port: number; produceRequests: () => number; dropped: () => number; setTarget(port: number): void }> {
  let targetPort = 0;
  let produceRequests = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const toDrop = new Set<number>();
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    framed(client, (frame) => {
      if (frame.readInt16BE(4) === ApiKey.Produce && dropResponseOf.has(++produceRequests)) toDrop.add(frame.readInt32BE(8));
      upstream.write(frame);
    });
    framed(upstream, (frame) => {
      if (toDrop.has(frame.readInt32BE(4))) {
        dropped++;
        closeBoth();
      } else client.write(frame);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return { server, port, produceRequests: () => produceRequests, dropped: () => dropped, setTarget: (p) => (targetPort = p) };
}

/** Calls `onFrame` with each whole size-prefixed frame (prefix included) read from `socket`. */
function framed(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = 4 + buffered.readInt32BE(0);
      onFrame(buffered.subarray(0, size));
      buffered = buffered.subarray(size);
    }
  });
}

test('against our broker: a Produce response lost after the append is retried and answered with the original offsets, nothing stored twice', { timeout: 60_000 }, async (t) => {
  // Produce requests 2 and 4 reach the broker, are appended, and their responses never arrive.
  const proxy = await startResponseDroppingProxy(new Set([2, 4]));
  const broker = await startTestBroker({ 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` });
  proxy.setTarget(broker.port);
  const admin = new Admin({ brokers: [broker.bootstrap] });
  t.after(async () => {
    admin.close();
    proxy.server.close();
    await broker.stop();
  });
  const topic = uniqueTopic('idem');
  await admin.createTopics([{ topic, numPartitions: 1 }]);
  const producer = new Producer({ brokers: [`127.0.0.1:${proxy.port}`], enableIdempotence: true, lingerMs: 0, retry: { retries: 10, initialRetryTimeMs: 20 } });
  await producer.connect();
  const identity = producer.producerIdentity;
  assert.ok(identity && identity.producerId >= 0n && identity.producerEpoch === 0, 'a producer id from the broker');
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await producer.sendBatch(Array.from({ length: 3 }, (_, j) => ({ topic, key: `k${i}`, value: `v${i}-${j}` }))));
  await producer.close();
  assert.equal(proxy.dropped(), 2, 'two responses were swallowed after the broker appended');
  assert.equal(proxy.produceRequests(), 7, 'five batches, two of them sent twice');
  assert.deepEqual(results.flat().map((r) => r.offset), Array.from({ length: 15 }, (_, i) => BigInt(i)));
  const [end] = await admin.listOffsets(topic);
  assert.equal(end.offset, 15n, 'the retried batches were not appended a second time');
  const stored = await readAll(broker.bootstrap, topic, 15);
  assert.deepEqual(stored.map((r) => r.value), Array.from({ length: 15 }, (_, i) => `v${Math.floor(i / 3)}-${i % 3}`));
});

test('against our broker: connections killed under load, every record stored exactly once and in order', { timeout: 90_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('idem-load');
  await admin.createTopics([{ topic, numPartitions: 3 }]);
  const producer = new Producer({ brokers: [broker.bootstrap], enableIdempotence: true, lingerMs: 2, retry: { retries: 20, initialRetryTimeMs: 20 } });
  await producer.connect();
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < 60; i++) {
    sends.push(producer.sendBatch(Array.from({ length: 20 }, (_, j) => ({ topic, key: `k${i % 7}`, value: `v${i}-${j}` }))));
    if (i % 10 === 5) {
      for (const c of (producer.cluster as unknown as { connections: Map<string, { socket: { destroy(): void } | null }> }).connections.values()) c.socket?.destroy();
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(sends);
  await producer.close();
  const total = (await admin.listOffsets(topic)).reduce((n, p) => n + Number(p.offset), 0);
  assert.equal(total, 1200, 'exactly one copy of each record');
  const got = await readAll(broker.bootstrap, topic, total);
  assert.equal(new Set(got.map((r) => r.value)).size, 1200);
  // Per key (one partition each), records keep the order they were sent in.
  for (let k = 0; k < 7; k++) {
    const values = got.filter((r) => r.key === `k${k}`).map((r) => r.value!);
    const order = values.map((v) => v.slice(1).split('-').map(Number)).map(([i, j]) => i * 20 + j);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `key k${k} in order`);
  }
});

test('against our broker: a batch the broker refuses (too large) gives its sequences back; later batches, queued or in flight, are stored', { timeout: 60_000 }, async (t) => {
  const { broker, admin } = await withBroker(t);
  const topic = uniqueTopic('idem-refused');
  await admin.createTopics([{ topic, numPartitions: 1, configs: { 'max.message.bytes': '1000' } }]);
  // batchSize 1: every record is a batch of its own.
  const producer = new Producer({ brokers: [broker.bootstrap], enableIdempotence: true, lingerMs: 0, batchSize: 1, retry: { retries: 10, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  const big = Buffer.alloc(3000, 0x78);
  const refused = (e: unknown) => e instanceof KafkaError && !e.retriable && e.code !== ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
  // One after the other: the refused batch's sequence is reused by the next one.
  assert.equal((await producer.send({ topic, value: 'a' })).offset, 0n);
  await assert.rejects(producer.send({ topic, value: big }), refused);
  assert.equal((await producer.send({ topic, value: 'b' })).offset, 1n);
  // All at once: the batches behind the refused one are in flight with higher sequences.
  const c = producer.send({ topic, value: 'c' });
  const tooBig = producer.send({ topic, value: big });
  const later = ['d', 'e', 'f'].map((value) => producer.send({ topic, value }));
  await assert.rejects(tooBig, refused);
  assert.deepEqual([(await c).offset, ...(await Promise.all(later)).map((r) => r.offset)], [2n, 3n, 4n, 5n]);
  const stored = await readAll(broker.bootstrap, topic, 6);
  assert.deepEqual(stored.map((r) => r.value), ['a', 'b', 'c', 'd', 'e', 'f']);

  // The partition's very first batch refused, with more sent right behind it: the broker has no
  // state for this producer there yet, so it would take any sequence; nothing may be lost or reordered.
  const fresh = uniqueTopic('idem-refused-first');
  await admin.createTopics([{ topic: fresh, numPartitions: 1, configs: { 'max.message.bytes': '1000' } }]);
  const second = new Producer({ brokers: [broker.bootstrap], enableIdempotence: true, lingerMs: 0, batchSize: 1, retry: { retries: 10, initialRetryTimeMs: 10 } });
  t.after(() => second.close());
  const firstRefused = second.send({ topic: fresh, value: big });
  const behind = ['p', 'q'].map((value) => second.send({ topic: fresh, value }));
  await assert.rejects(firstRefused, refused);
  assert.deepEqual((await Promise.all(behind)).map((r) => r.offset), [0n, 1n]);
  assert.equal((await second.send({ topic: fresh, value: 'r' })).offset, 2n);
  assert.deepEqual((await readAll(broker.bootstrap, fresh, 3)).map((r) => r.value), ['p', 'q', 'r']);
});

test('scripted broker: producer id from InitProducerId, consecutive sequences, identical bytes on retry', { timeout: 60_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true, onProduce: (n) => (n === 1 ? 'drop' : 'ok') });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  await producer.connect();
  assert.deepEqual(producer.producerIdentity, { producerId: 4242n, producerEpoch: 3 });
  const first = await producer.sendBatch(Array.from({ length: 3 }, (_, i) => ({ topic: 't', value: `a${i}` })));
  const second = await producer.sendBatch(Array.from({ length: 2 }, (_, i) => ({ topic: 't', value: `b${i}` })));
  const third = await producer.sendBatch(Array.from({ length: 4 }, (_, i) => ({ topic: 't', value: `c${i}` })));
  await producer.close();
  assert.deepEqual(first.map((r) => r.offset), [0n, 1n, 2n]);
  assert.deepEqual(second.map((r) => r.offset), [3n, 4n]);
  assert.deepEqual(third.map((r) => r.offset), [5n, 6n, 7n, 8n]);
  // Produce #1 (the second batch) was swallowed and resent: four Produce requests for three batches.
  assert.equal(cluster.produced.length, 4);
  const headers = cluster.produced.map((p) => readBatchHeader(p.records));
  assert.deepEqual(headers.map((h) => h.baseSequence), [0, 3, 3, 5]);
  assert.ok(headers.every((h) => h.producerId === 4242n && h.producerEpoch === 3));
  assert.ok(cluster.produced[1].records.equals(cluster.produced[2].records), 'the retry is the identical batch');
});

test('scripted broker: five batches of one partition in flight; a failed batch and the ones behind it (OUT_OF_ORDER_SEQUENCE_NUMBER) are resent one at a time, in sequence order', { timeout: 60_000 }, async (t) => {
  // Request 0 (the partition's first batch) is acknowledged at once; until then only one batch of
  // the partition is in flight. Requests 1-5 are held until all five are in flight, then answered
  // in order as Kafka would when the second is not appended: ok, NOT_ENOUGH_REPLICAS, then out of
  // order (a gap) for the three behind it. The first resend of the failed batch fails again.
  const OOO = { hold: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  const script: ProduceVerdict[] = ['ok', { hold: 0 }, { hold: ErrorCode.NOT_ENOUGH_REPLICAS }, OOO, OOO, OOO, ErrorCode.NOT_ENOUGH_REPLICAS];
  const cluster = await startScriptedCluster({ idempotence: true, onProduce: (i) => script[i] ?? 'ok' });
  t.after(() => cluster.close());
  // batchSize 1: every record is a batch of its own.
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, batchSize: 1, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  await producer.connect();
  assert.equal((await producer.send({ topic: 't', value: 'first' })).offset, 0n);
  const sends = Array.from({ length: 5 }, (_, b) => producer.send({ topic: 't', value: `b${b}` }));
  const deadline = Date.now() + 20_000;
  while (cluster.outstanding < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(cluster.maxOutstanding, 5, 'five batches of one partition in flight at once');
  cluster.releaseHeld();
  const results = await Promise.all(sends);
  await producer.close();
  // Offsets follow the send order: the retries went back in sequence order, one at a time.
  assert.deepEqual(results.map((r) => r.offset), [1n, 2n, 3n, 4n, 5n]);
  const sequences = cluster.produced.map((p) => readBatchHeader(p.records).baseSequence);
  assert.deepEqual(sequences, [0, 1, 2, 3, 4, 5, 2, 2, 3, 4, 5], 'the failed batch resent until written, then the ones behind it');
  for (let i = 6; i < cluster.produced.length; i++) {
    const first = sequences.indexOf(sequences[i]);
    assert.ok(cluster.produced[i].records.equals(cluster.produced[first].records), 'each retry is the identical batch');
  }
});

test('scripted broker: OUT_OF_ORDER_SEQUENCE_NUMBER with nothing earlier pending fails the send', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true, onProduce: (i) => (i === 0 ? ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER : 'ok') });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  await assert.rejects(producer.send({ topic: 't', value: 'x' }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(cluster.produced.length, 1, 'not retried');
  assert.throws(() => new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, retry: { retries: 0 } }), /retries > 0/);
});

test('enableIdempotence against a broker without InitProducerId fails clearly', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: false });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true });
  await assert.rejects(producer.connect(), UnsupportedVersionError);
  await producer.close();
  const plain = new Producer({ brokers: [cluster.bootstrap] });
  const r = await plain.send({ topic: 't', value: 'x' });
  assert.equal(r.offset, 0n);
  assert.equal(readBatchHeader(cluster.produced[0].records).producerId, -1n);
  await plain.close();
});
