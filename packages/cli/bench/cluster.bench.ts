/**
 * A replicated cluster's costs, measured on etcd and three `sluice start` processes:
 *  - produce throughput to an RF=3 topic with acks=all (min.insync.replicas=2) against an RF=1 topic
 *    with acks=all on the same cluster, same producer and same records, runs interleaved; the
 *    producer is librdkafka's rdkafka_performance (built by packages/broker/bench/setup-references.sh
 *    into ~/.cache/sluice-bench or SLUICE_BENCH_REFS), so the client is not the limit;
 *  - failover: kill -9 of a partition's leader while an acks=all producer (@sluice/client) writes
 *    to it, then the time until the first record acknowledged after the kill; ten kills, p50 and
 *    max against the target of the broker session timeout plus one second.
 * Follower catch-up against a consumer's fetch speed is packages/broker/bench/replication-catchup.
 *
 * Environment: SLUICE_BENCH_CLUSTER_RECORDS (500000 1 KiB records per run), SLUICE_BENCH_KILLS (10),
 * SLUICE_BENCH_SESSION_MS (3000: broker.session.timeout.ms of the cluster).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer } from '@sluice/client';
import { startProcessCluster, until, type ProcessCluster } from '../test/support/process-cluster.js';

const RECORDS = Number(process.env.SLUICE_BENCH_CLUSTER_RECORDS ?? 500_000);
const KILLS = Number(process.env.SLUICE_BENCH_KILLS ?? 10);
const SESSION_MS = Number(process.env.SLUICE_BENCH_SESSION_MS ?? 3000);
const RUNS = 3;
const REFS = process.env.SLUICE_BENCH_REFS ?? join(homedir(), '.cache', 'sluice-bench');

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** rdkafka_performance -P: acknowledged messages per second and MB/s from the last row of its -u table. */
async function rdkafkaProduce(bin: string, bootstrap: string, topic: string, count: number): Promise<{ msgsPerSec: number; mbPerSec: number }> {
  const args = ['-P', '-t', topic, '-s', '1024', '-c', String(count), '-b', bootstrap, '-a', '-1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=1048576', '-u'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const rows = out.split('\n').filter((l) => l.startsWith('|'));
  const header = rows.find((l) => /\belapsed\b/.test(l));
  const last = [...rows].reverse().find((l) => !/\belapsed\b/.test(l));
  const cells = (l: string) => l.split('|').slice(1).map((c) => c.trim());
  const table = new Map<string, number>();
  if (header && last) cells(header).forEach((name, i) => table.set(name, Number(cells(last)[i])));
  if (code !== 0 || table.get('dr') !== count || table.get('dr_err') !== 0) {
    throw new Error(`rdkafka_performance ${args.join(' ')}: exit ${code}, delivered ${table.get('dr')}/${count}\n${(out + err).slice(-2000)}`);
  }
  return { msgsPerSec: table.get('dr_m/s')!, mbPerSec: table.get('dr_MB/s')! };
}

async function throughput(cluster: ProcessCluster, admin: Admin): Promise<void> {
  const bin = existsSync(join(REFS, 'rdkafka_performance')) ? join(REFS, 'rdkafka_performance') : which('rdkafka_performance');
  if (bin === null) {
    console.log(`MISSING rdkafka_performance (looked in ${REFS} and on PATH): no RF=3 vs RF=1 throughput. Build it with: bash packages/broker/bench/setup-references.sh`);
    return;
  }
  const results: Record<'rf1' | 'rf3', Array<{ msgsPerSec: number; mbPerSec: number }>> = { rf1: [], rf3: [] };
  /** The whole machine's busy CPU seconds per GB produced (brokers, etcd, the producer and the kernel). */
  const cpuPerGb: Record<'rf1' | 'rf3', number[]> = { rf1: [], rf3: [] };
  const idle: Record<'rf1' | 'rf3', number[]> = { rf1: [], rf3: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const rf of [1, 3] as const) {
      const topic = `bench-rf${rf}-${run}`;
      // Three partitions, one led by each broker: both topics spread their leaders alike.
      await admin.createTopics([{ topic, numPartitions: 3, replicationFactor: rf, configs: { 'min.insync.replicas': rf === 3 ? '2' : '1' } }]);
      await until(`${topic} has leaders and a full ISR`, async () => (await admin.describeTopics([topic]))[0].partitions.every((p) => p.leader >= 0 && p.isr.length === rf));
      const cpuBefore = brokerCpu(cluster);
      const [busyBefore, idleBefore] = machineTicks();
      const started = performance.now();
      const r = await rdkafkaProduce(bin, cluster.bootstrap.join(','), topic, RECORDS);
      const wall = (performance.now() - started) / 1000;
      const cpu = brokerCpu(cluster).map((c, i) => c - cpuBefore[i]);
      const [busyAfter, idleAfter] = machineTicks();
      const idlePct = (100 * (idleAfter - idleBefore)) / Math.max(1, busyAfter - busyBefore + idleAfter - idleBefore);
      results[`rf${rf}`].push(r);
      cpuPerGb[`rf${rf}`].push((busyAfter - busyBefore) / TICKS_PER_SECOND / ((RECORDS * 1024) / 1e9));
      idle[`rf${rf}`].push(idlePct);
      console.log(`  run ${run + 1}, RF=${rf} acks=all: ${fmt(r.msgsPerSec)} records/s, ${fmt(r.mbPerSec, 1)} MB/s; brokers' CPU ${cpu.map((c) => `${fmt((100 * c) / wall)}%`).join(' + ')}, machine idle ${fmt(idlePct)}% over ${fmt(wall, 1)} s (tool start included)`);
      await admin.deleteTopics([topic]);
    }
  }
  const rf1 = median(results.rf1.map((r) => r.msgsPerSec));
  const rf3 = median(results.rf3.map((r) => r.msgsPerSec));
  console.log(`\nProduce, ${fmt(RECORDS)} × 1 KiB per run, rdkafka_performance acks=all, median of ${RUNS} interleaved runs`);
  console.log(`  RF=1: ${fmt(rf1)} records/s (${fmt(median(results.rf1.map((r) => r.mbPerSec)), 1)} MB/s)`);
  console.log(`  RF=3, min.insync.replicas=2: ${fmt(rf3)} records/s (${fmt(median(results.rf3.map((r) => r.mbPerSec)), 1)} MB/s)`);
  console.log(`  RF=3 / RF=1: ${(rf3 / rf1).toFixed(2)} (target ≥ 0.40); every byte is written by three processes sharing ${availableParallelism()} cores`);
  const cost1 = median(cpuPerGb.rf1);
  const cost3 = median(cpuPerGb.rf3);
  // With every broker on these same cores, throughput can be at most the inverse of the CPU cost
  // per byte: RF=3 receives, checks and writes each byte three times (a cost ratio of 3 at best).
  console.log(`  machine CPU per GB produced (all processes and the kernel): RF=1 ${fmt(cost1, 1)} s, RF=3 ${fmt(cost3, 1)} s; RF=3 costs ${(cost3 / cost1).toFixed(1)}× RF=1 (three copies: 3× at best), machine idle ${fmt(median(idle.rf1))}% / ${fmt(median(idle.rf3))}%`);
}

