/**
 * Issue 13's acceptance, with real processes: etcd and three `sluice start` brokers. Idempotent
 * acks=all producers write to an RF=3, min.insync.replicas=2 topic while the test kill -9s a
 * leader, SIGSTOPs one past its session timeout, kills the controller and stops a broker cleanly,
 * restarting each. Afterwards every acknowledged record is read back exactly once, in order per
 * partition; group offsets committed before the coordinator moved are still there; and the three
 * replicas of each partition hold byte-identical batches up to the high watermark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, Producer } from '@sluice/client';
import { requirePeers } from '@sluice/test-peers';
import { assertReplicasIdentical, killController, startProcessCluster, type ProcessCluster, until } from './support/process-cluster.js';

const TOPIC = 'chaos';
const PARTITIONS = 3;
const SESSION_MS = 3000;
const step = (t: { diagnostic(m: string): void }, message: string) => {
  t.diagnostic(message);
  if (process.env.SLUICE_TEST_LOG) process.stderr.write(`[chaos] ${message}\n`);
};
const OVERRIDES = {
  'broker.session.timeout.ms': SESSION_MS,
  'broker.heartbeat.interval.ms': 500,
  'replica.lag.time.max.ms': 3000,
  'offsets.topic.num.partitions': 3,
  'group.initial.rebalance.delay.ms': 0,
};

async function leaderOf(admin: Admin, partition: number): Promise<number> {
  const [topic] = await admin.describeTopics([TOPIC]);
  return topic.partitions.find((p) => p.partition === partition)!.leader;
}

async function fullIsr(admin: Admin): Promise<boolean> {
  const [topic] = await admin.describeTopics([TOPIC]);
  return topic.partitions.every((p) => p.isr.length === 3 && p.leader >= 0);
}

test('RF=3 acks=all through kill -9, SIGSTOP, controller loss and clean restarts: nothing acknowledged is lost or duplicated, replicas identical', { timeout: 600_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const cluster: ProcessCluster = await startProcessCluster({ brokers: 3, overrides: OVERRIDES });
  t.after(() => cluster.close());
  const admin = new Admin({ brokers: cluster.bootstrap });
  t.after(() => admin.close());
  await admin.createTopics([{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
  await until('topic with full ISR', () => fullIsr(admin));
  step(t, 'topic created');

  // Producers: one idempotent acks=all writer per partition, each record a sequence number.
  const acked = Array.from({ length: PARTITIONS }, () => [] as string[]);
  let stopping = false;
  // Short request timeouts, as a latency-sensitive deployment would set: a SIGSTOPped broker holds requests until they time out.
  const producer = new Producer({ brokers: cluster.bootstrap, acks: 'all', enableIdempotence: true, lingerMs: 2, deliveryTimeoutMs: 120_000, requestTimeoutMs: 5000, ackTimeoutMs: 5000 });
  const writers = Array.from({ length: PARTITIONS }, async (_, partition) => {
    for (let n = 0; !stopping; n += 20) {
      const values = Array.from({ length: 20 }, (_, i) => `${partition}:${n + i}`);
      try {
        await producer.sendBatch(values.map((value) => ({ topic: TOPIC, partition, value })));
        acked[partition].push(...values);
        // A steady trickle keeps the read-back short; the chaos is in the brokers, not the volume.
        await new Promise((r) => setTimeout(r, 20));
      } catch (err) {
        // Not acknowledged within the delivery timeout: those records are not checked; stop this writer.
        step(t, `partition ${partition}: ${(err as Error).message}`);
        return;
      }
    }
  });

  // A committed group offset, to check after the coordinators move.
  const consumer = new Consumer({ brokers: cluster.bootstrap, groupId: 'chaos-group', autoOffsetReset: 'earliest', enableAutoCommit: false });
  await consumer.subscribe([TOPIC]);
  await until('records to commit', async () => ((await consumer.poll())?.records.length ?? 0) > 0);
  await consumer.commit([{ topic: TOPIC, partition: 0, offset: 7n }, { topic: TOPIC, partition: 1, offset: 5n }, { topic: TOPIC, partition: 2, offset: 3n }]);
  await consumer.close();
  step(t, 'group offsets committed');

  const progressed = async (what: string) => {
    const before = acked.map((a) => a.length);
    await until(`progress after ${what}`, async () => acked.every((a, p) => a.length > before[p] + 40), 60_000);
    step(t, `${what}: writes resumed on every partition (${acked.map((a) => a.length).join(', ')} acknowledged)`);
  };
  await progressed('start');

  // 1. kill -9 the leader of partition 0, restart it.
  const l0 = await leaderOf(admin, 0);
  await cluster.broker(l0).kill9();
  await progressed(`kill -9 of broker ${l0} (leader of partition 0)`);
  await cluster.broker(l0).start();
  await until('ISR full again', () => fullIsr(admin));

  // 2. SIGSTOP the leader of partition 1 past its session timeout, then let it go on.
  const l1 = await leaderOf(admin, 1);
  cluster.broker(l1).signal('SIGSTOP');
  await new Promise((r) => setTimeout(r, SESSION_MS + 1500));
  // Its session ran out: the controller moved its leadership while it was stopped.
  await until('partition 1 led elsewhere', async () => (await leaderOf(admin, 1)) !== l1);
  // Writes resume while it is still stopped: requests to it time out, and our client asks
  // another broker for metadata and follows the new leader.
  await progressed(`SIGSTOP of broker ${l1} (leader of partition 1) past its session timeout, while it is stopped`);
  // Resumed, it finds itself deposed, truncates and rejoins.
  cluster.broker(l1).signal('SIGCONT');
  await until('ISR full again after SIGCONT', () => fullIsr(admin), 90_000);

  // 3. kill -9 the controller.
  const controller = await killController(cluster, admin);
  await progressed(`kill -9 of controller ${controller}`);
  await cluster.broker(controller).start();
  await until('ISR full again', () => fullIsr(admin));

  // 4. Clean stop (controlled shutdown) of the leader of partition 2 and restart.
  const l2 = await leaderOf(admin, 2);
  await cluster.broker(l2).stop();
  await progressed(`clean stop of broker ${l2}`);
  await cluster.broker(l2).start();
  await until('ISR full again', () => fullIsr(admin));

  stopping = true;
  await Promise.all(writers);
  await producer.close();

  // Every acknowledged record exactly once, in acknowledgement order, per partition.
  const reader = new Consumer({ brokers: cluster.bootstrap, autoOffsetReset: 'earliest' });
  const seen = Array.from({ length: PARTITIONS }, () => [] as string[]);
  try {
    await reader.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
    await reader.seekToBeginning();
    const ends = new Map((await admin.listOffsets(TOPIC)).map((o) => [o.partition, o.offset]));
    const offsets = Array.from({ length: PARTITIONS }, () => -1n);
    await until('the whole topic read back', async () => {
      const batch = await reader.poll();
      for (const r of batch?.records ?? []) {
        seen[r.partition].push(r.value!.toString());
        offsets[r.partition] = r.offset;
      }
      return offsets.every((o, p) => o + 1n >= ends.get(p)!);
    }, 120_000);
  } finally {
    await reader.close();
  }
  for (let p = 0; p < PARTITIONS; p++) {
    const positions = new Map<string, number>();
    seen[p].forEach((v, i) => {
      assert.ok(!positions.has(v), `partition ${p}: ${v} read twice`);
      positions.set(v, i);
    });
    let last = -1;
    for (const v of acked[p]) {
      const at = positions.get(v);
      assert.ok(at !== undefined, `partition ${p}: acknowledged record ${v} lost`);
      assert.ok(at > last, `partition ${p}: ${v} out of order`);
      last = at;
    }
    step(t, `partition ${p}: ${acked[p].length} acknowledged, ${seen[p].length} read, all acknowledged present once and in order`);
  }

  // Committed offsets survived the coordinator moves.
  const committed = new Map((await admin.listConsumerGroupOffsets('chaos-group')).map((o) => [o.partition, o.offset]));
  assert.deepEqual([committed.get(0), committed.get(1), committed.get(2)], [7n, 5n, 3n]);

  // Replicas byte-identical below the high watermark: stop every broker, compare the files.
  for (const r of await assertReplicasIdentical(cluster, TOPIC, PARTITIONS)) step(t, `partition ${r.partition}: ${r.batches} batches identical on all replicas below HW ${r.highWatermark}`);
});
