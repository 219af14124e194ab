/**
 * Broker benchmark: Sluice (`sluice start`, its own process) fed by the fastest Kafka client there
 * is, librdkafka's rdkafka_performance, beside references each at its best, all in one run:
 *  - Node's raw loopback throughput (1 MiB writes; a 'data'-event sink and an `onread` sink that
 *    reads into one reused buffer; the better counts);
 *  - a raw sequential file write of the same bytes as a 1 KiB ingest run (page cache, then `sync`);
 *  - NATS JetStream (nats-server -js, file store) driven by its own Go client, natsbench
 *    (`-mode js-async -batch 1000`, 1 KiB and 100 B messages).
 * Sluice rows: ingest of 1 KiB records (acks=1 and acks=all) and 100 B records, each on 1 and 8
 * partitions, and consume from the beginning; each with msgs/s, MB/s, ratios to NATS and to raw
 * loopback, and broker and client CPU seconds per GB. Every ingest configuration runs once per
 * round, on a fresh broker and topic, in rounds that interleave everything; medians are printed.
 * Then latency at a fixed 1,000 records/s: librdkafka produce→ack, produce→long-poll fetch, and
 * NATS beside them (natsbench js-sync; publish→delivery through the NATS JavaScript client).
 *
 * Tools come from setup-references.sh (run by this benchmark when one is missing and it can).
 * Knobs: SLUICE_BENCH_ROUNDS (3), SLUICE_BENCH_MSGS_1K (1000000), SLUICE_BENCH_MSGS_100
 * (5000000), SLUICE_BENCH_NATS_DUR (5s), SLUICE_BENCH_SETTLE_MS (2000: the pause before each
 * measured write, see settle()), SLUICE_BENCH_REFS (tool cache directory), SLUICE_BENCH_VERBOSE=1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, homedir, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey, BatchOffsets, buildRecordBatch } from '@sluice/protocol';
import { Conn, createTopic } from './support/conn.js';
import { children, cpuSeconds, logTail, median, percentile, settle, SETTLE_MS, syncDisks, waitForOutput, which } from './support/proc.js';
import { natsbench, rawFileWrite, rawLoopback, withNatsServer, type FileWrite, type NatsRun } from './support/references.js';
import { consume, librdkafkaVersion, produce, produceLatency, type PerfResult } from './support/rdkafka.js';

const ROUNDS = Number(process.env.SLUICE_BENCH_ROUNDS ?? 3);
const MSGS_1K = Number(process.env.SLUICE_BENCH_MSGS_1K ?? 1_000_000);
const MSGS_100 = Number(process.env.SLUICE_BENCH_MSGS_100 ?? 5_000_000);
const NATS_DUR = process.env.SLUICE_BENCH_NATS_DUR ?? '5s';
const LOOPBACK_BYTES = 2 * 2 ** 30;
const FILE_BYTES = MSGS_1K * 1024;
const LATENCY_RATE = 1000;
const LATENCY_SECONDS = 5;
const GB = 1e9;
const MB = 1e6;

const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
const SETUP = fileURLToPath(new URL('../../bench/setup-references.sh', import.meta.url));
const REFS = process.env.SLUICE_BENCH_REFS ?? join(homedir(), '.cache', 'sluice-bench');

const scratch = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Formatting

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Median with [min–max] over the rounds. */
function spread(xs: number[], digits = 0, scale = 1): string {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return '—';
  const m = fmt(median(ok) / scale, digits);
  if (ok.length === 1) return m;
  return `${m} [${fmt(Math.min(...ok) / scale, digits)}–${fmt(Math.max(...ok) / scale, digits)}]`;
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${fmt(a / b, 2)}×` : '—';
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Tools

interface Tools {
  rdkafka: string | null;
  natsbench: string | null;
  natsServer: string | null;
}

function findTools(): Tools {
  const inCache = (name: string): string | null => (existsSync(join(REFS, name)) ? join(REFS, name) : null);
  return { rdkafka: inCache('rdkafka_performance'), natsbench: inCache('natsbench'), natsServer: which('nats-server') };
}

const TOOL_NAMES: Record<keyof Tools, string> = { rdkafka: 'rdkafka_performance', natsbench: 'natsbench', natsServer: 'nats-server' };

function missing(t: Tools): string[] {
  return (Object.keys(t) as (keyof Tools)[]).filter((k) => t[k] === null).map((k) => TOOL_NAMES[k]);
}

/** Finds the tools, running setup-references.sh first when one is missing and this is root with apt-get. */
function ensureTools(): Tools {
  let tools = findTools();
  if (missing(tools).length === 0) return tools;
  const canSetUp = process.getuid?.() === 0 && which('apt-get') !== null;
  if (canSetUp) {
    console.log(`reference tools missing (${missing(tools).join(', ')}): running ${SETUP} --cache ${REFS}`);
    const r = spawnSync('bash', [SETUP, '--cache', REFS], { stdio: 'inherit' });
    if (r.status !== 0) console.log(`setup-references.sh failed (exit ${r.status}); continuing with what is there`);
    tools = findTools();
  }
  const gone = missing(tools);
  if (gone.length > 0) {
    console.log(`MISSING reference tools: ${gone.join(', ')} (looked in ${REFS} and on PATH).`);
    console.log(`  To get them: run, as root on Debian, bash packages/broker/bench/setup-references.sh` + (process.env.SLUICE_BENCH_REFS ? ` --cache ${REFS}` : ''));
    console.log(`  (apt-get installs golang-go golang-github-nats-io-go-nats-dev nats-server librdkafka-dev gcc; rdkafka_performance is`);
    console.log(`  compiled from Debian's librdkafka source package, natsbench by ../shared/bench/build-natsbench.sh).`);
    if (!tools.rdkafka) console.log('  Without rdkafka_performance the Sluice throughput rows cannot be measured; printing the rest.');
    if (!tools.natsbench || !tools.natsServer) console.log('  Without natsbench/nats-server there are no NATS ratios; printing the rest.');
  }
  return tools;
}

