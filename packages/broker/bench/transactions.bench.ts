/**
 * What transactions cost, in one run against one in-process broker and this repository's client:
 *  1. produce throughput of a transactional producer committing every 100 and every 10,000
 *     records, against the reference: a plain idempotent producer (acks=all, batches pipelined)
 *     sending the same records. Each figure is the median of the rounds; the ratio is transactional
 *     over idempotent records/s.
 *  2. fetch cost of read_committed against read_uncommitted: a consumer reads a partition holding
 *     transactions of 100 records (one in ten aborted) from the start to its end; the medians of
 *     records/s and the ratio of the two read times.
 * Knobs: SLUICE_BENCH_ROUNDS (3), SLUICE_BENCH_TXN_RECORDS (100000 records per measurement, 100 B each).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@sluice/client';
import { startBroker } from '../src/index.js';
import { median } from './support/proc.js';

const ROUNDS = Number(process.env.SLUICE_BENCH_ROUNDS ?? 3);
const RECORDS = Number(process.env.SLUICE_BENCH_TXN_RECORDS ?? 100_000);
const VALUE = Buffer.alloc(100, 'x');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-txn-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const broker = await startBroker({ dataDir: scratch, host: '127.0.0.1', port: 0, logSink: null });
const bootstrap = `127.0.0.1:${broker.port}`;
const admin = new Admin({ brokers: [bootstrap] });
let topics = 0;

async function freshTopic(): Promise<string> {
  const topic = `bench-${topics++}`;
  await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
  return topic;
}

const records = (topic: string, n: number) => Array.from({ length: n }, () => ({ topic, partition: 0, value: VALUE }));

/** Records/s of an idempotent producer sending RECORDS in pipelined batches of 10,000 (the reference). */
async function idempotent(): Promise<number> {
  const topic = await freshTopic();
  const producer = new Producer({ brokers: [bootstrap], enableIdempotence: true, acks: 'all', lingerMs: 5 });
  await producer.sendBatch(records(topic, 10)); // connected, producer id known
  const started = performance.now();
  const sends = [];
  for (let sent = 0; sent < RECORDS; sent += 10_000) sends.push(producer.sendBatch(records(topic, Math.min(10_000, RECORDS - sent))));
  await Promise.all(sends);
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return RECORDS / seconds;
}

/** Records/s of a transactional producer committing every `size` records; every `abortEvery`-th transaction is aborted instead. */
async function transactional(size: number, topic?: string, abortEvery = 0): Promise<{ perSec: number; topic: string; committed: number }> {
  const target = topic ?? (await freshTopic());
  const producer = new Producer({ brokers: [bootstrap], transactionalId: `bench-${target}-${size}`, lingerMs: 5 });
  await producer.initTransactions();
  let committed = 0;
  const started = performance.now();
  for (let sent = 0, n = 0; sent < RECORDS; sent += size, n++) {
    const count = Math.min(size, RECORDS - sent);
    producer.beginTransaction();
    await producer.sendBatch(records(target, count));
    if (abortEvery > 0 && n % abortEvery === abortEvery - 1) await producer.abortTransaction();
    else {
      await producer.commitTransaction();
      committed += count;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return { perSec: RECORDS / seconds, topic: target, committed };
}

/** Milliseconds for a consumer to read `expected` records of the topic from the start. */
async function readAll(topic: string, isolationLevel: 'read_committed' | 'read_uncommitted', expected: number): Promise<number> {
  const consumer = new Consumer({ brokers: [bootstrap], isolationLevel, autoOffsetReset: 'earliest', fetchMaxWaitMs: 10 });
  await consumer.assign([{ topic, partition: 0 }]);
  const started = performance.now();
  let read = 0;
  while (read < expected) {
    const batch = await consumer.poll();
    if (!batch) break;
    read += batch.records.length;
  }
  const ms = performance.now() - started;
  await consumer.close();
  if (read !== expected) throw new Error(`${isolationLevel}: read ${read} records, expected ${expected}`);
  return ms;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

try {
  console.log(`transactional produce, ${fmt(RECORDS)} records of ${VALUE.length} B per measurement, ${ROUNDS} round(s), medians:`);
  const plain: number[] = [];
  const small: number[] = [];
  const large: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, so drift of the machine hits all three alike.
    plain.push(await idempotent());
    small.push((await transactional(100)).perSec);
    large.push((await transactional(10_000)).perSec);
  }
  const reference = median(plain);
  console.log(`  idempotent (reference)        ${fmt(reference).padStart(10)} records/s`);
  console.log(`  transactions of 100 records   ${fmt(median(small)).padStart(10)} records/s  ${(median(small) / reference).toFixed(3)}x`);
  console.log(`  transactions of 10,000        ${fmt(median(large)).padStart(10)} records/s  ${(median(large) / reference).toFixed(3)}x`);

  const { topic, committed } = await transactional(100, undefined, 10);
  const uncommittedMs: number[] = [];
  const committedMs: number[] = [];
  // One warm-up read, then the two in alternating order, so neither always reads first.
  await readAll(topic, 'read_uncommitted', RECORDS);
  for (let round = 0; round < ROUNDS * 2; round++) {
    if (round % 2 === 0) {
      uncommittedMs.push(await readAll(topic, 'read_uncommitted', RECORDS));
      committedMs.push(await readAll(topic, 'read_committed', committed));
    } else {
      committedMs.push(await readAll(topic, 'read_committed', committed));
      uncommittedMs.push(await readAll(topic, 'read_uncommitted', RECORDS));
    }
  }
  const u = median(uncommittedMs);
  const c = median(committedMs);
  console.log(`fetch of ${fmt(RECORDS)} records in transactions of 100 (one in ten aborted), medians:`);
  console.log(`  read_uncommitted (reference)  ${fmt((RECORDS / u) * 1000).padStart(10)} records/s  ${u.toFixed(0)} ms`);
  console.log(`  read_committed                ${fmt((committed / c) * 1000).padStart(10)} records/s  ${c.toFixed(0)} ms  ${(c / u).toFixed(3)}x the time (${fmt(committed)} records delivered)`);
} finally {
  await admin.close();
  await broker.stop();
}
