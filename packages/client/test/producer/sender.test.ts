/**
 * The Sender and TransactionManager against the scripted broker with sequence checks on: the
 * KIP-360 epoch bump after a batch whose fate is unknown (its delivery timeout expired while it was
 * in flight), after UNKNOWN_PRODUCER_ID and after an unexplained OUT_OF_ORDER_SEQUENCE_NUMBER —
 * later batches go under the bumped epoch from sequence 0 instead of failing out of order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, readBatchHeader } from '@sluice/protocol';
import { Cluster, Producer, SluiceClientError } from '../../src/index.js';
import { TransactionManager, TransactionState } from '../../src/producer/transaction-manager.js';
import { startScriptedCluster, type ScriptedCluster } from '../scripted-broker.js';

function stamps(cluster: ScriptedCluster): Array<[number, number]> {
  return cluster.produced.map((p) => {
    const h = readBatchHeader(p.records);
    return [h.producerEpoch, h.baseSequence];
  });
}

test('KIP-360: a batch expiring in flight bumps the epoch; later batches go under it from sequence 0', { timeout: 30_000 }, async (t) => {
  // Produce #1 is never answered: the broker may or may not have written it.
  const cluster = await startScriptedCluster({ idempotence: true, checkSequences: true, onProduce: (n) => (n === 1 ? 'hold' : 'ok') });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, requestTimeoutMs: 300, deliveryTimeoutMs: 200, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  assert.equal((await producer.send({ topic: 't', value: 'a' })).offset, 0n);
  await assert.rejects(producer.send({ topic: 't', value: 'lost' }), (e: unknown) => e instanceof SluiceClientError && /delivery timed out/.test(e.message));
  // Without the bump these would continue at sequence 2 and the broker (expecting 1) refuse them all.
  const later = [];
  for (const value of ['b', 'c', 'd']) later.push((await producer.send({ topic: 't', value })).offset);
  assert.deepEqual(later, [1n, 2n, 3n]);
  assert.deepEqual(producer.producerIdentity, { producerId: 4242n, producerEpoch: 4 });
  assert.deepEqual(
    cluster.initProducerIdRequests.map((r) => [r.producerId, r.producerEpoch]),
    [[-1n, -1], [4242n, 3]],
    'the bump names the id and epoch held',
  );
  assert.ok(cluster.initProducerIdRequests[1].version >= 3);
  assert.deepEqual(stamps(cluster), [[3, 0], [3, 1], [4, 0], [4, 1], [4, 2]]);
});

test('KIP-360: batches in flight behind one that expires come back out of order, are renumbered under the new epoch and written', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true, checkSequences: true, onProduce: (n) => (n === 1 ? 'hold' : 'ok') });
  t.after(() => cluster.close());
  // batchSize 1: a batch per record.
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, batchSize: 1, requestTimeoutMs: 300, deliveryTimeoutMs: 250, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  assert.equal((await producer.send({ topic: 't', value: 'a' })).offset, 0n);
  const lost = producer.send({ topic: 't', value: 'lost' });
  const behind = ['b', 'c'].map((value) => producer.send({ topic: 't', value }));
  await assert.rejects(lost, /delivery timed out/);
  // They went out behind it under the old epoch and came back OUT_OF_ORDER_SEQUENCE_NUMBER while it
  // was in flight; after the bump they are resent renumbered, and written.
  assert.deepEqual((await Promise.all(behind)).map((r) => r.offset), [1n, 2n]);
  assert.equal((await producer.send({ topic: 't', value: 'd' })).offset, 3n);
  assert.equal(producer.producerIdentity?.producerEpoch, 4);
  assert.deepEqual(stamps(cluster), [[3, 0], [3, 1], [3, 2], [3, 3], [4, 0], [4, 1], [4, 2]], 'sequences from 0 under the new epoch');
});

test('KIP-360: UNKNOWN_PRODUCER_ID is retried under a bumped epoch from sequence 0', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true, checkSequences: true, onProduce: (n) => (n === 1 ? ErrorCode.UNKNOWN_PRODUCER_ID : 'ok') });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  assert.equal((await producer.send({ topic: 't', value: 'a' })).offset, 0n);
  assert.equal((await producer.send({ topic: 't', value: 'b' })).offset, 1n);
  assert.equal((await producer.send({ topic: 't', value: 'c' })).offset, 2n);
  assert.deepEqual(stamps(cluster), [[3, 0], [3, 1], [4, 0], [4, 1]]);
  const resent = cluster.produced[2].records;
  assert.equal(readBatchHeader(resent).producerId, 4242n);
});

test('KIP-360: an unexplained OUT_OF_ORDER_SEQUENCE_NUMBER fails its batch only; the next goes under a new epoch', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true, checkSequences: true, onProduce: (n) => (n === 1 ? ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER : 'ok') });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], enableIdempotence: true, lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(() => producer.close());
  assert.equal((await producer.send({ topic: 't', value: 'a' })).offset, 0n);
  await assert.rejects(producer.send({ topic: 't', value: 'b' }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal((await producer.send({ topic: 't', value: 'c' })).offset, 1n);
  assert.deepEqual(stamps(cluster), [[3, 0], [3, 1], [4, 0]]);
});

test('TransactionManager: states from UNINITIALIZED to READY; a bump moves to the next epoch and restarts sequences', { timeout: 30_000 }, async (t) => {
  const cluster = await startScriptedCluster({ idempotence: true });
  t.after(() => cluster.close());
  const plainCluster = new Cluster({ brokers: [cluster.bootstrap] });
  t.after(() => plainCluster.close());
  const plain = new TransactionManager(plainCluster, false);
  assert.equal(plain.state, TransactionState.READY, 'a non-idempotent producer needs no id');
  const client = new Cluster({ brokers: [cluster.bootstrap] });
  t.after(() => client.close());
  await client.connect();
  const tm = new TransactionManager(client, true);
  assert.equal(tm.state, TransactionState.UNINITIALIZED);
  await tm.initializeProducerId();
  assert.equal(tm.state, TransactionState.READY);
  assert.deepEqual(tm.producerIdAndEpoch, { producerId: 4242n, producerEpoch: 3 });
  tm.requestEpochBump();
  assert.ok(tm.epochBumpRequired);
  await tm.bumpEpoch([]);
  assert.equal(tm.state, TransactionState.READY);
  assert.ok(!tm.epochBumpRequired);
  assert.deepEqual(tm.producerIdAndEpoch, { producerId: 4242n, producerEpoch: 4 });
  assert.equal(tm.partition('t', 0).nextSequence, 0);
});
