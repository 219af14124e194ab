/**
 * Operator tool speed, each figure beside a reference measured in the same run:
 *  - dump-log over a segment vs reading the same file raw, and raw + CRC32C of every batch
 *    (the least any CRC-checking dump must do);
 *  - producer-perf-test vs the same records sent by a bare @sluice/client Producer loop (the
 *    tool's own overhead: latency bookkeeping, throttle checks, reporting).
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Producer } from '@sluice/client';
import { startBroker } from '@sluice/broker';
import { buildRecordBatch, crc32c, scanBatches, setBaseOffset } from '@sluice/protocol';
import { runOperatorTool } from '../src/operator.js';
import type { ToolIo } from '../src/tool/io.js';

const SEGMENT_MB = 48;
const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 200;

function silentIo(): ToolIo & { chars: number } {
  const io = {
    chars: 0,
    stdout: (t: string) => void (io.chars += t.length),
    stderr: () => undefined,
    stdin: Readable.from([]),
    stderrIsTTY: false,
    env: {},
    interrupted: () => new Promise<void>(() => {}),
  };
  return io;
}

async function best(runs: number, fn: () => Promise<void>): Promise<number> {
  let bestMs = Infinity;
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const t = performance.now();
    await fn();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  return bestMs;
}

async function rawRead(path: string, withCrc: boolean): Promise<void> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  let carry = Buffer.alloc(0);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      if (withCrc) {
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        const scan = scanBatches(data);
        for (const b of scan.batches) crc32c(data.subarray(b.position + 21, b.position + b.size));
        carry = Buffer.from(data.subarray(scan.validBytes));
      }
    }
  } finally {
    await fh.close();
  }
}

async function dumpLogBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-dump-'));
  try {
    const path = join(dir, '00000000000000000000.log');
    const value = Buffer.alloc(VALUE_BYTES, 97);
    const template = buildRecordBatch(Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: Buffer.from(`key-${i}`), value })));
    const batches: Buffer[] = [];
    let bytes = 0;
    for (let offset = 0n; bytes < SEGMENT_MB * 1048576; offset += BigInt(RECORDS_PER_BATCH)) {
      const b = Buffer.from(template);
      setBaseOffset(b, 0, offset);
      batches.push(b);
      bytes += b.length;
    }
    await writeFile(path, Buffer.concat(batches));
    const records = batches.length * RECORDS_PER_BATCH;
    const mb = bytes / 1048576;
    console.log(`segment: ${mb.toFixed(1)} MB, ${batches.length} batches, ${records} records of ${VALUE_BYTES} bytes`);

    const raw = await best(3, () => rawRead(path, false));
    const rawCrc = await best(3, () => rawRead(path, true));
    let lines = 0;
    const headers = await best(3, async () => {
      const io = silentIo();
      if ((await runOperatorTool('dump-log', ['--files', path], io)) !== 0) throw new Error('dump-log failed');
      lines = io.chars;
    });
    const deep = await best(2, async () => {
      if ((await runOperatorTool('dump-log', ['--files', path, '--deep-iteration'], silentIo())) !== 0) throw new Error('dump-log failed');
    });
    const data = await best(2, async () => {
      if ((await runOperatorTool('dump-log', ['--files', path, '--print-data-log'], silentIo())) !== 0) throw new Error('dump-log failed');
    });
    const row = (name: string, ms: number, ref: number): string =>
      `${name.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${(mb / (ms / 1000)).toFixed(0).padStart(5)} MB/s  ${(records / (ms / 1000) / 1e6).toFixed(2)} M records/s  ${(ms / ref).toFixed(2)}x raw read`;
    console.log(row('raw read (reference)', raw, raw));
    console.log(row('raw read + CRC32C per batch (ref)', rawCrc, raw));
    console.log(row('dump-log (batch headers, CRC)', headers, raw) + `  (${(headers / rawCrc).toFixed(2)}x read+CRC, ${(lines / 1048576).toFixed(0)} MB text)`);
    console.log(row('dump-log --deep-iteration', deep, raw));
    console.log(row('dump-log --print-data-log', data, raw));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function producerPerfBench(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-perf-'));
  const broker = await startBroker({ dataDir, host: '127.0.0.1', port: 0 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  try {
    const count = 100_000;
    const size = 100;
    const setup = silentIo();
    if ((await runOperatorTool('topics', ['--create', '--topic', 'bench', '--partitions', '2', '--bootstrap-server', bootstrap], setup)) !== 0) throw new Error('create failed');
    const bare = await best(2, async () => {
      const producer = new Producer({ brokers: [bootstrap], acks: 1 });
      const value = Buffer.alloc(size, 65);
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        pending.push(producer.send({ topic: 'bench', value }));
        if (pending.length >= 50_000) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      await producer.close();
    });
    let toolFigures = '';
    const tool = await best(2, async () => {
      const io = silentIo();
      let out = '';
      io.stdout = (t: string) => void (out += t);
      const code = await runOperatorTool(
        'producer-perf-test',
        ['--topic', 'bench', '--num-records', String(count), '--record-size', String(size), '--throughput', '-1', '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=1', '--json'],
        io,
      );
      if (code !== 0) throw new Error('producer-perf-test failed');
      const f = JSON.parse(out) as { recordsPerSec: number; p50: number; p99: number };
      toolFigures = `tool reports ${f.recordsPerSec.toFixed(0)} records/s, p50 ${f.p50.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms`;
    });
    console.log(`\nproduce ${count} × ${size} B, acks=1, one broker in this process:`);
    console.log(`bare Producer loop (reference)     ${bare.toFixed(0).padStart(6)} ms  ${(count / (bare / 1000)).toFixed(0)} records/s`);
    console.log(`producer-perf-test                 ${tool.toFixed(0).padStart(6)} ms  ${(count / (tool / 1000)).toFixed(0)} records/s  ${(tool / bare).toFixed(2)}x bare  (${toolFigures})`);
  } finally {
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await dumpLogBench();
await producerPerfBench();
