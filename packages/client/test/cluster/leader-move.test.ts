/** Leader moves and in-flight limits, on a scripted two-node cluster. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer } from '../../src/index.js';
import { startScriptedCluster } from '../scripted-broker.js';
import { waitFor } from '../helpers.js';

test('NOT_LEADER_OR_FOLLOWER: the producer refreshes metadata and resends to the new leader; the consumer follows', { timeout: 60_000 }, async (t) => {
  const cluster = await startScriptedCluster({ nodes: 2 });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  const consumer = new Consumer({ brokers: [cluster.bootstrap], autoOffsetReset: 'earliest', fetchMaxWaitMs: 100, retry: { retries: 5, initialRetryTimeMs: 10 } });
  t.after(async () => {
    await producer.close();
    await consumer.close();
  });
  assert.equal((await producer.send({ topic: 't', value: 'before' })).offset, 0n);
  await consumer.assign([{ topic: 't', partition: 0 }]);
  const seen: string[] = [];
  const reading = (async () => {
    for await (const r of consumer) {
      seen.push(r.value!.toString());
      if (seen.length === 2) break;
    }
  })();
  await waitFor(() => seen.length === 1, 30_000, 'first record');
  cluster.leader = 2; // the partition moves; node 1 now answers NOT_LEADER_OR_FOLLOWER
  assert.equal((await producer.send({ topic: 't', value: 'after' })).offset, 1n);
  assert.deepEqual(cluster.produced.map((p) => p.node), [1, 1, 2], 'rejected by the old leader, accepted by the new one');
  await reading;
  assert.deepEqual(seen, ['before', 'after']);
});

test('max.in.flight.requests.per.connection caps the Produce requests outstanding on a connection', { timeout: 60_000 }, async (t) => {
  const cluster = await startScriptedCluster({ partitions: 4, onProduce: () => 'hold' });
  t.after(() => cluster.close());
  const producer = new Producer({ brokers: [cluster.bootstrap], lingerMs: 0, batchSize: 100, maxInFlightRequestsPerConnection: 2 });
  await producer.connect();
  const sends = Array.from({ length: 40 }, (_, i) => producer.send({ topic: 't', partition: i % 4, value: Buffer.alloc(200) }));
  let done = false;
  void Promise.all(sends).then(() => (done = true));
  await waitFor(() => cluster.outstanding === 2, 30_000, 'two requests outstanding');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(cluster.outstanding, 2, 'no third request while two are unanswered');
  while (!done) {
    cluster.releaseHeld();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(cluster.maxOutstanding, 2);
  const offsets = await Promise.all(sends);
  assert.equal(new Set(offsets.map((o) => `${o.partition}/${o.offset}`)).size, 40);
  await producer.close();
});
