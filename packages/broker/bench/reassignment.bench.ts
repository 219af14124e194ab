/**
 * Partition reassignment copy speed, two in-process brokers on loopback sharing an
 * InMemoryClusterMetadata:
 *  - unthrottled: a reassignment adds a replica of SLUICE_BENCH_REASSIGN_MB (200) of 1 KiB records
 *    on broker 2; MB/s until it is in the ISR, against the reference measured in the same run: an
 *    existing follower catching up on the same amount after being away (the replica fetcher's own
 *    speed, which a reassignment should match);
 *  - throttled: the same with `--throttle` SLUICE_BENCH_THROTTLE (10000000 B/s) set as
 *    kafka-reassign-partitions.sh sets it, and the copy rate measured once Kafka's quota windows
 *    have filled (from 12 s to 22 s: the quota lets the first 10 windows' worth through at once),
 *    against the throttle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, buildRecordBatch } from '@sluice/protocol';
import { Connection } from '@sluice/client';
import { InMemoryClusterMetadata, startBroker, type RunningBroker as Broker } from '../src/index.js';

const MB = Number(process.env.SLUICE_BENCH_REASSIGN_MB ?? 200);
const THROTTLE = Number(process.env.SLUICE_BENCH_THROTTLE ?? 10_000_000);
const RECORD = Buffer.alloc(1024, 'x');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fill(broker: Broker, topic: string, mb: number): Promise<number> {
  const rm = broker.context.replicaManager;
  const leader = rm.getPartition(topic, 0)!;
  const perBatch = 1000;
  const batches = Math.ceil((mb * 2 ** 20) / (perBatch * 1024));
  for (let i = 0; i < batches; i++) {
    const records = buildRecordBatch(Array.from({ length: perBatch }, () => ({ key: null, value: RECORD, timestamp: BigInt(Date.now()) })));
    await rm.appendRecords(leader, records, { acks: 1, timeoutMs: 0, origin: 'coordinator' });
  }
  return leader.sizeInBytes;
}

async function withConnection(broker: Broker, use: (c: Connection) => Promise<unknown>): Promise<void> {
  const c = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'bench-admin' });
  await c.connect();
  try {
    await use(c);
  } finally {
    c.close();
  }
}

function reassign(broker: Broker, topic: string, replicas: number[]): Promise<void> {
  return withConnection(broker, (c) => c.request(ApiKey.AlterPartitionReassignments, { timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, replicas }] }] }));
}

function setBrokerConfig(broker: Broker, configs: Record<string, string | null>): Promise<void> {
  const entries = Object.entries(configs).map(([name, value]) => ({ name, configOperation: value === null ? 1 : 0, value }));
  return withConnection(broker, (c) => c.request(ApiKey.IncrementalAlterConfigs, { resources: [{ resourceType: 4, resourceName: String(broker.context.nodeId), configs: entries }], validateOnly: false }));
}

async function main(): Promise<void> {
  const cluster = new InMemoryClusterMetadata();
  const dirs = [1, 2].map(() => mkdtempSync(join(tmpdir(), 'sluice-reassign-')));
  const brokers: Broker[] = [];
  for (const nodeId of [1, 2]) brokers.push(await startBroker({ dataDir: dirs[nodeId - 1], host: '127.0.0.1', port: 0, logSink: null, metadataStore: cluster.storeFor(nodeId), nodeId }));
  const [b1, b2] = brokers;
  const state = (topic: string) => {
    const s = cluster.topicsByName.get(topic)!.partitions[0];
    return { isr: s.isr ?? s.replicas, addingReplicas: s.addingReplicas ?? [] };
  };
  const settle = async () => {
    for (const b of brokers) await b.context.topics.reconciler.caughtUp();
  };
  try {
    // Reference: an existing follower catching up on MB after being away.
    await b1.context.topics.create({ name: 'catchup', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] });
    await settle();
    const follower = b2.context.replicaManager.getPartition('catchup', 0)!;
    b2.context.replicaManager.replicaFetcherManager!.removeFetcherForPartition('catchup', 0);
    await b1.context.metadata.alterPartition('catchup', 0, b1.context.replicaManager.getPartition('catchup', 0)!.state.partitionEpoch, { isr: [1] });
    await settle();
    const catchupBytes = await fill(b1, 'catchup', MB);
    const c0 = performance.now();
    b2.context.replicaManager.replicaFetcherManager!.addFetcherForPartition(follower);
    while (!state('catchup').isr.includes(2)) await sleep(2);
    const catchupRate = catchupBytes / 2 ** 20 / ((performance.now() - c0) / 1000);

    // Unthrottled reassignment adding a replica on broker 2.
    await b1.context.topics.create({ name: 'moved', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] });
    await settle();
    const movedBytes = await fill(b1, 'moved', MB);
    const m0 = performance.now();
    await reassign(b1, 'moved', [1, 2]);
    while (state('moved').addingReplicas.length > 0 || !state('moved').isr.includes(2)) await sleep(2);
    const movedMs = performance.now() - m0;
    const movedRate = movedBytes / 2 ** 20 / (movedMs / 1000);

    console.log(`reassignment copy, ${MB} MB of 1 KiB records, in-process brokers on loopback:`);
    console.log(`  follower catch-up (reference):     ${catchupRate.toFixed(0)} MB/s`);
    console.log(`  reassignment adding a replica:     ${movedRate.toFixed(0)} MB/s, ${(movedRate / catchupRate).toFixed(2)}x the catch-up (${movedMs.toFixed(0)} ms from the request to the reassignment's completion)`);

    // Throttled: enough data that the copy is still running once the quota windows are full.
    const throttledMb = Math.max(MB, Math.ceil(((THROTTLE / 2 ** 20) * 24) / 1)) + 16;
    await b1.context.topics.create({ name: 'throttled', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: { 'leader.replication.throttled.replicas': '0:1', 'follower.replication.throttled.replicas': '0:2' } });
    await settle();
    await fill(b1, 'throttled', throttledMb);
    for (const b of brokers) await setBrokerConfig(b, { 'leader.replication.throttled.rate': String(THROTTLE), 'follower.replication.throttled.rate': String(THROTTLE) });
    const t0 = performance.now();
    await reassign(b1, 'throttled', [1, 2]);
    const copied = () => b2.context.replicaManager.getPartition('throttled', 0)?.sizeInBytes ?? 0;
    const at = async (s: number) => {
      await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
      return { bytes: copied(), ms: performance.now() };
    };
    const burst = await at(1);
    const from = await at(12);
    const to = await at(22);
    const steady = ((to.bytes - from.bytes) / (to.ms - from.ms)) * 1000;
    const done = state('throttled').addingReplicas.length === 0;
    for (const b of brokers) await setBrokerConfig(b, { 'leader.replication.throttled.rate': null, 'follower.replication.throttled.rate': null });
    console.log(`  throttled at ${(THROTTLE / 1e6).toFixed(1)} MB/s: first second ${(burst.bytes / 1e6).toFixed(0)} MB (Kafka's quota lets ${(THROTTLE * 10) / 1e6} MB through at once), then ${(steady / 1e6).toFixed(2)} MB/s from 12 s to 22 s = ${(steady / THROTTLE).toFixed(3)}x the throttle${done ? ' (WARNING: the copy finished inside the window)' : ''}`);
  } finally {
    for (const b of brokers) await b.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
