/**
 * `sluice producer-perf-test` (kafka-producer-perf-test.sh): produces --num-records records of
 * --record-size bytes (or lines of --payload-file) at up to --throughput records/s and prints
 * Kafka's lines: a window summary every reporting interval, then totals with latency percentiles.
 */
import { readFile } from 'node:fs/promises';
import { Producer } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { helpOption, jsonOption, type Tool } from '../tool/command.js';
import { producerOptions } from '../tool/client-config.js';
import { bootstrapServers, clientProperties, connectionFailure } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { parseKeyValues } from '../tool/properties.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  { name: 'bootstrap-server', kind: 'value', arg: '<host:port>', help: 'Broker(s) to connect to (or bootstrap.servers in --producer-props).' },
  { name: 'topic', kind: 'value', arg: '<topic>', help: 'REQUIRED: topic to produce to.' },
  { name: 'num-records', kind: 'value', arg: '<n>', help: 'REQUIRED: how many records to send.' },
  { name: 'record-size', kind: 'value', arg: '<bytes>', help: 'Size of each record (or use --payload-file).' },
  { name: 'payload-file', kind: 'value', arg: '<file>', help: 'Send payloads picked at random from this file’s entries.' },
  { name: 'payload-delimiter', kind: 'value', arg: '<s>', help: 'Separator of --payload-file entries.', defaultText: '\\n' },
  { name: 'throughput', kind: 'value', arg: '<records/s>', help: 'REQUIRED: target rate; -1 for as fast as possible.' },
  { name: 'producer-props', kind: 'multi', arg: '<k=v ...>', help: 'Producer properties (bootstrap.servers, acks, linger.ms, batch.size, compression.type…).' },
  { name: 'producer.config', kind: 'value', arg: '<file>', help: 'Producer properties file.', aliases: ['command-config'] },
  { name: 'reporting-interval', kind: 'value', arg: '<ms>', help: 'How often to print a window summary.', defaultText: '5000' },
  jsonOption,
  helpOption,
];

export const producerPerfTestTool: Tool = {
  name: 'producer-perf-test',
  summary: 'measure produce throughput and latency (kafka-producer-perf-test.sh)',
  usage: 'sluice producer-perf-test --topic <t> --num-records <n> --record-size <bytes> --throughput <n|-1> --producer-props bootstrap.servers=<host:port> [k=v ...]',
  description:
    'Sends records as fast as --throughput allows and prints, like Kafka, a summary line per reporting interval and a final\n' +
    'line with records/sec, MB/sec, average and maximum latency and the 50th/95th/99th/99.9th percentiles (latency =\n' +
    'send call to acknowledgement). --json prints the final figures as JSON instead.',
  options,
  run: runProducerPerfTest,
};

/** Latencies kept for percentiles: every record up to this many, then a uniform sample. */
const MAX_LATENCY_SAMPLES = 500_000;
const MAX_PENDING = 50_000;

class Stats {
  private readonly samples: Float64Array;
  private readonly sampleEvery: number;
  private sampleCount = 0;
  count = 0;
  bytes = 0;
  totalLatency = 0;
  maxLatency = 0;
  private windowStart: number;
  private windowCount = 0;
  private windowBytes = 0;
  private windowLatency = 0;
  private windowMax = 0;

  constructor(
    numRecords: number,
    readonly start: number,
  ) {
    this.sampleEvery = Math.max(1, Math.ceil(numRecords / MAX_LATENCY_SAMPLES));
    this.samples = new Float64Array(Math.ceil(numRecords / this.sampleEvery));
    this.windowStart = start;
  }

  record(latencyMs: number, bytes: number): void {
    if (this.count % this.sampleEvery === 0 && this.sampleCount < this.samples.length) this.samples[this.sampleCount++] = latencyMs;
    this.count++;
    this.bytes += bytes;
    this.totalLatency += latencyMs;
    if (latencyMs > this.maxLatency) this.maxLatency = latencyMs;
    this.windowCount++;
    this.windowBytes += bytes;
    this.windowLatency += latencyMs;
    if (latencyMs > this.windowMax) this.windowMax = latencyMs;
  }

  /** The window line, then a new window. */
  window(now: number): string {
    const secs = Math.max(now - this.windowStart, 1) / 1000;
    const line =
      `${this.windowCount} records sent, ${(this.windowCount / secs).toFixed(1)} records/sec (${(this.windowBytes / secs / 1048576).toFixed(2)} MB/sec), ` +
      `${(this.windowLatency / Math.max(this.windowCount, 1)).toFixed(1)} ms avg latency, ${this.windowMax.toFixed(1)} ms max latency.`;
    this.windowStart = now;
    this.windowCount = this.windowBytes = this.windowLatency = this.windowMax = 0;
    return line;
  }

