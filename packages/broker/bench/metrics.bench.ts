/**
 * What metrics cost, in one run:
 *  1. ingest with metrics off against on: `sluice start` (its own process) fed by librdkafka's
 *     rdkafka_performance (1 KiB records, acks=1, 8 partitions), the two interleaved over rounds
 *     on fresh brokers; while metrics are on, /metrics is scraped every second (harsher than
 *     Prometheus's usual 15 s). Medians of msgs/s and of broker CPU seconds per GB; the cost is
 *     on against off (target: under 3%).
 *  2. the hot-path cost alone: BrokerMetrics' per-request timing (seven histogram observations)
 *     and per-topic counters, ns per request, beside a Buffer.copy of 1 KiB as the reference.
 *  3. /metrics scrape time with 1,000 partitions (10 topics × 100) and 100 groups, each group
 *     with committed offsets on 10 partitions and lag on all of them (so every scrape evaluates
 *     1,000 group-partitions and their lag in seconds): the first (cold) scrape and the median of
 *     the next ten, and the page size.
 *
 * rdkafka_performance comes from setup-references.sh (see broker.bench.ts); without it part 1 is
 * skipped with a line saying so. Knobs: SLUICE_BENCH_ROUNDS (3), SLUICE_BENCH_MSGS_1K (300000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '@sluice/client';
import { BrokerMetrics, startBroker } from '../src/index.js';
import { createTopic } from './support/conn.js';
import { children, cpuSeconds, median, waitForOutput } from './support/proc.js';
import { produce } from './support/rdkafka.js';

const ROUNDS = Number(process.env.SLUICE_BENCH_ROUNDS ?? 3);
const MSGS = Number(process.env.SLUICE_BENCH_MSGS_1K ?? 300_000);
const SIZE = 1024;
const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
const REFS = process.env.SLUICE_BENCH_REFS ?? join(homedir(), '.cache', 'sluice-bench');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-metrics-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  msgsPerSec: number;
  brokerCpuPerGB: number;
  scrapes: number;
}

async function ingest(bin: string, metrics: boolean): Promise<Run> {
  const dataDir = mkdtempSync(join(scratch, 'sluice-'));
  const args = [CLI, 'start', '--port', '0', '--data-dir', dataDir, ...(metrics ? ['--metrics-port', '0'] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  try {
    // The metrics endpoint is logged before the broker's "listening" line.
    const metricsPort = metrics ? Number((await waitForOutput(child, /metrics on http:\/\/127\.0\.0\.1:(\d+)/, 'metrics endpoint'))[1]) : 0;
    const port = Number((await waitForOutput(child, /listening on 127\.0\.0\.1:(\d+)/, 'sluice start'))[1]);
    await createTopic(port, 'ingest', 8);
    let scrapes = 0;
    let scraping = true;
    const scraper = (async () => {
      while (metrics && scraping) {
        await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        scrapes++;
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const cpuBefore = cpuSeconds(child.pid!);
    const r = await produce(bin, port, { topic: 'ingest', size: SIZE, count: MSGS, acks: 1 });
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    scraping = false;
    await scraper;
    return { msgsPerSec: r.msgsPerSec, brokerCpuPerGB: cpu / ((MSGS * SIZE) / 1e9), scrapes };
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
    children.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function ingestCost(): Promise<void> {
  const bin = join(REFS, 'rdkafka_performance');
  if (!existsSync(bin)) {
    console.log(`SKIPPED ingest with metrics on/off: no ${bin} (bash packages/broker/bench/setup-references.sh --cache ${REFS})`);
    return;
  }
  const off: Run[] = [];
  const on: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always meets a warmer page cache.
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const metrics of order) (metrics ? on : off).push(await ingest(bin, metrics));
  }
  const offRate = median(off.map((r) => r.msgsPerSec));
  const onRate = median(on.map((r) => r.msgsPerSec));
  const offCpu = median(off.map((r) => r.brokerCpuPerGB));
  const onCpu = median(on.map((r) => r.brokerCpuPerGB));
  console.log(`ingest, 1 KiB records, acks=1, 8 partitions, ${MSGS} records, medians of ${ROUNDS} interleaved rounds (rdkafka_performance):`);
  console.log(`  metrics off: ${Math.round(offRate)} msgs/s, broker ${offCpu.toFixed(2)} CPU s/GB   (rounds: ${off.map((r) => Math.round(r.msgsPerSec)).join(', ')})`);
  console.log(`  metrics on:  ${Math.round(onRate)} msgs/s, broker ${onCpu.toFixed(2)} CPU s/GB   (rounds: ${on.map((r) => Math.round(r.msgsPerSec)).join(', ')}; ${on.map((r) => r.scrapes).join(', ')} scrapes)`);
  console.log(`  cost of metrics: throughput ${(((offRate - onRate) / offRate) * 100).toFixed(1)}%, broker CPU per GB ${(((onCpu - offCpu) / offCpu) * 100).toFixed(1)}% (target < 3%)`);
}

async function scrapeTime(): Promise<void> {
  const dataDir = mkdtempSync(join(scratch, 'scrape-'));
  const broker = await startBroker({ dataDir, host: '127.0.0.1', port: 0, 'metrics.port': 0 });
  try {
    const bootstrap = `127.0.0.1:${broker.port}`;
    const topics = Array.from({ length: 10 }, (_, i) => `scrape-${i}`);
    for (const t of topics) await createTopic(broker.port, t, 100);
    const producer = new Producer({ brokers: [bootstrap], lingerMs: 5, acks: 1 });
    await producer.connect();
    const sends: Promise<unknown>[] = [];
    for (const t of topics) for (let p = 0; p < 100; p++) for (let i = 0; i < 2; i++) sends.push(producer.send({ topic: t, partition: p, value: `r${i}` }));
    await Promise.all(sends);
    await producer.close();
    const admin = new Admin({ brokers: [bootstrap] });
    for (let g = 0; g < 100; g++) {
      const topic = topics[g % 10];
      const first = (Math.floor(g / 10) * 10) % 100;
      await admin.alterConsumerGroupOffsets(`group-${g}`, Array.from({ length: 10 }, (_, i) => ({ topic, partition: first + i, offset: 1n })));
    }
    await admin.close();
    const url = `http://127.0.0.1:${broker.metricsEndpoint!.port}/metrics`;
    const timed = async (): Promise<{ ms: number; bytes: number }> => {
      const started = performance.now();
      const body = await (await fetch(url)).text();
      return { ms: performance.now() - started, bytes: body.length };
    };
    const cold = await timed();
    const warm: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const t = await timed();
      warm.push(t.ms);
      bytes = t.bytes;
      await new Promise((r) => setTimeout(r, 300));
    }
    console.log(`/metrics with 1,000 partitions and 100 groups (1,000 group-partitions, all lagging): first scrape ${cold.ms.toFixed(1)} ms, then median ${median(warm).toFixed(1)} ms (max ${Math.max(...warm).toFixed(1)} ms) for ${(bytes / 1024).toFixed(0)} KiB`);
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function hotPath(): void {
  const metrics = new BrokerMetrics();
  const frame = Buffer.alloc(64);
  frame.writeInt16BE(0, 0); // Produce
  frame.writeInt16BE(9, 2);
  const topic = metrics.topic('t');
  const src = Buffer.alloc(1024, 1);
  const dst = Buffer.alloc(1024);
  const n = 2_000_000;
  const per: number[] = [];
  const copies: number[] = [];
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = metrics.begin(frame, 0)!;
      t.localDoneAt = t.doneAt = performance.now();
      t.writtenAt = performance.now();
      metrics.end(t, performance.now());
      topic.totalProduceRequests++;
      topic.messagesIn += 100;
      topic.bytesIn += 102_400;
    }
    per.push(((performance.now() - t0) * 1e6) / n);
    t0 = performance.now();
    for (let i = 0; i < n; i++) src.copy(dst);
    copies.push(((performance.now() - t0) * 1e6) / n);
  }
  console.log(`hot path: ${median(per).toFixed(0)} ns per request for timing and counting (reference: Buffer.copy of 1 KiB ${median(copies).toFixed(0)} ns)`);
}

hotPath();
await scrapeTime();
await ingestCost();
