/**
 * KIP-392: brokers in three racks with the rack-aware replica selector; a consumer whose
 * client.rack matches a follower is pointed there by the leader (PreferredReadReplica) and reads
 * from it up to the follower's HW; out of range on the follower sends it back to the leader.
 */
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pythonPath, requirePeers } from '@sluice/test-peers';
import assert from 'node:assert/strict';
import { ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { InMemoryClusterMetadata } from '../../src/index.js';
import { rackAwareReplicaSelector, replicaSelectorFor, type ReplicaView } from '../../src/replica/replica-selector.js';
import { run, startTestBroker, type TestBroker } from '../helpers.js';
import { settle, until } from './cluster.js';

const batch = (from: number, n: number) => buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`m${from + i}`), timestamp: BigInt(Date.now()) })));
const SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

test('RackAwareReplicaSelector picks as Kafka\'s does', () => {
  const view = (brokerId: number, rack: string | null, logEndOffset: bigint, timeSinceLastCaughtUpMs = 0): ReplicaView => ({ brokerId, rack, logEndOffset, timeSinceLastCaughtUpMs });
  const leader = view(1, 'a', 100n);
  const replicas = [leader, view(2, 'b', 90n), view(3, 'b', 95n), view(4, 'c', 100n, 50), view(5, 'c', 100n, 10)];
  assert.equal(rackAwareReplicaSelector('b', { leader, replicas }).brokerId, 3, 'the same-rack replica furthest ahead');
  assert.equal(rackAwareReplicaSelector('c', { leader, replicas }).brokerId, 5, 'equal ends: the most recently caught up');
  assert.equal(rackAwareReplicaSelector('a', { leader, replicas: [...replicas, view(6, 'a', 100n)] }).brokerId, 1, 'the leader when it is in the rack');
  assert.equal(rackAwareReplicaSelector('z', { leader, replicas }).brokerId, 1, 'no replica in the rack: the leader');
  assert.equal(rackAwareReplicaSelector('', { leader, replicas }).brokerId, 1, 'no client rack: the leader');
  assert.equal(replicaSelectorFor(null), null);
  assert.throws(() => replicaSelectorFor('com.example.Mine'), /not supported/);
});

async function startRackCluster(t: TestContext) {
  const cluster = new InMemoryClusterMetadata();
  const brokers: TestBroker[] = [];
  t.after(async () => {
    for (const b of brokers) await b.dispose();
  });
  for (const nodeId of [1, 2, 3]) {
    brokers.push(
      await startTestBroker({
        'broker.rack': `rack-${nodeId}`,
        'replica.selector.class': SELECTOR,
        'replica.fetch.wait.max.ms': 200,
        'replica.fetch.backoff.ms': 50,
        'replica.lag.time.max.ms': 800,
        'metrics.port': 0,
        metadataStore: cluster.storeFor(nodeId),
        nodeId,
      }),
    );
  }
  return { cluster, brokers };
}

test('a consumer in rack-3 reads from broker 3 (a follower) up to its HW, follows new records there, and goes back to the leader on out of range without a reset', async (t) => {
  const { brokers } = await startRackCluster(t);
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name: 'ff', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: {} });
  await settle(brokers);
  const rm1 = ctx[0].replicaManager;
  const leader = rm1.getPartition('ff', 0)!;
  assert.equal(leader.role, 'leader');
  assert.equal((await rm1.appendRecords(leader, batch(0, 50), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  const follower3 = ctx[2].replicaManager.getPartition('ff', 0)!;
  await until('broker 3 learns the HW', () => follower3.highWatermark === 50n, 5000);

  const { Consumer } = await import('@sluice/client');
  // An offset reset would read from 0 again, which the final check of every offset would catch.
  const consumer = new Consumer({ brokers: [brokers[0].bootstrap], clientRack: 'rack-3', autoOffsetReset: 'earliest', fetchMaxWaitMs: 200 });
  t.after(() => consumer.close());
  await consumer.assign([{ topic: 'ff', partition: 0 }]);
  consumer.seek({ topic: 'ff', partition: 0 }, 0n);
  const seen: bigint[] = [];
  const readUntil = async (what: string, count: number) => {
    const deadline = Date.now() + 15_000;
    while (seen.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; read ${seen.length}`);
      const b = await Promise.race([consumer.poll(), new Promise<null>((r) => setTimeout(() => r(null), 500))]);
      for (const r of b?.records ?? []) seen.push(r.offset);
    }
  };
  const bytesOut = (i: number) => ctx[i].metrics!.topic('ff').bytesOut;
  await readUntil('the first 50', 50);
  assert.equal(bytesOut(0), 0, 'the leader handed out no records: it pointed the consumer at broker 3');
  assert.equal(bytesOut(1), 0);
  assert.ok(bytesOut(2) > 0, 'broker 3 served them');

  // New records reach the consumer through the follower once its HW moves (the leader answers a
  // follower at once when its HW is news to it).
  const started = Date.now();
  assert.equal((await rm1.appendRecords(leader, batch(50, 20), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  await readUntil('20 more through the follower', 70);
  const latencyMs = Date.now() - started;
  assert.equal(bytesOut(0), 0);
  t.diagnostic(`produce to consumer through the follower: ${latencyMs} ms`);

  // Broker 3 stops fetching; the leader goes on alone (acks=1) to 90. A seek to 85, past broker
  // 3's log end (70), is out of range there: the consumer returns to the leader and reads 85-89.
  ctx[2].replicaManager.replicaFetcherManager!.removeFetcherForPartition('ff', 0);
  assert.equal((await rm1.appendRecords(leader, batch(70, 20), { acks: 1, timeoutMs: 0, origin: 'client' })).errorCode, ErrorCode.NONE);
  await until('broker 3 leaves the ISR and the HW moves on', () => !leader.isr.includes(3) && leader.highWatermark === 90n, 10_000);
  assert.equal(follower3.logEndOffset, 70n);
  consumer.seek({ topic: 'ff', partition: 0 }, 85n);
  await readUntil('85-89 from the leader', 75);
  assert.ok(bytesOut(0) > 0, 'the leader served them');
  assert.deepEqual(seen, [...Array.from({ length: 70 }, (_, i) => BigInt(i)), 85n, 86n, 87n, 88n, 89n], 'every record once, in order, no reset');
});

test('confluent-kafka with client.rack reads from the follower in its rack', { timeout: 90_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const { brokers } = await startRackCluster(t);
  const ctx = brokers.map((b) => b.broker.context);
  await ctx[0].topics.create({ name: 'ffc', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: {} });
  await settle(brokers);
  const leader = ctx[0].replicaManager.getPartition('ffc', 0)!;
  assert.equal((await ctx[0].replicaManager.appendRecords(leader, batch(0, 200), { acks: -1, timeoutMs: 5000, origin: 'client' })).errorCode, ErrorCode.NONE);
  await until('broker 2 learns the HW', () => ctx[1].replicaManager.getPartition('ffc', 0)!.highWatermark === 200n, 5000);
  const script = fileURLToPath(new URL('../../../test/clients/confluent_kafka_rack.py', import.meta.url));
  const result = await run(pythonPath(), [script, brokers[0].bootstrap, 'ffc', 'rack-2', '200'], { timeoutMs: 80_000 });
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const bytesOut = (i: number) => ctx[i].metrics!.topic('ffc').bytesOut;
  assert.ok(bytesOut(1) > 0, 'broker 2 (rack-2, a follower) served the records');
  assert.equal(bytesOut(0), 0, 'the leader only pointed librdkafka at broker 2');
  assert.equal(bytesOut(2), 0);
});
