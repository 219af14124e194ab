/**
 * Broker throughput and latency, each figure beside references measured in the same run:
 *  - produce: 1 KiB records, acks=1, 256 records (~260 KiB) per batch, pipelined over 4
 *    connections (one partition each) by a load generator that re-sends pre-encoded requests, so
 *    the client costs next to nothing; against Node's raw loopback socket throughput (a sink
 *    process) and NATS JetStream (nats-server -js, file storage, async publish of 1 KiB messages);
 *  - consume: every produced record fetched back (one fetch in flight per partition, as Kafka
 *    consumers do), against the same references (JetStream: a consumer reading the whole stream);
 *  - end-to-end latency p50/p99 at a fixed 1,000 records/s (produce → long-polling fetch), beside
 *    JetStream's publish → push delivery at the same rate.
 * The broker runs as `sluice start` in its own process, like nats-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ApiKey, buildRecordBatch, decodeResponse, encodeRequest, BatchOffsets, type RequestBodies, type ResponseBodies } from '@sluice/protocol';

const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 256;
const PARTITIONS = 4;
const IN_FLIGHT_PER_CONNECTION = 8;
const PRODUCE_SECONDS = Number(process.env.SLUICE_BENCH_SECONDS ?? 6);
const NATS_MESSAGES = Number(process.env.SLUICE_BENCH_NATS_MESSAGES ?? 200_000);
const LATENCY_RATE = 1000;
const LATENCY_SECONDS = 5;
const CLI = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A pipelined protocol connection: requests out, responses matched in order. */
class Conn {
  // Received chunks are kept as a list and joined once per frame (never re-copied per chunk).
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private correlationId = 0;
  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      for (;;) {
        if (this.buffered < 4) return;
        let head = this.chunks[0];
        if (head.length < 4) head = this.join();
        const size = head.readInt32BE(0);
        if (this.buffered < 4 + size) return;
        if (head.length < 4 + size) head = this.join();
        const frame = head.subarray(4, 4 + size);
        const rest = head.subarray(4 + size);
        this.chunks = rest.length ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
        this.buffered -= 4 + size;
        this.waiting.shift()!(frame);
      }
    });
  }
  private join(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
  static async open(port: number): Promise<Conn> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return new Conn(s);
  }
  /** Sends pre-encoded request bytes (correlation id patched in place). */
  sendRaw(bytes: Buffer): Promise<Buffer> {
    bytes.writeInt32BE(++this.correlationId, 8);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(bytes);
    });
  }
  async send<K extends keyof RequestBodies & keyof ResponseBodies>(apiKey: K, version: number, body: RequestBodies[K]): Promise<ResponseBodies[K]> {
    const frame = await this.sendRaw(encodeRequest({ apiKey, apiVersion: version, correlationId: 0, clientId: 'bench' } as never, body));
    return decodeResponse(apiKey, version, frame).body;
  }
  close(): void {
    this.socket.destroy();
  }
}

