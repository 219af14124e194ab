/**
 * Follower catch-up: a follower that stopped fetching while the leader took SLUICE_BENCH_CATCHUP_MB
 * (200) of 1 KiB records at acks=1 fetches again; MB/s until it is back in the ISR. The reference,
 * same run, same data and same request sizes (1 MiB per partition, 10 MiB per response): one
 * consumer reading everything from the leader with Fetch, over the same kind of connection.
 * Two in-process brokers share an InMemoryClusterMetadata.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, buildRecordBatch } from '@sluice/protocol';
import { Connection } from '@sluice/client';
import { InMemoryClusterMetadata, startBroker } from '../src/index.js';

const MB = Number(process.env.SLUICE_BENCH_CATCHUP_MB ?? 200);
const RECORD = Buffer.alloc(1024, 'x');

async function main(): Promise<void> {
  const cluster = new InMemoryClusterMetadata();
  const dirs = [1, 2].map(() => mkdtempSync(join(tmpdir(), 'sluice-catchup-')));
  const brokers = [];
  for (const nodeId of [1, 2]) brokers.push(await startBroker({ dataDir: dirs[nodeId - 1], host: '127.0.0.1', port: 0, logSink: null, metadataStore: cluster.storeFor(nodeId), nodeId }));
  try {
    const [b1, b2] = brokers.map((b) => b.context);
    await b1.topics.create({ name: 'catchup', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    for (const b of [b1, b2]) await b.topics.reconciler.caughtUp();
    const leader = b1.replicaManager.getPartition('catchup', 0)!;
    const follower = b2.replicaManager.getPartition('catchup', 0)!;
    b2.replicaManager.replicaFetcherManager!.removeFetcherForPartition('catchup', 0);
    await b1.metadata.alterPartition('catchup', 0, leader.state.partitionEpoch, { isr: [1] });
    await b1.topics.reconciler.caughtUp();

    // The leader takes MB of 1 KiB records in ~1 MiB batches while the follower is away.
    const perBatch = 1000;
    const batches = Math.ceil((MB * 2 ** 20) / (perBatch * 1024));
    for (let i = 0; i < batches; i++) {
      const records = buildRecordBatch(Array.from({ length: perBatch }, () => ({ key: null, value: RECORD, timestamp: BigInt(Date.now()) })));
      await b1.replicaManager.appendRecords(leader, records, { acks: 1, timeoutMs: 0, origin: 'coordinator' });
    }
    const end = leader.logEndOffset;
    const bytes = leader.sizeInBytes;

    // Reference: one consumer fetching all of it from the leader, same request sizes as the follower.
    const conn = new Connection({ host: '127.0.0.1', port: brokers[0].port, clientId: 'bench-consumer' });
    await conn.connect();
    let offset = 0n;
    let consumed = 0;
    const c0 = performance.now();
    while (offset < end) {
      const r = await conn.request(ApiKey.Fetch, { replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 10 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'catchup', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }, { version: 12 });
      const records = r.responses[0].partitions[0].records!;
      consumed += records.length;
      // Next offset: the last batch's base offset + last offset delta + 1.
      let at = 0;
      let next = offset;
      while (at + 61 <= records.length) {
        next = records.readBigInt64BE(at) + BigInt(records.readInt32BE(at + 23)) + 1n;
        at += 12 + records.readInt32BE(at + 8);
      }
      offset = next;
    }
    const consumerMs = performance.now() - c0;
    conn.close();

    // The follower fetches again: time until its replica is back in the ISR.
    const f0 = performance.now();
    b2.replicaManager.replicaFetcherManager!.addFetcherForPartition(follower);
    while (!leader.isr.includes(2)) await new Promise((r) => setTimeout(r, 2));
    const followerMs = performance.now() - f0;
    const mb = bytes / 2 ** 20;
    const consumerRate = consumed / 2 ** 20 / (consumerMs / 1000);
    const followerRate = mb / (followerMs / 1000);
    console.log(`replication catch-up, ${mb.toFixed(0)} MB (${end} records of 1 KiB), in-process brokers on loopback:`);
    console.log(`  consumer fetch from the leader (reference): ${consumerRate.toFixed(0)} MB/s (${consumerMs.toFixed(0)} ms)`);
    console.log(`  follower catch-up until in the ISR:         ${followerRate.toFixed(0)} MB/s (${followerMs.toFixed(0)} ms), ${(followerRate / consumerRate).toFixed(2)}x the consumer`);
    if (follower.logEndOffset !== end) throw new Error(`follower ended at ${follower.logEndOffset}, leader at ${end}`);
  } finally {
    for (const b of brokers) await b.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
