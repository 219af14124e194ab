/**
 * Word count throughput of @sluice/streams (in-memory and LMDB stores) beside the reference: a
 * plain consume→produce loop doing the same work by hand (split lines, count words in a Map,
 * produce each updated count) with @sluice/client, in the same run against the same broker (its
 * own process). Streams adds a repartition topic, a changelog topic and commits every 100 ms of
 * work under at_least_once (commit.interval.ms 1000). Then restore speed: a fresh instance
 * rebuilding the store from the changelog. Best of two rounds each.
 */
import { startBrokerProcess } from '@sluice/test-peers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@sluice/client';
import { KafkaStreams } from '../src/index.js';
import { wordCountTopology } from '../examples/word-count.js';

const LINES = 20_000;
const WORDS_PER_LINE = 5;
const VOCAB = 2_000;
const ROUNDS = 2;

async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fill(bootstrap: string, topic: string): Promise<void> {
  const producer = new Producer({ brokers: [bootstrap], lingerMs: 5 });
  let seed = 1;
  const word = () => `w${(seed = (seed * 1103515245 + 12345) % 2 ** 31) % VOCAB}`;
  for (let i = 0; i < LINES; i += 1000) {
    const batch = [];
    for (let j = i; j < i + 1000; j++) batch.push({ topic, key: `l${j}`, value: Array.from({ length: WORDS_PER_LINE }, word).join(' ') });
    await producer.sendBatch(batch);
  }
  await producer.close();
}

/** The reference: consume lines, count words in a Map, produce each new count; commit offsets at the end. */
async function plainLoop(bootstrap: string, input: string, output: string): Promise<number> {
  const consumer = new Consumer<Buffer | null, Buffer | null>({ brokers: [bootstrap], groupId: `plain-${input}-${Date.now()}`, autoOffsetReset: 'earliest', enableAutoCommit: false });
  const producer = new Producer({ brokers: [bootstrap], lingerMs: 5, acks: 'all' });
  const counts = new Map<string, number>();
  await consumer.subscribe([input]);
  let lines = 0;
  let start = 0;
  while (lines < LINES) {
    const batch = await consumer.poll(1000);
    if (!batch) break;
    if (start === 0) start = performance.now();
    const out = [];
    for (const r of batch.records) {
      lines++;
      for (const w of String(r.value).toLowerCase().split(/\W+/)) {
        if (!w) continue;
        const n = (counts.get(w) ?? 0) + 1;
        counts.set(w, n);
        const v = Buffer.alloc(8);
        v.writeBigInt64BE(BigInt(n));
        out.push({ topic: output, key: w, value: v });
      }
    }
    void producer.sendBatch(out);
  }
  await producer.flush();
  await consumer.commit();
  const seconds = (performance.now() - start) / 1000;
  await consumer.close();
  await producer.close();
  return LINES / seconds;
}

async function streamsRun(bootstrap: string, input: string, output: string, store: 'in-memory' | 'persistent', appId: string, stateDir: string): Promise<number> {
  const streams = new KafkaStreams(wordCountTopology(input, output, store), { 'application.id': appId, 'bootstrap.servers': bootstrap, 'state.dir': stateDir, 'commit.interval.ms': 1000, 'max.poll.records': 1000 });
  await streams.start();
  await until(() => streams.processedRecords > 0, 'first record');
  const start = performance.now();
  // Every line, then every word again from the repartition topic.
  await until(() => streams.processedRecords >= LINES * (1 + WORDS_PER_LINE), `${store} streams`);
  const seconds = (performance.now() - start) / 1000;
  await streams.close();
  return LINES / seconds;
}

async function restoreRun(bootstrap: string, input: string, output: string, appId: string, stateDir: string): Promise<{ rate: number; records: number }> {
  const streams = new KafkaStreams(wordCountTopology(input, output, 'in-memory'), { 'application.id': appId, 'bootstrap.servers': bootstrap, 'state.dir': stateDir });
  let begin = 0;
  let records = 0;
  let end = 0;
  streams.setGlobalStateRestoreListener({
    onRestoreStart: () => void (begin ||= performance.now()),
    onBatchRestored: (_t, _p, _s, _o, n) => void (records += n),
    onRestoreEnd: () => void (end = performance.now()),
  });
  await streams.start();
  await until(() => streams.state() === 'RUNNING' && end > 0, 'restore');
  await streams.close();
  return { rate: records / ((end - begin) / 1000), records };
}

async function main(): Promise<void> {
  const broker = await startBrokerProcess();
  const admin = new Admin({ brokers: [broker.bootstrap] });
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-streams-bench-state-'));
  try {
    await admin.createTopics([{ topic: 'bench-lines', numPartitions: 4 }]);
    await fill(broker.bootstrap, 'bench-lines');
    console.log(`word count over ${LINES} lines of ${WORDS_PER_LINE} words (${VOCAB} distinct), 4 partitions, broker in its own process; lines/s, best of ${ROUNDS}`);
    const best = { plain: 0, memory: 0, lmdb: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      await admin.createTopics([{ topic: `out-plain-${round}`, numPartitions: 4 }, { topic: `out-mem-${round}`, numPartitions: 4 }, { topic: `out-lmdb-${round}`, numPartitions: 4 }]);
      best.plain = Math.max(best.plain, await plainLoop(broker.bootstrap, 'bench-lines', `out-plain-${round}`));
      best.memory = Math.max(best.memory, await streamsRun(broker.bootstrap, 'bench-lines', `out-mem-${round}`, 'in-memory', `bench-mem-${round}`, stateDir));
      best.lmdb = Math.max(best.lmdb, await streamsRun(broker.bootstrap, 'bench-lines', `out-lmdb-${round}`, 'persistent', `bench-lmdb-${round}`, stateDir));
    }
    const row = (name: string, rate: number) => console.log(`  ${name.padEnd(44)}${Math.round(rate).toLocaleString('en-US').padStart(12)} lines/s${(rate / best.plain).toFixed(2).padStart(8)}x`);
    console.log(`  ${'run'.padEnd(44)}${'throughput'.padStart(20)}${'vs plain'.padStart(9)}`);
    row('plain consume→produce loop (reference)', best.plain);
    row('@sluice/streams, in-memory store', best.memory);
    row('@sluice/streams, LMDB store', best.lmdb);
    rmSync(join(stateDir, 'bench-mem-0'), { recursive: true, force: true });
    const restore = await restoreRun(broker.bootstrap, 'bench-lines', 'out-mem-0', 'bench-mem-0', stateDir);
    console.log(`restore of the in-memory store from its changelog: ${restore.records} records at ${Math.round(restore.rate).toLocaleString('en-US')} records/s`);
  } finally {
    admin.close();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