async function startSluice(): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', join(scratch, 'sluice')], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`sluice exited: ${err}`)));
  });
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Node's raw loopback throughput: bytes written into a socket that a sink process discards. */
async function rawLoopback(totalBytes: number): Promise<number> {
  const sink = spawn(
    process.execPath,
    ['-e', `const n=require('net');let got=0;const s=n.createServer(c=>c.on('data',d=>{got+=d.length;if(got>=${totalBytes})c.end('x')}));s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(sink);
  const [line] = (await once(sink.stdout!, 'data')) as [Buffer];
  const socket = connect(Number(line.toString().trim()), '127.0.0.1');
  await once(socket, 'connect');
  const chunk = randomBytes(1 << 20);
  const started = performance.now();
  const done = once(socket, 'data');
  let sent = 0;
  while (sent < totalBytes) {
    sent += chunk.length;
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  sink.kill();
  return totalBytes / seconds;
}

function produceRequest(topic: string, partition: number): Buffer {
  const value = randomBytes(RECORD_BYTES);
  const records = buildRecordBatch(
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: Buffer.from(`key-${i}`), value, timestamp: BigInt(Date.now()) })),
  );
  return encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 0, clientId: 'bench' }, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
}

async function sluiceProduce(port: number, topic: string): Promise<{ records: number; bytes: number; seconds: number }> {
  const admin = await Conn.open(port);
  await admin.send(ApiKey.CreateTopics, 7, { topics: [{ name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  admin.close();
  const conns = await Promise.all(Array.from({ length: PARTITIONS }, () => Conn.open(port)));
  const requests = conns.map((_, p) => Array.from({ length: IN_FLIGHT_PER_CONNECTION }, () => produceRequest(topic, p)));
  const batchBytes = requests[0][0].length;
  let batches = 0;
  const started = performance.now();
  const deadline = started + PRODUCE_SECONDS * 1000;
  await Promise.all(
    conns.map((conn, p) =>
      Promise.all(
        requests[p].map(async (bytes) => {
          while (performance.now() < deadline) {
            const frame = await conn.sendRaw(bytes);
            // Response: correlation id, then (v9, flexible) tagged fields... check the error code.
            const body = decodeResponse(ApiKey.Produce, 9, frame).body;
            const code = body.responses[0].partitionResponses[0].errorCode;
            if (code !== 0) throw new Error(`produce error ${code}`);
            batches++;
          }
        }),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of conns) c.close();
  return { records: batches * RECORDS_PER_BATCH, bytes: batches * batchBytes, seconds };
}

async function sluiceConsume(port: number, topic: string, expected: number): Promise<{ records: number; bytes: number; seconds: number }> {
  const conns = await Promise.all(Array.from({ length: PARTITIONS }, () => Conn.open(port)));
  let records = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    conns.map(async (conn, partition) => {
      let offset = 0n;
      for (;;) {
        const body = await conn.send(ApiKey.Fetch, 12, {
          replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 4 << 20 }] }],
          forgottenTopicsData: [], rackId: '',
        });
        const p = body.responses[0].partitions[0];
        const data = p.records;
        if (!data || data.length === 0) {
          if (offset >= p.highWatermark) return;
          continue;
        }
        for (let pos = 0; pos + 61 <= data.length; ) {
          const size = data.readInt32BE(pos + BatchOffsets.batchLength) + 12;
          if (pos + size > data.length) break;
          records += data.readInt32BE(pos + BatchOffsets.recordCount);
          offset = data.readBigInt64BE(pos) + BigInt(data.readInt32BE(pos + BatchOffsets.lastOffsetDelta)) + 1n;
          bytes += size;
          pos += size;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of conns) c.close();
  if (records !== expected) throw new Error(`consumed ${records} records, produced ${expected}`);
  return { records, bytes, seconds };
}

async function sluiceLatency(port: number, topic: string): Promise<number[]> {
  const admin = await Conn.open(port);
  await admin.send(ApiKey.CreateTopics, 7, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  admin.close();
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
  const value = Buffer.alloc(RECORD_BYTES);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    value.writeDoubleBE(performance.now(), RECORD_BYTES - 8);
    const records = buildRecordBatch([{ key: null, value, headers: [] }]);
    void producer.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  }
  await consuming;
  producer.close();
  consumer.close();
  return latencies.sort((a, b) => a - b);
}

/** librdkafka's producer (kcat) writing 1 KiB lines from a file; null when kcat is not installed. */
async function kcatProduce(port: number, records: number): Promise<number | null> {
  if (!existsSync('/usr/bin/kcat')) return null;
  const line = randomBytes(RECORD_BYTES).toString('base64').slice(0, RECORD_BYTES - 1) + '\n';
  const file = join(scratch, 'kcat-input.txt');
  writeFileSync(file, line.repeat(records));
  const started = performance.now();
  const child = spawn('/usr/bin/kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', 'kcat-bench', '-p', '0', '-X', 'acks=1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.kbytes=1048576', '-l', file], { stdio: 'inherit' });
  children.push(child);
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`kcat exited with ${code}`);
  return records / ((performance.now() - started) / 1000);
}

interface NatsResult {
  publish: { msgs: number; seconds: number };
  consume: { msgs: number; seconds: number };
  latencies: number[];
}

async function nats(): Promise<NatsResult | string> {
  if (!existsSync('/usr/sbin/nats-server') && !existsSync('/usr/bin/nats-server')) return 'nats-server not installed (apt-get install nats-server)';
  const natsBin = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : '/usr/bin/nats-server';
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const server = spawn(natsBin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(scratch, 'nats')], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(server);
  let log = '';
  await new Promise<void>((resolve) => server.stderr!.on('data', (b: Buffer) => ((log += b.toString()), /Server is ready/.test(log) && resolve())));
  const { connect: natsConnect, RetentionPolicy, StorageType, AckPolicy, DeliverPolicy } = await import('nats');
  const nc = await natsConnect({ servers: `127.0.0.1:${port}` });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench'], storage: StorageType.File, retention: RetentionPolicy.Limits });
  const js = nc.jetstream();
  const payload = randomBytes(RECORD_BYTES);
  // Async publish with a sliding window of unacknowledged messages.
  const window = 4096;
  const ring: Promise<unknown>[] = new Array(window);
  const started = performance.now();
  for (let i = 0; i < NATS_MESSAGES; i++) {
    if (i >= window) await ring[i % window];
    ring[i % window] = js.publish('bench', payload);
  }
  await Promise.all(ring.filter(Boolean));
  const publishSeconds = (performance.now() - started) / 1000;

  await jsm.consumers.add('BENCH', { durable_name: 'reader', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  const consumer = await js.consumers.get('BENCH', 'reader');
  const consumeStarted = performance.now();
  let got = 0;
  const messages = await consumer.consume({ max_messages: 10_000 });
  for await (const m of messages) {
    void m;
    if (++got >= NATS_MESSAGES) break;
  }
  const consumeSeconds = (performance.now() - consumeStarted) / 1000;

  // Latency at the same fixed rate: publish (awaiting the stream's ack) → push delivery.
  await jsm.streams.add({ name: 'LAT', subjects: ['lat'], storage: StorageType.File });
  await jsm.consumers.add('LAT', { durable_name: 'lat', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  const latConsumer = await js.consumers.get('LAT', 'lat');
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  const latMessages = await latConsumer.consume({ max_messages: 1000 });
  const reading = (async () => {
    for await (const m of latMessages) {
      latencies.push(performance.now() - Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).readDoubleBE(RECORD_BYTES - 8));
      if (latencies.length >= total) break;
    }
  })();
  const value = Buffer.alloc(RECORD_BYTES);
  const latStarted = performance.now();
  for (let i = 0; i < total; i++) {
    const due = latStarted + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    value.writeDoubleBE(performance.now(), RECORD_BYTES - 8);
    void js.publish('lat', Buffer.from(value));
  }
  await reading;
  await nc.close();
  server.kill('SIGTERM');
  await once(server, 'exit');
  return { publish: { msgs: NATS_MESSAGES, seconds: publishSeconds }, consume: { msgs: got, seconds: consumeSeconds }, latencies: latencies.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  console.log(`1 KiB records; Sluice: ${RECORDS_PER_BATCH} records/batch, ${PARTITIONS} partitions × ${IN_FLIGHT_PER_CONNECTION} requests in flight, acks=1, ${PRODUCE_SECONDS}s; machine: ${(await import('node:os')).cpus().length} cores`);
  const rawBytesPerSec = await rawLoopback(2 * 2 ** 30);
  console.log(`reference  raw loopback socket (Node → sink process)      ${fmt(rawBytesPerSec / 2 ** 20)} MiB/s`);

  const natsResult = await nats();
  let natsPublishRate = NaN;
  let natsConsumeRate = NaN;
  if (typeof natsResult === 'string') {
    console.log(`reference  NATS JetStream: skipped — ${natsResult}`);
  } else {
    natsPublishRate = natsResult.publish.msgs / natsResult.publish.seconds;
    natsConsumeRate = natsResult.consume.msgs / natsResult.consume.seconds;
    console.log(`reference  NATS JetStream async publish (file store)      ${fmt(natsPublishRate)} msgs/s  ${fmt((natsPublishRate * RECORD_BYTES) / 2 ** 20)} MiB/s`);
    console.log(`reference  NATS JetStream consume                          ${fmt(natsConsumeRate)} msgs/s  ${fmt((natsConsumeRate * RECORD_BYTES) / 2 ** 20)} MiB/s`);
    console.log(`reference  NATS JetStream publish→delivery at ${LATENCY_RATE}/s      p50 ${fmt(percentile(natsResult.latencies, 50), 2)} ms  p99 ${fmt(percentile(natsResult.latencies, 99), 2)} ms`);
  }

  const sluice = await startSluice();
  const produced = await sluiceProduce(sluice.port, 'bench');
  const produceRate = produced.records / produced.seconds;
  const produceBytes = produced.bytes / produced.seconds;
  console.log(
    `Sluice     produce                                         ${fmt(produceRate)} msgs/s  ${fmt(produceBytes / 2 ** 20)} MiB/s  ` +
      `= ${fmt(produceBytes / rawBytesPerSec, 2)}× raw loopback, ${fmt(produceRate / natsPublishRate, 2)}× NATS JetStream publish`,
  );
  const admin = await Conn.open(sluice.port);
  await admin.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'kcat-bench', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  admin.close();
  const kcatRate = await kcatProduce(sluice.port, 300_000);
  if (kcatRate !== null) {
    console.log(
      `Sluice     produce from kcat (librdkafka, 1 partition)         ${fmt(kcatRate)} msgs/s  ${fmt((kcatRate * RECORD_BYTES) / 2 ** 20)} MiB/s  ` +
        `= ${fmt((kcatRate * RECORD_BYTES) / rawBytesPerSec, 2)}× raw loopback, ${fmt(kcatRate / natsPublishRate, 2)}× NATS JetStream publish`,
    );
  }
  const consumed = await sluiceConsume(sluice.port, 'bench', produced.records);
  const consumeRate = consumed.records / consumed.seconds;
  const consumeBytes = consumed.bytes / consumed.seconds;
  console.log(
    `Sluice     consume                                         ${fmt(consumeRate)} msgs/s  ${fmt(consumeBytes / 2 ** 20)} MiB/s  ` +
      `= ${fmt(consumeBytes / rawBytesPerSec, 2)}× raw loopback, ${fmt(consumeRate / natsConsumeRate, 2)}× NATS JetStream consume`,
  );
  const latencies = await sluiceLatency(sluice.port, 'latency');
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const ref = typeof natsResult === 'string' ? null : natsResult.latencies;
  console.log(
    `Sluice     produce→fetch at ${LATENCY_RATE}/s (acks=1, long poll)     p50 ${fmt(p50, 2)} ms  p99 ${fmt(p99, 2)} ms` +
      (ref ? `  = ${fmt(p50 / percentile(ref, 50), 2)}× / ${fmt(p99 / percentile(ref, 99), 2)}× NATS JetStream` : ''),
  );
  await sluice.stop();
}

await main();
process.exit(0);
