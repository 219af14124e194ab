/**
 * The exactly-once acceptance test: a consume-transform-produce processor (confluent-kafka, as a
 * child process; test/clients/confluent_kafka_eos_processor.py) reads an input topic in a group,
 * writes each record transformed and commits the consumed offsets inside each transaction. The
 * test kill -9s the processor and kill -9s and restarts the broker at random points, many times;
 * afterwards a read_committed consumer of the output sees every input record transformed exactly
 * once, in order per key, and nothing of an aborted transaction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, Producer } from '@sluice/client';
import { pythonPath, requirePeers } from '@sluice/test-peers';
import { tempDir } from '../helpers.js';

const PROCESSOR = fileURLToPath(new URL('../../../test/clients/confluent_kafka_eos_processor.py', import.meta.url));
const BROKER_ENTRY = fileURLToPath(new URL('../../src/index.js', import.meta.url));
const INPUT = 'eos-in';
const OUTPUT = 'eos-out';
const GROUP = 'eos-processors';
const PARTITIONS = 3;
const KEYS = 12;
const PER_KEY = 100;
/** Chaos rounds: each kills the processor or the broker at a random moment. */
const ROUNDS = 10;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A broker in its own process on a fixed port and data directory, so it can be killed with -9 and started again. */
class BrokerProcess {
  private child: ChildProcess | null = null;

  constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const source = `const { startBroker } = await import(${JSON.stringify(BROKER_ENTRY)});
await startBroker({ dataDir: ${JSON.stringify(this.dataDir)}, host: '127.0.0.1', port: ${this.port}, logSink: null, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500, 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 3 });
process.stdout.write('ready\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${err}`)));
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** The processor as a child process; `running` turns false when it exits (an error) or is killed. */
class Processor {
  private child: ChildProcess | null = null;
  starts = 0;
  output = '';

  constructor(private readonly bootstrap: string) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.starts++;
    const child = spawn(pythonPath(), [PROCESSOR, this.bootstrap, INPUT, OUTPUT, GROUP, 'eos-processor', 'processor-1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-6000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {
      // not yet (the broker may be restarting)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('exactly once: a consume-transform-produce loop survives kill -9 of the processor and of the broker, many times', { timeout: 150_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const broker = new BrokerProcess(await freePort(), tempDir('sluice-eos-'));
  await broker.start();
  const processor = new Processor(broker.bootstrap);
  t.after(async () => {
    await processor.kill();
    await broker.kill();
  });

  // The input: KEYS keys, each on one partition, PER_KEY numbered values per key.
  const admin = new Admin({ brokers: [broker.bootstrap] });
  await admin.createTopics([
    { topic: INPUT, numPartitions: PARTITIONS, replicationFactor: 1 },
    { topic: OUTPUT, numPartitions: PARTITIONS, replicationFactor: 1 },
  ]);
  const feeder = new Producer({ brokers: [broker.bootstrap], enableIdempotence: true, acks: 'all' });
  const input = [];
  for (let i = 0; i < PER_KEY; i++) for (let k = 0; k < KEYS; k++) input.push({ topic: INPUT, partition: k % PARTITIONS, key: `k${k}`, value: `k${k}-${i}` });
  await feeder.sendBatch(input);
  await feeder.close();
  const inputEnds = await admin.listOffsets(INPUT);
  await admin.close();

  // Chaos while it works: at a random moment, kill the processor, or kill the broker and start it again.
  processor.start();
  let brokerKills = 0;
  let processorKills = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(500 + Math.random() * 2000);
    if (Math.random() < 0.5) {
      await processor.kill();
      processorKills++;
    } else {
      await broker.kill();
      brokerKills++;
      await sleep(Math.random() * 500);
      await broker.start();
    }
    if (!processor.running) processor.start();
  }

  // Then it runs to the end: the group's committed offsets reach the input's end.
  const probe = new Admin({ brokers: [broker.bootstrap] });
  t.after(() => probe.close());
  await until(
    'the processor to commit every input offset',
    async () => {
      if (!processor.running) processor.start();
      const committed = await probe.listConsumerGroupOffsets(GROUP);
      return inputEnds.every((e) => committed.find((c) => c.topic === INPUT && c.partition === e.partition)?.offset === e.offset);
    },
    90_000,
  );
  await processor.kill();

  // A read_committed consumer of the output: each input exactly once, in order per key.
  const outputEnds = await probe.listOffsets(OUTPUT, -1n, undefined, 1);
  const consumer = new Consumer({ brokers: [broker.bootstrap], isolationLevel: 'read_committed', autoOffsetReset: 'earliest', fetchMaxWaitMs: 100 });
  t.after(() => consumer.close());
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: OUTPUT, partition })));
  const byKey = new Map<string, string[]>();
  let read = 0;
  while (read < input.length) {
    const batch = await Promise.race([consumer.poll(), sleep(10_000).then(() => null)]);
    assert.ok(batch, `read_committed stalled after ${read} of ${input.length} outputs (LSOs ${outputEnds.map((e) => String(e.offset))})`);
    for (const r of batch.records) {
      const key = r.key!.toString();
      byKey.set(key, [...(byKey.get(key) ?? []), r.value!.toString()]);
      read++;
    }
  }
  for (let k = 0; k < KEYS; k++) {
    const want = Array.from({ length: PER_KEY }, (_, i) => `k${k}-${i}:T`);
    assert.deepEqual(byKey.get(`k${k}`), want, `key k${k}: each input transformed exactly once, in order`);
  }
  // Nothing more past them (a duplicate would come after the expected records).
  const extra = await Promise.race([consumer.poll(), sleep(2000).then(() => null)]);
  assert.equal(extra, null, `unexpected output after the last input: ${extra?.records.map((r) => r.value?.toString())}`);
  // What read_uncommitted sees besides: the output of aborted transactions (the kills' work).
  const uncommitted = new Consumer({ brokers: [broker.bootstrap], isolationLevel: 'read_uncommitted', autoOffsetReset: 'earliest', fetchMaxWaitMs: 100 });
  t.after(() => uncommitted.close());
  await uncommitted.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: OUTPUT, partition })));
  let all = 0;
  for (;;) {
    const batch = await Promise.race([uncommitted.poll(), sleep(2000).then(() => null)]);
    if (!batch) break;
    all += batch.records.length;
  }
  t.diagnostic(`${processorKills} processor kills, ${brokerKills} broker restarts, ${processor.starts} processor starts; ${all - input.length} output records of aborted transactions hidden from read_committed`);
});
