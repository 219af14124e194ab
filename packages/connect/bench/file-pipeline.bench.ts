/**
 * Lines per second through FileStreamSource -> topic -> FileStreamSink on a standalone worker,
 * beside the reference: the same lines produced with @sluice/client's Producer (batches of 2000,
 * like the source's batch.size) and read back by a Consumer in a group, written to a file. Both
 * run against the same broker (its own process) in the same run; each includes its group join;
 * each figure is the best of ROUNDS rounds.
 */
import { startBrokerProcess } from '@sluice/test-peers';
import { mkdtempSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer } from '@sluice/client';
import { StandaloneWorker } from '../src/index.js';

const LINES = 200_000;
const ROUNDS = 2;

async function waitForSize(path: string, bytes: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      // not created yet
    }
    if (size >= bytes) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${path} has ${size} of ${bytes} bytes`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function connectRound(bootstrap: string, dir: string, round: number, input: string, bytes: number): Promise<number> {
  const topic = `connect-bench-${round}`;
  const output = join(dir, `connect-out-${round}.txt`);
  const worker = await StandaloneWorker.start({
    workerProps: {
      'bootstrap.servers': bootstrap,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir, `offsets-${round}`),
      'offset.flush.interval.ms': '10000',
      listeners: 'http://127.0.0.1:0',
    },
    log: () => undefined,
  });
  try {
    const admin = new Admin({ brokers: [bootstrap] });
    await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
    await admin.close();
    const started = performance.now();
    await worker.herder.putConnectorConfig('sink', { name: 'sink', 'connector.class': 'FileStreamSink', topics: topic, file: output }, false);
    await worker.herder.putConnectorConfig('source', { name: 'source', 'connector.class': 'FileStreamSource', topic, file: input, 'batch.size': '2000' }, false);
    await waitForSize(output, bytes);
    return performance.now() - started;
  } finally {
    await worker.close();
  }
}

async function referenceRound(bootstrap: string, dir: string, round: number, lines: string[], bytes: number): Promise<number> {
  const topic = `plain-bench-${round}`;
  const output = join(dir, `plain-out-${round}.txt`);
  const admin = new Admin({ brokers: [bootstrap] });
  await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
  await admin.close();
  const producer = new Producer({ brokers: [bootstrap], acks: 'all' });
  const consumer = new Consumer({ brokers: [bootstrap], groupId: `plain-${round}`, autoOffsetReset: 'earliest', enableAutoCommit: false });
  await producer.connect();
  const started = performance.now();
  await consumer.subscribe([topic]);
  const fd = openSync(output, 'a');
  const reading = (async () => {
    let written = 0;
    while (written < bytes) {
      const batch = await consumer.poll(500);
      if (!batch) break;
      const text = batch.records.map((r) => r.value!.toString('utf8')).join('\n') + '\n';
      writeSync(fd, text);
      written += Buffer.byteLength(text);
    }
    await consumer.commit();
  })();
  for (let i = 0; i < lines.length; i += 2000) {
    await producer.sendBatch(lines.slice(i, i + 2000).map((value) => ({ topic, value })));
  }
  await reading;
  const elapsed = performance.now() - started;
  closeSync(fd);
  await producer.close();
  await consumer.close();
  return elapsed;
}

async function main(): Promise<void> {
  const broker = await startBrokerProcess();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-connect-bench-files-'));
  try {
    const lines = Array.from({ length: LINES }, (_, i) => `${String(i).padStart(8, '0')} the quick brown fox jumps over the lazy dog`);
    const input = join(dir, 'input.txt');
    writeFileSync(input, lines.join('\n') + '\n');
    const bytes = statSync(input).size;
    let bestConnect = Infinity;
    let bestPlain = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      bestPlain = Math.min(bestPlain, await referenceRound(broker.bootstrap, dir, round, lines, bytes));
      bestConnect = Math.min(bestConnect, await connectRound(broker.bootstrap, dir, round, input, bytes));
    }
    const connectRate = LINES / (bestConnect / 1000);
    const plainRate = LINES / (bestPlain / 1000);
    console.log(`${LINES} lines of ${Math.round(bytes / LINES)} B, best of ${ROUNDS}`);
    console.log(`  FileStreamSource -> topic -> FileStreamSink   ${Math.round(connectRate).toLocaleString('en-US').padStart(10)} lines/s`);
    console.log(`  reference: Producer + Consumer group -> file  ${Math.round(plainRate).toLocaleString('en-US').padStart(10)} lines/s`);
    console.log(`  ratio connect/reference: ${(connectRate / plainRate).toFixed(2)}`);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
