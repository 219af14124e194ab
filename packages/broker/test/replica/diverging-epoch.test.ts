/**
 * KIP-320: Fetch v12+ carries the fetcher's last fetched epoch; the leader answers DivergingEpoch
 * (instead of records) when the fetcher's log went another way, and the replica fetcher truncates
 * from that answer without an OffsetForLeaderEpoch round trip.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import type { PartitionLog } from '@sluice/storage';
import { InMemoryClusterMetadata } from '../../src/index.js';
import { RawClient, startTestBroker, type TestBroker } from '../helpers.js';
import { settle, until } from './cluster.js';

const batch = (n: number, tag: string) => buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}${i}`), timestamp: BigInt(Date.now()) })));

async function bytesOf(log: PartitionLog, upTo: bigint): Promise<Buffer> {
  const r = await log.read(log.logStartOffset, 1 << 30, { maxOffset: upTo });
  return Buffer.from(r.records);
}

const fetchBody = (topic: string, fetchOffset: bigint, lastFetchedEpoch: number, replicaId = -1) => ({
  replicaId,
  maxWaitMs: 0,
  minBytes: 0,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
  forgottenTopicsData: [],
  rackId: '',
});

/** Three in-process brokers on one InMemoryClusterMetadata, each broker's log lines kept. */
async function startLoggedCluster(t: TestContext) {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  const logs = new Map<number, string[]>();
  t.after(async () => {
    for (const b of brokers) await b.dispose();
  });
  for (const nodeId of [1, 2, 3]) {
    const lines: string[] = [];
    logs.set(nodeId, lines);
    brokers.push(await startTestBroker({ 'replica.fetch.wait.max.ms': 100, 'replica.fetch.backoff.ms': 50, 'replica.lag.time.max.ms': 60_000, metadataStore: cluster.storeFor(nodeId), nodeId, logSink: (line: string) => lines.push(line) }));
  }
  return { cluster, brokers, logs };
}

