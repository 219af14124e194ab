/**
 * Producer and consumer throughput of @sluice/client beside kafkajs 2.2.4 and @platformatic/kafka
 * 1.x against the same broker in the same run (the broker runs in its own process so it does not
 * share the clients' event loop). Every client gets the same work: records of 100 B and 1 KiB,
 * sent in calls of 500 records with up to 8 calls outstanding, then read back from the beginning
 * through a consumer group. Consumer time runs from the first record to the last, so group-join
 * time is not counted for anyone. Each figure is the best of three rounds, clients interleaved.
 * @sluice/client's idempotent producer (acks=all, up to five batches per partition in flight) has a
 * producer row of its own.
 */
import { startBrokerProcess } from '@sluice/test-peers';
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { Admin, Consumer, Producer } from '../src/index.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;

interface PlatformaticProducer {
  send(o: { messages: Array<{ topic: string; value: Buffer; key?: Buffer }>; acks?: number }): Promise<unknown>;
  close(): Promise<void>;
}
interface PlatformaticStream extends AsyncIterable<{ value: Buffer }> {
  close(): Promise<void>;
}
interface PlatformaticConsumer {
  consume(o: { topics: string[]; mode: string; autocommit: boolean; maxWaitTime?: number }): Promise<PlatformaticStream>;
  close(force?: boolean): Promise<void>;
}
interface PlatformaticModule {
  Producer: new (o: Record<string, unknown>) => PlatformaticProducer;
  Consumer: new (o: Record<string, unknown>) => PlatformaticConsumer;
}

const CHUNK = 500;
const WINDOW = 8;
const ROUNDS = 3;

interface Workload {
  name: string;
  size: number;
  count: number;
}

interface Result {
  seconds: number;
  count: number;
  bytes: number;
}