  totals(now: number): { records: number; recordsPerSec: number; mbPerSec: number; avgLatencyMs: number; maxLatencyMs: number; p50: number; p95: number; p99: number; p999: number } {
    const secs = Math.max(now - this.start, 1) / 1000;
    const sorted = this.samples.subarray(0, this.sampleCount).sort();
    const pct = (p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
    return {
      records: this.count,
      recordsPerSec: this.count / secs,
      mbPerSec: this.bytes / secs / 1048576,
      avgLatencyMs: this.totalLatency / Math.max(this.count, 1),
      maxLatencyMs: this.maxLatency,
      p50: pct(0.5),
      p95: pct(0.95),
      p99: pct(0.99),
      p999: pct(0.999),
    };
  }
}

async function payloads(args: ParsedArgs): Promise<Buffer[]> {
  const size = args.int('record-size', { min: 0, max: 100 * 1048576 });
  const file = args.value('payload-file');
  if ((size === undefined) === (file === undefined)) throw new UsageError('give exactly one of --record-size or --payload-file');
  if (size !== undefined) {
    // Like Kafka: one payload of random uppercase letters, reused for every record.
    const p = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) p[i] = 65 + Math.floor(Math.random() * 26);
    return [p];
  }
  let text: string;
  try {
    text = await readFile(file!, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --payload-file ${file}: ${(err as Error).message}`);
  }
  const delimiter = (args.value('payload-delimiter') ?? '\n').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  const entries = text.split(delimiter).filter((e) => e.length > 0).map((e) => Buffer.from(e));
  if (entries.length === 0) throw new UsageError(`--payload-file ${file} has no entries`);
  return entries;
}

async function runProducerPerfTest(args: ParsedArgs, io: ToolIo): Promise<number> {
  const topic = args.required('topic');
  const numRecords = args.int('num-records', { min: 1 });
  if (numRecords === undefined) throw new UsageError('missing required option --num-records');
  const throughput = args.int('throughput', { min: -1 });
  if (throughput === undefined) throw new UsageError('missing required option --throughput (-1 for no limit)');
  if (throughput === 0) throw new UsageError('--throughput must be positive, or -1 for no limit');
  const interval = args.int('reporting-interval', { min: 100 }) ?? 5000;
  const bodies = await payloads(args);
  const props = await clientProperties(args, 'producer.config', parseKeyValues(args.list('producer-props'), 'producer-props'));
  const fromProps = props.get('bootstrap.servers');
  const brokers = args.has('bootstrap-server') || !fromProps ? bootstrapServers(args, io) : fromProps.split(',').map((s) => s.trim());
  const { options, ignored } = producerOptions(brokers, props, 'perf-producer');
  for (const k of ignored) io.stderr(`sluice producer-perf-test: ignoring property ${k} (not used by this client)\n`);

  const producer = new Producer(options);
  let failed = 0;
  let firstError: unknown = null;
  let stats: Stats | null = null;
  try {
    try {
      await producer.connect();
      await producer.cluster.refreshMetadata({ extra: [topic] });
      if (!producer.cluster.topic(topic)) throw new ToolError(`Topic '${topic}' does not exist`, ExitCode.failed, `create it with \`sluice topics --create --topic ${topic}\``);
    } catch (err) {
      throw connectionFailure(err, brokers);
    }
    const start = performance.now();
    const s = (stats = new Stats(numRecords, start));
    let nextReport = start + interval;
    const pending = new Set<Promise<void>>();
    const interrupted = { yes: false };
    void io.interrupted().then(() => (interrupted.yes = true));
    const reportIfDue = (): void => {
      const now = performance.now();
      if (now >= nextReport && !args.has('json')) {
        io.stdout(s.window(now) + '\n');
        nextReport = now + interval;
      }
    };
    const timer = setInterval(reportIfDue, Math.min(interval, 1000));
    try {
      for (let i = 0; i < numRecords && !interrupted.yes; i++) {
        const value = bodies.length === 1 ? bodies[0] : bodies[Math.floor(Math.random() * bodies.length)];
        const sentAt = performance.now();
        const p: Promise<void> = producer.send({ topic, value }).then(
          () => {
            pending.delete(p);
            s.record(performance.now() - sentAt, value.length);
          },
          (err: unknown) => {
            pending.delete(p);
            failed++;
            firstError ??= err;
          },
        );
        pending.add(p);
        if (pending.size >= MAX_PENDING) await Promise.race(pending);
        if (throughput > 0) {
          // Throttle like Kafka's ThroughputThrottler: sleep whenever ahead of the target rate.
          const ahead = ((i + 1) / throughput) * 1000 - (performance.now() - start);
          if (ahead > 2) await new Promise((r) => setTimeout(r, ahead));
        } else if ((i & 1023) === 1023) {
          // Let acknowledgements and the reporter run during an unthrottled burst.
          await new Promise((r) => setImmediate(r));
        }
        // After a failure the rest would most likely fail the same way: stop and report.
        if (failed > 0) break;
      }
      await Promise.all(pending);
    } finally {
      clearInterval(timer);
    }
  } finally {
    await producer.close().catch(() => undefined);
  }
  const t = stats.totals(performance.now());
  if (args.has('json')) io.stdout(toJson({ ...t, failed }));
  else {
    io.stdout(
      `${t.records} records sent, ${t.recordsPerSec.toFixed(1)} records/sec (${t.mbPerSec.toFixed(2)} MB/sec), ${t.avgLatencyMs.toFixed(2)} ms avg latency, ` +
        `${t.maxLatencyMs.toFixed(2)} ms max latency, ${t.p50.toFixed(0)} ms 50th, ${t.p95.toFixed(0)} ms 95th, ${t.p99.toFixed(0)} ms 99th, ${t.p999.toFixed(0)} ms 99.9th.\n`,
    );
  }
  if (failed > 0) {
    const mapped = connectionFailure(firstError, brokers);
    io.stderr(`sluice producer-perf-test: ${failed} record(s) failed; first error: ${mapped instanceof Error ? mapped.message : String(mapped)}\n`);
    return ExitCode.failed;
  }
  return ExitCode.ok;
}