function versionOf(command: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Sluice

interface Sluice {
  port: number;
  pid: number;
  /** SIGKILL (no final flush to disk: the data is thrown away) and remove the data directory. */
  discard(): Promise<void>;
}

async function startSluice(): Promise<Sluice> {
  const dataDir = mkdtempSync(join(scratch, 'sluice-'));
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const m = await waitForOutput(child, /listening on 127\.0\.0\.1:(\d+)/, 'sluice start');
  let gone = false;
  child.once('exit', () => (gone = true));
  return {
    port: Number(m[1]),
    pid: child.pid!,
    async discard() {
      if (!gone) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      children.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Sample {
  msgsPerSec: number;
  mbPerSec: number;
  brokerCpuPerGB: number;
  clientCpuPerGB: number;
}

const failed = (): Sample => ({ msgsPerSec: NaN, mbPerSec: NaN, brokerCpuPerGB: NaN, clientCpuPerGB: NaN });

function sample(r: PerfResult, size: number, brokerCpu: number): Sample {
  const gb = (r.msgs * size) / GB;
  return { msgsPerSec: r.msgsPerSec, mbPerSec: r.mbPerSec, brokerCpuPerGB: brokerCpu / gb, clientCpuPerGB: r.run.cpuSeconds / gb };
}

interface Config {
  label: string;
  size: number;
  count: number;
  acks: 1 | -1;
  partitions: 1 | 8;
  /** Also consume the topic back (from the beginning) before the broker is discarded. */
  consume: boolean;
}

const CONFIGS: Config[] = [
  { label: 'ingest 1 KiB, acks=1, 1 partition', size: 1024, count: MSGS_1K, acks: 1, partitions: 1, consume: true },
  { label: 'ingest 1 KiB, acks=1, 8 partitions', size: 1024, count: MSGS_1K, acks: 1, partitions: 8, consume: true },
  { label: 'ingest 1 KiB, acks=all, 1 partition', size: 1024, count: MSGS_1K, acks: -1, partitions: 1, consume: false },
  { label: 'ingest 1 KiB, acks=all, 8 partitions', size: 1024, count: MSGS_1K, acks: -1, partitions: 8, consume: false },
  { label: 'ingest 100 B, acks=1, 1 partition', size: 100, count: MSGS_100, acks: 1, partitions: 1, consume: false },
  { label: 'ingest 100 B, acks=1, 8 partitions', size: 100, count: MSGS_100, acks: 1, partitions: 8, consume: false },
];

/** One ingest run (and its consume run) on a fresh broker and topic. */
async function sluiceRun(rdkafka: string, c: Config): Promise<{ ingest: Sample; consume?: Sample }> {
  const broker = await startSluice();
  try {
    const topic = 'bench';
    await createTopic(broker.port, topic, c.partitions);
    await settle();
    const before = cpuSeconds(broker.pid);
    const p = await produce(rdkafka, broker.port, { topic, size: c.size, count: c.count, acks: c.acks, partition: c.partitions === 1 ? 0 : undefined });
    const ingest = sample(p, c.size, cpuSeconds(broker.pid) - before);
    if (!c.consume) return { ingest };
    const beforeConsume = cpuSeconds(broker.pid);
    const r = await consume(rdkafka, broker.port, topic, c.partitions, c.count);
    return { ingest, consume: sample(r, c.size, cpuSeconds(broker.pid) - beforeConsume) };
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nbroker log: ${logTailOf(broker)}`);
  } finally {
    await broker.discard();
    syncDisks();
  }
}

function logTailOf(broker: Sluice): string {
  for (const c of children) if (c.pid === broker.pid) return logTail(c);
  return '';
}

// ---------------------------------------------------------------------------------------------
// Latency

/** Produce → long-polling fetch, one 1 KiB record per request at a fixed rate; sorted ms. */
async function sluiceEndToEnd(port: number, topic: string): Promise<number[]> {
  await createTopic(port, topic, 1);
  const producer = await Conn.open(port);
  const consumer = await Conn.open(port);
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  const consuming = (async () => {
    let offset = 0n;
    while (latencies.length < total) {
      const body = await consumer.send(ApiKey.Fetch, 12, {
        replicaId: -1, maxWaitMs: 1000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const now = performance.now();
      const data = body.responses[0].partitions[0].records;
      if (!data) continue;
      for (let pos = 0; pos + 61 <= data.length; ) {
        const size = data.readInt32BE(pos + BatchOffsets.batchLength) + 12;
        // One record per batch, its value ends the batch: the send time as a float64.
        latencies.push(now - data.readDoubleBE(pos + size - 9));
        offset = data.readBigInt64BE(pos) + 1n;
        pos += size;
      }
    }
  })();
  const value = Buffer.alloc(1024);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    value.writeDoubleBE(performance.now(), 1024 - 8);
    const records = buildRecordBatch([{ key: null, value, headers: [] }]);
    void producer.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  }
  await consuming;
  producer.close();
  consumer.close();
  return latencies.sort((a, b) => a - b);
}

/** NATS JetStream publish → push delivery at the same rate, through the NATS JavaScript client. */
async function natsJsEndToEnd(natsServer: string): Promise<number[]> {
  return withNatsServer(natsServer, scratch, async (url) => {
    const { connect: natsConnect, StorageType, AckPolicy, DeliverPolicy } = await import('nats');
    const nc = await natsConnect({ servers: url });
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    await jsm.streams.add({ name: 'LAT', subjects: ['lat'], storage: StorageType.File });
    await jsm.consumers.add('LAT', { durable_name: 'lat', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
    const consumer = await js.consumers.get('LAT', 'lat');
    const total = LATENCY_RATE * LATENCY_SECONDS;
    const latencies: number[] = [];
    const messages = await consumer.consume({ max_messages: 1000 });
    const reading = (async () => {
      for await (const m of messages) {
        latencies.push(performance.now() - Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).readDoubleBE(1024 - 8));
        if (latencies.length >= total) break;
      }
    })();
    const value = Buffer.alloc(1024);
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / LATENCY_RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      value.writeDoubleBE(performance.now(), 1024 - 8);
      void js.publish('lat', Buffer.from(value));
    }
    await reading;
    await nc.close();
    return latencies.sort((a, b) => a - b);
  });
}

// ---------------------------------------------------------------------------------------------

const VERBOSE = process.env.SLUICE_BENCH_VERBOSE === '1';
let stepStarted = performance.now();
/** With SLUICE_BENCH_VERBOSE=1: how long each step took. */
function step(what: string): void {
  const now = performance.now();
  if (VERBOSE) console.log(`    ${what}: ${fmt((now - stepStarted) / 1000, 1)} s`);
  stepStarted = now;
}

let failures = 0;
/** A measurement that failed: said in the output, and the benchmark exits 1 at the end. */
function note(message: string): void {
  failures++;
  console.log(`  ! ${message.split('\n').join('\n    ')}`);
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const tools = ensureTools();
  const cpu = cpus();
  console.log(
    `Sluice broker benchmark. Every figure below comes from this one run on this machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ` +
      `${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Linux ${release()}, Node ${process.version}; load average at start ${loadavg().map((l) => fmt(l, 2)).join(' ')}.`,
  );
  const versions = [
    tools.rdkafka ? `rdkafka_performance on librdkafka ${await librdkafkaVersion(tools.rdkafka)}` : 'rdkafka_performance missing',
    tools.natsbench ? `natsbench on nats.go ${versionOf('dpkg-query', ['-W', '-f=${Version}', 'golang-github-nats-io-go-nats-dev'], /^(\S+)/)}` : 'natsbench missing',
    tools.natsServer ? `nats-server ${versionOf(tools.natsServer, ['--version'], /v?(\d+\.\d+\.\d+)/)}` : 'nats-server missing',
  ];
  console.log(`Tools: ${versions.join(', ')}; data in ${tmpdir()}.`);
  console.log(`${ROUNDS} rounds, each running every reference and every Sluice configuration once, interleaved; medians [min–max].`);
  console.log(`Each run on a fresh broker/server and topic, after \`sync\` and a ${fmt(SETTLE_MS / 1000, 1)} s pause. 1 KiB runs: ${fmt(MSGS_1K)} msgs; 100 B runs: ${fmt(MSGS_100)} msgs.`);
  console.log('MB = 10^6 bytes of record payload; CPU = user+system seconds per GB (10^9 payload bytes).');

  const loop: Record<'data' | 'onread', number[]> = { data: [], onread: [] };
  const files: FileWrite[] = [];
  const nats: Record<1024 | 100, NatsRun[]> = { 1024: [], 100: [] };
  const ingest: Sample[][] = CONFIGS.map(() => []);
  const consumed: Sample[][] = CONFIGS.map(() => []);

  for (let round = 0; round < ROUNDS; round++) {
    const roundStarted = performance.now();
    // Alternate the sinks' order so neither always runs first.
    step('start');
    for (const kind of round % 2 ? (['onread', 'data'] as const) : (['data', 'onread'] as const)) loop[kind].push(await rawLoopback(kind, LOOPBACK_BYTES));
    step('raw loopback ×2');
    files.push(await rawFileWrite(scratch, FILE_BYTES));
    step('raw file write');
    if (tools.natsbench && tools.natsServer) {
      for (const size of [1024, 100] as const) {
        try {
          nats[size].push(await natsbench(tools.natsServer, tools.natsbench, scratch, { mode: 'js-async', size, dur: NATS_DUR }));
        } catch (e) {
          note(`round ${round + 1}: NATS ${size} B failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        step(`NATS ${size} B`);
      }
    }
    if (tools.rdkafka) {
      // Rotate the configurations' order from round to round.
      for (let k = 0; k < CONFIGS.length; k++) {
        const i = (k + round) % CONFIGS.length;
        try {
          const r = await sluiceRun(tools.rdkafka, CONFIGS[i]);
          ingest[i].push(r.ingest);
          if (r.consume) consumed[i].push(r.consume);
        } catch (e) {
          ingest[i].push(failed());
          if (CONFIGS[i].consume) consumed[i].push(failed());
          note(`round ${round + 1}: Sluice ${CONFIGS[i].label} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        step(`Sluice ${CONFIGS[i].label}`);
      }
    }
    console.log(`  round ${round + 1}/${ROUNDS} done in ${fmt((performance.now() - roundStarted) / 1000, 1)} s`);
  }

  // References.
  const dataSink = median(loop.data);
  const onreadSink = median(loop.onread);
  const loopback = Math.max(dataSink, onreadSink);
  const pageCache = median(files.map((f) => f.pageCache));
  console.log('\nReferences');
  console.log(
    table(
      ['reference', 'MB/s'],
      [
        [`raw loopback, Node writer (1 MiB writes) → Node sink with 'data' events`, spread(loop.data, 0, MB)],
        [`raw loopback, Node writer (1 MiB writes) → Node sink with onread into one buffer`, spread(loop.onread, 0, MB)],
        [`raw loopback (the better; the "loopback" ratios below)`, fmt(loopback / MB)],
        [`raw file write, ${fmt(FILE_BYTES / MB)} MB in 1 MiB writeSync calls, into the page cache (no fsync)`, spread(files.map((f) => f.pageCache), 0, MB)],
        [`the same counting the \`sync\` that writes it to disk`, spread(files.map((f) => f.toDisk), 0, MB)],
        [`the same write again at once, into the pages just freed (not used for ratios)`, spread(files.map((f) => f.recycledPages), 0, MB)],
      ],
    ),
  );

  // Throughput table.
  const natsRate = (size: number): number => median((size === 100 ? nats[100] : nats[1024]).map((n) => n.msgsPerSec));
  const rows: string[][] = [];
  for (const size of [1024, 100] as const) {
    const runs = nats[size];
    if (runs.length === 0) continue;
    const gb = (n: NatsRun): number => (n.msgs * size) / GB;
    rows.push([
      `NATS JetStream ${size === 1024 ? '1 KiB' : '100 B'} (natsbench js-async, batch 1000)`,
      spread(runs.map((n) => n.msgsPerSec)),
      spread(runs.map((n) => (n.msgsPerSec * size) / MB)),
      'ref',
      ratio(natsRate(size) * size, loopback),
      ratio(natsRate(size) * size, pageCache),
      fmt(median(runs.map((n) => n.serverCpu / gb(n))), 1),
      fmt(median(runs.map((n) => n.clientCpu / gb(n))), 1),
    ]);
  }
  const sluiceRow = (label: string, samples: Sample[], size: number, isIngest: boolean): string[] => {
    const rate = median(samples.map((s) => s.msgsPerSec));
    const bytes = median(samples.map((s) => s.mbPerSec)) * MB;
    return [
      label,
      spread(samples.map((s) => s.msgsPerSec)),
      spread(samples.map((s) => s.mbPerSec)),
      isIngest ? ratio(rate, natsRate(size)) : 'n/a',
      ratio(bytes, loopback),
      isIngest ? ratio(bytes, pageCache) : '',
      fmt(median(samples.map((s) => s.brokerCpuPerGB)), 1),
      fmt(median(samples.map((s) => s.clientCpuPerGB)), 1),
    ];
  };
  CONFIGS.forEach((c, i) => {
    if (ingest[i].length) rows.push(sluiceRow(`Sluice ${c.label}`, ingest[i], c.size, true));
  });
  CONFIGS.forEach((c, i) => {
    if (consumed[i].length) rows.push(sluiceRow(`Sluice consume 1 KiB from the beginning, ${c.partitions === 1 ? '1 partition' : '8 partitions'}`, consumed[i], c.size, false));
  });
  console.log('\nThroughput: Sluice fed and drained by rdkafka_performance, NATS JetStream by natsbench');
  if (rows.length === 0) console.log('(no rows: rdkafka_performance and natsbench are missing, see above)');
  else console.log(table(['', 'msgs/s', 'MB/s', '× NATS', '× loopback', '× file write', 'broker CPU s/GB', 'client CPU s/GB'], rows));
  console.log('× NATS: msgs/s against NATS JetStream with the same message size (natsbench has no consume mode: n/a).');
  console.log('× loopback, × file write: payload bytes/s against raw loopback and the page-cache file write (first write).');
  console.log('broker: sluice start or nats-server; client: rdkafka_performance or natsbench. Consume reads the topic just written.');

  // Latency.
  console.log(`\nLatency at ${fmt(LATENCY_RATE)} msgs/s of 1 KiB for ${LATENCY_SECONDS} s, ms`);
  const lrows: string[][] = [];
  let natsSync: NatsRun | null = null;
  let natsJs: number[] | null = null;
  if (tools.natsbench && tools.natsServer) {
    try {
      natsSync = await natsbench(tools.natsServer, tools.natsbench, scratch, { mode: 'js-sync', size: 1024, dur: '3s' });
    } catch (e) {
      note(`NATS js-sync failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      natsJs = await natsJsEndToEnd(tools.natsServer);
    } catch (e) {
      note(`NATS JS-client latency failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const broker = await startSluice();
  try {
    if (tools.rdkafka) {
      const acks = await produceLatency(tools.rdkafka, broker.port, { topic: 'latency-ack', size: 1024, rate: LATENCY_RATE, count: LATENCY_RATE * LATENCY_SECONDS, file: join(scratch, 'latency.txt') });
      const p50 = percentile(acks, 50);
      const p99 = percentile(acks, 99);
      lrows.push([
        'Sluice produce → ack (rdkafka_performance -r 1000 -l, acks=1, linger.ms=0)',
        fmt(p50, 2),
        fmt(p99, 2),
        natsSync?.p99 !== undefined ? `${ratio(p50, natsSync.p50 ?? NaN)} / ${ratio(p99, natsSync.p99)} NATS js-sync` : '',
      ]);
    }
  } catch (e) {
    note(`Sluice produce → ack latency failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const e2e = await sluiceEndToEnd(broker.port, 'latency-e2e');
    lrows.push([
      'Sluice produce → long-poll fetch (one record per request, acks=1)',
      fmt(percentile(e2e, 50), 2),
      fmt(percentile(e2e, 99), 2),
      natsJs ? `${ratio(percentile(e2e, 50), percentile(natsJs, 50))} / ${ratio(percentile(e2e, 99), percentile(natsJs, 99))} NATS via JS client` : '',
    ]);
  } catch (e) {
    note(`Sluice produce → fetch latency failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await broker.discard();
  }
  if (natsSync?.p50 !== undefined && natsSync.p99 !== undefined) {
    lrows.push([`NATS JetStream publish → ack (natsbench js-sync: one in flight, ${fmt(natsSync.msgsPerSec)} msgs/s, not paced)`, fmt(natsSync.p50, 2), fmt(natsSync.p99, 2), 'ref']);
  }
  if (natsJs) {
    lrows.push(['NATS JetStream publish → push delivery, through the NATS JavaScript client (secondary)', fmt(percentile(natsJs, 50), 2), fmt(percentile(natsJs, 99), 2), 'ref']);
  }
  console.log(table(['', 'p50', 'p99', 'p50 / p99 ratio'], lrows));
  console.log(`\nDone in ${fmt((performance.now() - benchStarted) / 1000, 0)} s; load average at end ${loadavg().map((l) => fmt(l, 2)).join(' ')}.`);
  if (failures > 0) console.log(`${failures} measurement(s) failed (the lines starting with !); their rows use the runs that succeeded.`);
}

await main();
process.exit(failures > 0 ? 1 : 0);