/** Runs `sendChunk` over the records in chunks, at most WINDOW at a time. */
async function windowed(count: number, sendChunk: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = Math.min(CHUNK, count - next);
      next += n;
      await sendChunk(n);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

type Client = {
  name: string;
  /** Shown in the producer tables only (a producer setting; it would consume like another row). */
  producerOnly?: boolean;
  produce(bootstrap: string, topic: string, w: Workload): Promise<Result>;
  consume(bootstrap: string, topic: string, w: Workload): Promise<Result>;
};

async function sluiceProduce(bootstrap: string, topic: string, w: Workload, enableIdempotence: boolean): Promise<Result> {
  const producer = new Producer({ brokers: [bootstrap], lingerMs: 2, batchSize: 512 * 1024, clientId: 'bench', enableIdempotence });
  await producer.connect();
  await producer.cluster.ensureTopics([topic]);
  const value = Buffer.alloc(w.size, 0x61);
  const records = Array.from({ length: CHUNK }, () => ({ topic, value }));
  const started = performance.now();
  await windowed(w.count, (n) => producer.sendBatch(n === CHUNK ? records : records.slice(0, n)));
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return { seconds, count: w.count, bytes: w.count * w.size };
}

const sluice: Client = {
  name: '@sluice/client',
  produce: (bootstrap, topic, w) => sluiceProduce(bootstrap, topic, w, false),
  async consume(bootstrap, topic, w) {
    const consumer = new Consumer({ brokers: [bootstrap], groupId: `bench-${topic}`, autoOffsetReset: 'earliest', clientId: 'bench' });
    await consumer.subscribe([topic]);
    let count = 0;
    let bytes = 0;
    let started = 0;
    for await (const r of consumer) {
      if (count === 0) started = performance.now();
      count++;
      bytes += r.value!.length;
      if (count === w.count) break;
    }
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    return { seconds, count, bytes };
  },
};

const sluiceIdempotent: Client = {
  name: '@sluice/client idempotent',
  producerOnly: true,
  produce: (bootstrap, topic, w) => sluiceProduce(bootstrap, topic, w, true),
  consume: (bootstrap, topic, w) => sluice.consume(bootstrap, topic, w),
};

const kafkajs: Client = {
  name: 'kafkajs 2.2.4',
  async produce(bootstrap, topic, w) {
    const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(w.size, 0x61);
    const messages = Array.from({ length: CHUNK }, () => ({ value }));
    const started = performance.now();
    await windowed(w.count, (n) => producer.send({ topic, messages: n === CHUNK ? messages : messages.slice(0, n) }));
    const seconds = (performance.now() - started) / 1000;
    await producer.disconnect();
    return { seconds, count: w.count, bytes: w.count * w.size };
  },
  async consume(bootstrap, topic, w) {
    const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `bench-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    let bytes = 0;
    let started = 0;
    let finished = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (count === 0) started = performance.now();
            count++;
            bytes += message.value!.length;
            if (count === w.count) {
              finished = performance.now();
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return { seconds: (finished - started) / 1000, count, bytes };
  },
};

function platformatic(mod: PlatformaticModule): Client {
  return {
    name: '@platformatic/kafka 1.x',
    async produce(bootstrap, topic, w) {
      const producer = new mod.Producer({ clientId: 'bench', bootstrapBrokers: [bootstrap] });
      const value = Buffer.alloc(w.size, 0x61);
      const messages = Array.from({ length: CHUNK }, () => ({ topic, value }));
      await producer.send({ messages: messages.slice(0, 1) }); // connect and learn metadata
      const started = performance.now();
      await windowed(w.count - 1, (n) => producer.send({ messages: n === CHUNK ? messages : messages.slice(0, n) }));
      const seconds = (performance.now() - started) / 1000;
      await producer.close();
      return { seconds, count: w.count, bytes: w.count * w.size };
    },
    async consume(bootstrap, topic, w) {
      const consumer = new mod.Consumer({ clientId: 'bench', groupId: `bench-${topic}`, bootstrapBrokers: [bootstrap] });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      let count = 0;
      let bytes = 0;
      let started = 0;
      for await (const m of stream) {
        if (count === 0) started = performance.now();
        count++;
        bytes += m.value.length;
        if (count === w.count) break;
      }
      const seconds = (performance.now() - started) / 1000;
      await stream.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
      return { seconds, count, bytes };
    },
  };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const broker = await startBrokerProcess();
  const bootstrap = broker.bootstrap;
  const admin = new Admin({ brokers: [bootstrap] });
  const clients: Client[] = [sluice, sluiceIdempotent, kafkajs];
  try {
    clients.push(platformatic((await import('@platformatic/kafka')) as unknown as PlatformaticModule));
  } catch (error) {
    console.log(`@platformatic/kafka could not be loaded (${(error as Error).message}); comparing with kafkajs only`);
  }
  const workloads: Workload[] = [
    { name: '100 B', size: 100, count: 300_000 },
    { name: '1 KiB', size: 1024, count: 100_000 },
  ];
  let topicNo = 0;
  const newTopic = async (): Promise<string> => {
    const topic = `bench-${process.pid}-${topicNo++}`;
    await admin.createTopics([{ topic, numPartitions: 4 }]);
    return topic;
  };
  // Warm-up: JIT and connection set-up for every client.
  for (const c of clients.filter((x) => !x.producerOnly)) {
    const topic = await newTopic();
    const w = { name: 'warm-up', size: 100, count: 20_000 };
    await c.produce(bootstrap, topic, w);
    await c.consume(bootstrap, topic, w);
  }
  console.log(`records sent in calls of ${CHUNK}, ${WINDOW} calls outstanding; 4 partitions; broker in its own process; best of ${ROUNDS} interleaved rounds`);
  for (const w of workloads) {
    for (const phase of ['producer', 'consumer'] as const) {
      const rows: Array<{ client: string; r: Result }> = [];
      const best = new Map<string, Result>();
      // Rounds interleave the clients so a burst of load on this shared machine hits all alike;
      // each client's best round counts.
      const inPhase = clients.filter((c) => phase === 'producer' || !c.producerOnly);
      for (let round = 0; round < ROUNDS; round++) {
        for (const c of inPhase) {
          const topic = await newTopic();
          gc();
          const produced = await c.produce(bootstrap, topic, w);
          gc();
          const r = phase === 'producer' ? produced : await c.consume(bootstrap, topic, w);
          if (r.count !== w.count) throw new Error(`${c.name} ${phase}: ${r.count} of ${w.count} records`);
          const prev = best.get(c.name);
          if (prev === undefined || r.seconds < prev.seconds) best.set(c.name, r);
        }
      }
      for (const c of inPhase) rows.push({ client: c.name, r: best.get(c.name)! });
      const rate = (r: Result) => r.count / r.seconds;
      const kjs = rows.find((x) => x.client.startsWith('kafkajs'))!;
      const plat = rows.find((x) => x.client.startsWith('@platformatic'));
      console.log(`\n${phase}, ${w.name} records × ${fmt(w.count)}`);
      console.log(`  ${'client'.padEnd(26)}${'msgs/s'.padStart(12)}${'MB/s'.padStart(10)}${'vs kafkajs'.padStart(12)}${'vs platformatic'.padStart(17)}`);
      for (const { client, r } of rows) {
        const vsPlat = plat ? `${fmt(rate(r) / rate(plat.r), 2)}×` : 'n/a';
        console.log(
          `  ${client.padEnd(26)}${fmt(rate(r)).padStart(12)}${fmt(r.bytes / r.seconds / 1e6, 1).padStart(10)}${`${fmt(rate(r) / rate(kjs.r), 2)}×`.padStart(12)}${vsPlat.padStart(17)}`,
        );
      }
    }
  }
  admin.close();
  await broker.stop();
}

await main();
