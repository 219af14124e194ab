/**
 * librdkafka's rdkafka_performance (built by setup-references.sh) as Sluice's load generator.
 *
 * With -u it prints a table; its last row is the summary. The producer's columns are
 * elapsed | msgs | bytes | rtt | dr | dr_m/s | dr_MB/s | dr_err | tx_err | outq | offset, where
 * dr_* count delivery reports (acknowledged messages) and tx_err counts local queue-full
 * back-pressure (not errors). The consumer's are elapsed | msgs | bytes | rtt | m/s | MB/s | rx_err |
 * offset, timed from the first message received. MB is 10^6 bytes of message payload.
 */
import { readFileSync } from 'node:fs';
import { runTool, type ToolRun } from './proc.js';

export interface PerfResult {
  msgs: number;
  msgsPerSec: number;
  /** Payload MB/s (10^6 bytes). */
  mbPerSec: number;
  elapsedMs: number;
  errors: number;
  /** producer only: times librdkafka's local queue was full. */
  backpressure?: number;
  run: ToolRun;
}

/** The last row of rdkafka_performance's -u table, keyed by its header names. */
export function parseTable(stdout: string): Map<string, number> | null {
  const rows = stdout.split('\n').filter((l) => l.startsWith('|'));
  const header = rows.find((l) => /\belapsed\b/.test(l));
  const last = [...rows].reverse().find((l) => !/\belapsed\b/.test(l));
  if (!header || !last) return null;
  const cells = (l: string): string[] => l.split('|').slice(1).map((c) => c.trim());
  const names = cells(header);
  const values = cells(last);
  const out = new Map<string, number>();
  names.forEach((name, i) => out.set(name, Number(values[i])));
  return out;
}

export interface ProduceOptions {
  topic: string;
  size: number;
  count: number;
  acks: 1 | -1;
  /** One partition (-p), or omitted: librdkafka's random partitioner over all of them. */
  partition?: number;
}

export async function produce(bin: string, port: number, o: ProduceOptions): Promise<PerfResult> {
  const args = ['-P', '-t', o.topic, '-s', String(o.size), '-c', String(o.count), '-b', `127.0.0.1:${port}`, '-a', String(o.acks)];
  if (o.partition !== undefined) args.push('-p', String(o.partition));
  args.push('-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=1048576', '-u');
  const run = await runTool(bin, args, { timeoutMs: 180_000 });
  const t = parseTable(run.stdout);
  const delivered = t?.get('dr') ?? NaN;
  const errors = t?.get('dr_err') ?? NaN;
  if (run.code !== 0 || !t || delivered !== o.count || errors !== 0) {
    throw new Error(`rdkafka_performance ${args.join(' ')}: ${run.timedOut ? 'timed out' : `exit ${run.code}`}, delivered ${delivered}/${o.count}, errors ${errors}\n${tail(run)}`);
  }
  return { msgs: delivered, msgsPerSec: t.get('dr_m/s')!, mbPerSec: t.get('dr_MB/s')!, elapsedMs: t.get('elapsed')!, errors, backpressure: t.get('tx_err'), run };
}

/** Consumes `count` messages from the beginning of the given partitions (several -p are allowed). */
export async function consume(bin: string, port: number, topic: string, partitions: number, count: number): Promise<PerfResult> {
  const args = ['-C', '-t', topic];
  for (let p = 0; p < partitions; p++) args.push('-p', String(p));
  args.push('-o', 'beginning', '-c', String(count), '-b', `127.0.0.1:${port}`, '-u');
  const run = await runTool(bin, args, { timeoutMs: 180_000 });
  const t = parseTable(run.stdout);
  const msgs = t?.get('msgs') ?? NaN;
  const errors = t?.get('rx_err') ?? NaN;
  if (run.code !== 0 || !t || msgs !== count || errors !== 0) {
    throw new Error(`rdkafka_performance ${args.join(' ')}: ${run.timedOut ? 'timed out' : `exit ${run.code}`}, consumed ${msgs}/${count}, errors ${errors}\n${tail(run)}`);
  }
  return { msgs, msgsPerSec: t.get('m/s')!, mbPerSec: t.get('MB/s')!, elapsedMs: t.get('elapsed')!, errors, run };
}

/**
 * Produce latency at a fixed rate: -r paces the producer, -l stamps each message and -A writes
 * every delivery report's send→acknowledgement time (µs) to a file. Returns sorted milliseconds.
 */
export async function produceLatency(bin: string, port: number, o: { topic: string; size: number; rate: number; count: number; file: string }): Promise<number[]> {
  const args = ['-P', '-t', o.topic, '-p', '0', '-s', String(o.size), '-c', String(o.count), '-r', String(o.rate), '-a', '1', '-l', '-A', o.file, '-X', 'linger.ms=0', '-b', `127.0.0.1:${port}`, '-u'];
  const run = await runTool(bin, args, { timeoutMs: 60_000 + (o.count / o.rate) * 2000 });
  const t = parseTable(run.stdout);
  if (run.code !== 0 || !t || t.get('dr') !== o.count || t.get('dr_err') !== 0) {
    throw new Error(`rdkafka_performance ${args.join(' ')}: ${run.timedOut ? 'timed out' : `exit ${run.code}`}\n${tail(run)}`);
  }
  return readFileSync(o.file, 'utf8').split('\n').filter(Boolean).map((l) => Number(l) / 1000).sort((a, b) => a - b);
}

/** librdkafka's version as rdkafka_performance reports it ("2.0.2"). */
export async function librdkafkaVersion(bin: string): Promise<string> {
  // Its usage text (printed for an unknown option) names the library it runs with.
  const usage = await runTool(bin, ['-?'], { timeoutMs: 10_000 });
  return /librdkafka version (\S+)/.exec(usage.stdout + usage.stderr)?.[1] ?? 'unknown';
}

function tail(run: ToolRun): string {
  return (run.stdout + run.stderr).split('\n').slice(-15).join('\n');
}