/** Clock ticks per second of /proc/stat and /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, from /proc/stat: [busy, idle] clock ticks over all cores. */
function machineTicks(): [number, number] {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3] + (cpu[4] ?? 0);
    return [cpu.reduce((a, b) => a + b, 0) - idle, idle];
  } catch {
    return [0, 0];
  }
}

/** Each broker's CPU seconds so far. */
function brokerCpu(cluster: ProcessCluster): number[] {
  return cluster.brokers.map((b) => cpuSeconds(b.child?.pid));
}

async function failover(cluster: ProcessCluster, admin: Admin): Promise<void> {
  if (KILLS <= 0) return;
  const topic = 'bench-failover';
  await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
  const fullIsr = async () => (await admin.describeTopics([topic]))[0].partitions.every((p) => p.leader >= 0 && p.isr.length === 3);
  await until('failover topic with a full ISR', fullIsr);
  const producer = new Producer({ brokers: cluster.bootstrap, acks: 'all', enableIdempotence: true, lingerMs: 0, requestTimeoutMs: 2000, ackTimeoutMs: 2000, retry: { initialRetryTimeMs: 20, maxRetryTimeMs: 100 } });
  const times: number[] = [];
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const leader = (await admin.describeTopics([topic]))[0].partitions[0].leader;
      // A steady writer: one record at a time, each the moment the previous one is acknowledged.
      let killedAt = Infinity;
      let firstAckAfterKill = 0;
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          await producer.send({ topic, partition: 0, value: 'x' });
          if (performance.now() > killedAt && firstAckAfterKill === 0) firstAckAfterKill = performance.now();
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      killedAt = performance.now();
      await cluster.broker(leader).kill9();
      await until('a record acknowledged after the kill', async () => firstAckAfterKill > 0, 60_000);
      stop = true;
      await writer;
      const ms = firstAckAfterKill - killedAt;
      times.push(ms);
      console.log(`  kill ${kill + 1}: broker ${leader} killed, first acknowledged produce ${fmt(ms)} ms later`);
      await cluster.broker(leader).start();
      await until('ISR full again', fullIsr, 120_000);
    }
  } finally {
    await producer.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`\nFailover: kill -9 of the leader → first acknowledged acks=all produce on the new leader, ${KILLS} kills, broker.session.timeout.ms=${SESSION_MS}`);
  console.log(`  p50 ${fmt(median(sorted))} ms, max ${fmt(sorted[sorted.length - 1])} ms; target < session timeout + 1 s = ${fmt(SESSION_MS + 1000)} ms: ${sorted[sorted.length - 1] < SESSION_MS + 1000 ? 'met' : 'NOT met'}`);
}

async function main(): Promise<void> {
  if (which('etcd') === null && !process.env.SLUICE_TEST_ETCD) {
    console.log('MISSING etcd (Debian package etcd-server): the cluster benchmark needs it. apt-get install etcd-server');
    return;
  }
  const cluster = await startProcessCluster({
    brokers: 3,
    overrides: { 'broker.session.timeout.ms': SESSION_MS, 'broker.heartbeat.interval.ms': Math.max(100, Math.floor(SESSION_MS / 6)), 'replica.lag.time.max.ms': 10_000, 'offsets.topic.num.partitions': 1 },
  });
  const admin = new Admin({ brokers: cluster.bootstrap });
  try {
    console.log('Cluster: etcd and three `sluice start` processes on one machine');
    await throughput(cluster, admin);
    await failover(cluster, admin);
  } finally {
    await admin.close();
    await cluster.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