test('the leader answers DivergingEpoch to a Fetch v12 whose last fetched epoch ended earlier here, and records when it agrees', async (t) => {
  const b = await startTestBroker();
  t.after(() => b.dispose());
  const ctx = b.broker.context;
  await ctx.topics.create({ name: 'dv', numPartitions: 1, replicationFactor: 1, configs: {} });
  const rm = ctx.replicaManager;
  const p = rm.getPartition('dv', 0)!;
  assert.equal((await rm.appendRecords(p, batch(5, 'a'), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  const epoch = p.leaderEpoch;
  const c = await RawClient.connect(b.broker.port);
  t.after(() => c.close());

  // Consistent: last fetched epoch is ours and covers the fetch offset.
  const ok = (await c.send(ApiKey.Fetch, 12, fetchBody('dv', 3n, epoch))).responses[0].partitions[0];
  assert.equal(ok.errorCode, ErrorCode.NONE);
  assert.equal(ok.divergingEpoch?.epoch ?? -1, -1, 'no divergence');
  assert.ok((ok.records?.length ?? 0) > 0);

  // An epoch newer than any here: our log ends at our latest epoch, so the fetcher must cut back to it.
  const newer = (await c.send(ApiKey.Fetch, 12, fetchBody('dv', 5n, epoch + 3))).responses[0].partitions[0];
  assert.equal(newer.errorCode, ErrorCode.NONE);
  assert.deepEqual([newer.divergingEpoch?.epoch, newer.divergingEpoch?.endOffset], [epoch, 5n]);
  assert.equal(newer.records?.length ?? 0, 0, 'no records with a diverging epoch');

  // Past our log end in our own epoch: the epoch ends at 5 here, before the fetch offset 8.
  const past = (await c.send(ApiKey.Fetch, 12, fetchBody('dv', 8n, epoch))).responses[0].partitions[0];
  assert.deepEqual([past.errorCode, past.divergingEpoch?.epoch, past.divergingEpoch?.endOffset], [ErrorCode.NONE, epoch, 5n], 'divergence is checked before the offset range');

  // Without a last fetched epoch (-1, or Fetch v11) there is no check: the offset range applies.
  const none = (await c.send(ApiKey.Fetch, 12, fetchBody('dv', 8n, -1))).responses[0].partitions[0];
  assert.equal(none.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  const v11 = (await c.send(ApiKey.Fetch, 11, fetchBody('dv', 8n, epoch + 3))).responses[0].partitions[0];
  assert.equal(v11.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
});

test('an old leader with an uncommitted suffix rejoins: it truncates from the new leader\'s DivergingEpoch (no OffsetForLeaderEpoch) and ends byte-identical', async (t) => {
  const { cluster, brokers, logs } = await startLoggedCluster(t);
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name: 'dv', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: {} });
  await settle(brokers);
  const rm1 = ctx[0].replicaManager;
  const p1 = rm1.getPartition('dv', 0)!;
  assert.equal(p1.role, 'leader');
  assert.equal((await rm1.appendRecords(p1, batch(10, 'c'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p1.highWatermark, 10n);
  const oldEpoch = p1.leaderEpoch;

  // Followers cut off; the leader writes 4 records nobody else gets (its log end 14 is inside the
  // new leader's future log, so only the epoch check can tell the logs apart).
  ctx[1].replicaManager.stopReplica('dv', 0);
  ctx[2].replicaManager.stopReplica('dv', 0);
  assert.equal((await rm1.appendRecords(p1, batch(4, 'lost'), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p1.logEndOffset, 14n);

  // Broker 2 leads at a new epoch with ISR {2,3} and commits 8 records: its log (18) passes the
  // old leader's end (14), so without KIP-320 a fetch at 14 would be served and the logs would differ.
  const store = cluster.storeFor(1);
  const state = store.topic('dv')!.partitions[0];
  await store.alterPartition('dv', 0, state.partitionEpoch!, { leader: 2, isr: [2, 3] });
  await settle(brokers);
  const p2 = ctx[1].replicaManager.getPartition('dv', 0)!;
  assert.equal(p2.role, 'leader');
  assert.ok(p2.leaderEpoch > oldEpoch);
  assert.equal((await ctx[1].replicaManager.appendRecords(p2, batch(8, 'n'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p2.logEndOffset, 18n);

  await until('the old leader converges on the new leader', () => p1.role === 'follower' && p1.logEndOffset === p2.logEndOffset && p1.log.latestEpoch === p2.leaderEpoch, 10_000);
  const all = await bytesOf(p2.log, p2.logEndOffset);
  assert.ok(all.equals(await bytesOf(p1.log, p1.logEndOffset)), 'old leader byte-identical with the new one');
  assert.deepEqual(p1.log.endOffsetForEpoch(oldEpoch), { epoch: oldEpoch, endOffset: 10n }, 'the old epoch ends at the committed offset');
  const truncations = logs.get(1)!.filter((l) => l.includes('truncating dv-0'));
  assert.equal(truncations.length, 1, truncations.join('\n'));
  assert.match(truncations[0], /from 14 to 10 \(DivergingEpoch: leader 2 ends epoch \d+ at 10\)/);
  await until('the old leader rejoins the ISR', () => p2.isr.includes(1), 5000);
});

test('our consumer after an unclean election: the new leader\'s DivergingEpoch moves it back to the first diverging offset, so it reads the new records once and nothing twice', async (t) => {
  const { cluster, brokers } = await startLoggedCluster(t);
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name: 'uc', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: {} });
  await settle(brokers);
  const rm1 = ctx[0].replicaManager;
  const p1 = rm1.getPartition('uc', 0)!;
  assert.equal((await rm1.appendRecords(p1, batch(10, 'a'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);

  // Broker 2 stops fetching and the test (as controller) drops it from the ISR: broker 1 alone
  // commits 10 more, which a consumer reads.
  ctx[1].replicaManager.replicaFetcherManager!.removeFetcherForPartition('uc', 0);
  const store = cluster.storeFor(1);
  await store.alterPartition('uc', 0, store.topic('uc')!.partitions[0].partitionEpoch!, { isr: [1] });
  await settle(brokers);
  assert.equal((await rm1.appendRecords(p1, batch(10, 'b'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p1.highWatermark, 20n);

  const { Consumer } = await import('@sluice/client');
  const consumer = new Consumer({ brokers: [brokers[0].bootstrap], autoOffsetReset: 'earliest', fetchMaxWaitMs: 100, metadataMaxAgeMs: 500 });
  t.after(() => consumer.close());
  await consumer.assign([{ topic: 'uc', partition: 0 }]);
  consumer.seek({ topic: 'uc', partition: 0 }, 0n);
  const seen: string[] = [];
  const readUntil = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; read ${seen.join(',')}`);
      const b = await consumer.poll();
      for (const r of b?.records ?? []) seen.push(`${r.offset}:${r.value!.toString()}`);
    }
  };
  await readUntil('the 20 committed records', () => seen.length >= 20);

  // Unclean election: broker 2 (10 records, out of the ISR) leads; broker 1's 10 'b' records are
  // gone. Broker 2 takes 5 new ones at offsets 10-14, below the consumer's position 20.
  await store.alterPartition('uc', 0, store.topic('uc')!.partitions[0].partitionEpoch!, { leader: 2, isr: [2] });
  await settle(brokers);
  const p2 = ctx[1].replicaManager.getPartition('uc', 0)!;
  assert.equal(p2.role, 'leader');
  assert.equal((await ctx[1].replicaManager.appendRecords(p2, batch(5, 'n'), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  assert.equal(p2.highWatermark, 15n);

  // Without KIP-320 the fetch at 20 is out of range (the log ends at 15) and 'earliest' reads 0-14 again.
  await readUntil('the new leader\'s records', () => seen.length >= 25);
  // Nothing else comes (poll waits for records, so it races a timer; close ends it).
  const more = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 500))]);
  for (const r of more?.records ?? []) seen.push(`${r.offset}:${r.value!.toString()}`);
  assert.deepEqual(seen, [
    ...Array.from({ length: 10 }, (_, i) => `${i}:a${i}`),
    ...Array.from({ length: 10 }, (_, i) => `${10 + i}:b${i}`),
    ...Array.from({ length: 5 }, (_, i) => `${10 + i}:n${i}`),
  ]);
  assert.equal(consumer.position({ topic: 'uc', partition: 0 }), 15n);
  // The old leader truncated its 'b' records the same way.
  await until('the old leader converges', () => p1.role === 'follower' && p1.logEndOffset === 15n, 10_000);
});
