/**
 * Idempotence against a scripted broker (our broker has no InitProducerId yet): the producer gets
 * a producer id, numbers each partition's batches with consecutive sequences, and after a lost
 * response resends the identical batch (same sequence) rather than a renumbered one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBatchHeader } from '@sluice/protocol';
import { Producer, UnsupportedVersionError } from '../../src/index.js';
import { startScriptedCluster } from '../scripted-broker.js';

test('idempotent producer: producer id from InitProducerId, consecutive sequences, identical bytes on retry', { timeout: 60_000 }, async (t) => {
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
