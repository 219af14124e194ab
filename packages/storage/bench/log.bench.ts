// Storage benchmark. Every figure is printed beside a reference measured in the same run on the
// same disk: appends against raw sequential FileHandle.write of the same buffers (with an
// fdatasync after every write for the durable rows), reads against raw FileHandle.read of the same
// file in the same chunk size, grouped-fsync latency against one writer doing write+fdatasync.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, crc32cImplementation } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { parseTopicConfig } from '../src/config.js';
import { LogManager } from '../src/log-manager.js';
import { CLEAN_SHUTDOWN_MARKER, RECOVERY_POINT_CHECKPOINT } from '../src/checkpoint.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RECORD = 1 * KiB;
const REPEATS = 4;
const PAIRS = 8;

function batchOfSize(bytes: number): Buffer {
  const value = Buffer.alloc(RECORD - 16, 'x');
  const records = [];
  // ~1 KiB per record including its framing.
  let count = Math.max(1, Math.floor((bytes - 61) / RECORD));
  for (let i = 0; i < count; i++) records.push({ key: Buffer.from(`key-${i.toString().padStart(8, '0')}`), value });
  let batch = buildRecordBatch(records);
  while (batch.length > bytes && count > 1) batch = buildRecordBatch(records.slice(0, --count));
  return batch;
}

interface Timing {
  seconds: number;
  bytes: number;
}

async function rawWrite(dir: string, batch: Buffer, count: number, durable: boolean): Promise<Timing> {
  const path = join(dir, `raw-${Math.random().toString(36).slice(2)}.bin`);
  const fh = await open(path, 'w');
  const start = performance.now();
  let pos = 0;
  for (let i = 0; i < count; i++) {
    await fh.write(batch, 0, batch.length, pos);
    pos += batch.length;
    if (durable) await fh.datasync();
  }
  const seconds = (performance.now() - start) / 1000;
  await fh.close();
  await rm(path);
  return { seconds, bytes: pos };
}

async function logAppend(dir: string, batch: Buffer, count: number, durable: boolean, extra: Record<string, string> = {}, crcVerified = false): Promise<Timing> {
  const logDir = await mkdtemp(join(dir, 'log-'));
  const config = parseTopicConfig({ 'segment.bytes': String(512 * MiB), ...(durable ? { 'flush.messages': '1' } : {}), ...extra });
  const log = await PartitionLog.open({ dir: logDir, topic: 'bench', partition: 0, config });
  const start = performance.now();
  for (let i = 0; i < count; i++) await log.appendAsLeader(batch, { crcVerified });
  const seconds = (performance.now() - start) / 1000;
  const bytes = log.sizeInBytes;
  await log.close();
  await rm(logDir, { recursive: true, force: true });
  return { seconds, bytes };
}

const rate = (t: Timing) => t.bytes / MiB / t.seconds;

function best(ts: Timing[]): Timing {
  return ts.reduce((a, b) => (rate(a) >= rate(b) ? a : b));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  try {
    console.log(`data dir ${tmpdir()}; CRC32C: ${crc32cImplementation}; 1 KiB records; ${PAIRS} paired rounds per row (raw and log back to back, alternating which goes first); medians\n`);
    console.log('append throughput            raw write MiB/s   log append MiB/s   log/raw');
    const budget = { plain: 96 * MiB, durable: 12 * MiB };
    const rows: Array<{ label: string; size: number; durable: boolean; crcVerified?: boolean; note?: string }> = [];
    for (const durable of [false, true]) {
      for (const size of [16 * KiB, 64 * KiB, 1 * MiB]) {
        rows.push({ label: `${durable ? 'durable ' : 'buffered'} ${size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`} batches`, size, durable });
      }
    }
    // The same 64 KiB appends when the caller (the broker, having decoded the batch) vouches for
    // the CRC: what the check itself costs on this machine.
    rows.push({ label: 'buffered 64 KiB, crcVerified', size: 64 * KiB, durable: false, crcVerified: true, note: '  (CRC already checked by the caller)' });
    for (const row of rows) {
      const batch = batchOfSize(row.size);
      const count = Math.max(8, Math.floor((row.durable ? budget.durable : budget.plain) / batch.length));
      const raws: number[] = [];
      const logs: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < PAIRS; r++) {
        let raw: Timing;
        let log: Timing;
        if (r % 2 === 0) {
          raw = await rawWrite(dir, batch, count, row.durable);
          log = await logAppend(dir, batch, count, row.durable, {}, row.crcVerified);
        } else {
          log = await logAppend(dir, batch, count, row.durable, {}, row.crcVerified);
          raw = await rawWrite(dir, batch, count, row.durable);
        }
        raws.push(rate(raw));
        logs.push(rate(log));
        ratios.push(rate(log) / rate(raw));
      }
      console.log(`${row.label.padEnd(28)} ${median(raws).toFixed(1).padStart(15)} ${median(logs).toFixed(1).padStart(18)} ${median(ratios).toFixed(2).padStart(9)}${row.note ?? ''}`);
    }

    // Preallocation (preallocate=true): Node can only extend the file sparsely (ftruncate), which
    // is what this measures against the default.
    {
      const batch = batchOfSize(64 * KiB);
      const count = Math.floor((128 * MiB) / batch.length);
      const plain: Timing[] = [];
      const pre: Timing[] = [];
      for (let r = 0; r < REPEATS; r++) {
        plain.push(await logAppend(dir, batch, count, false));
        pre.push(await logAppend(dir, batch, count, false, { preallocate: 'true', 'segment.bytes': String(256 * MiB) }));
      }
      console.log(`${'preallocate=true, 64 KiB'.padEnd(28)} ${rate(best(plain)).toFixed(1).padStart(15)} ${rate(best(pre)).toFixed(1).padStart(18)} ${(rate(best(pre)) / rate(best(plain))).toFixed(2).padStart(9)}  (reference: same log without preallocation)`);
    }

    // Read throughput: fetch-style 1 MiB reads of a 128 MiB log vs raw 1 MiB reads of its segment.
    console.log('\nread throughput (1 MiB reads)  raw read MiB/s   log read MiB/s    log/raw');
    const logDir = await mkdtemp(join(dir, 'read-'));
    const log = await PartitionLog.open({ dir: logDir, topic: 'bench', partition: 0, config: parseTopicConfig({ 'segment.bytes': String(512 * MiB) }) });
    const batch = batchOfSize(64 * KiB);
    for (let i = 0; i < (128 * MiB) / batch.length; i++) await log.appendAsLeader(batch);
    const segPath = log.activeSegment.logPath;
    const fileSize = log.activeSegment.size;
    const rawReads: Timing[] = [];
    const logReads: Timing[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const fh = await open(segPath, 'r');
      let start = performance.now();
      for (let pos = 0; pos < fileSize; pos += MiB) {
        const buf = Buffer.allocUnsafe(Math.min(MiB, fileSize - pos));
        await fh.read(buf, 0, buf.length, pos);
      }
      rawReads.push({ seconds: (performance.now() - start) / 1000, bytes: fileSize });
      await fh.close();
      start = performance.now();
      let next = 0n;
      let bytes = 0;
      while (next < log.logEndOffset) {
        const res = await log.read(next, MiB);
        bytes += res.records.length;
        next = res.nextOffset;
      }
      logReads.push({ seconds: (performance.now() - start) / 1000, bytes });
    }
    const rr = best(rawReads);
    const lr = best(logReads);
    console.log(`${'page-cache hot, 64 KiB batches'.padEnd(30)} ${rate(rr).toFixed(1).padStart(14)} ${rate(lr).toFixed(1).padStart(16)} ${(rate(lr) / rate(rr)).toFixed(2).padStart(10)}`);
    await log.close();

    // Latency with grouped fsync: 16 concurrent durable producers of 16 KiB batches, against one
    // writer doing write + fdatasync per batch (what each append would cost without grouping).
    console.log('\ndurable append latency, 16 KiB batches   p50 ms   p99 ms   appends/s');
    const small = batchOfSize(16 * KiB);
    const rawLat: number[] = [];
    {
      const fh = await open(join(dir, 'lat-raw.bin'), 'w');
      let pos = 0;
      const t0 = performance.now();
      for (let i = 0; i < 400; i++) {
        const s = performance.now();
        await fh.write(small, 0, small.length, pos);
        await fh.datasync();
        pos += small.length;
        rawLat.push(performance.now() - s);
      }
      const secs = (performance.now() - t0) / 1000;
      await fh.close();
      rawLat.sort((a, b) => a - b);
      console.log(`${'raw write+fdatasync, 1 writer'.padEnd(40)} ${pct(rawLat, 50).toFixed(2).padStart(6)} ${pct(rawLat, 99).toFixed(2).padStart(8)} ${(400 / secs).toFixed(0).padStart(11)}`);
    }
    for (const producers of [1, 16]) {
      const latDir = await mkdtemp(join(dir, 'lat-'));
      const dlog = await PartitionLog.open({ dir: latDir, topic: 'bench', partition: 0, config: parseTopicConfig({ 'flush.messages': '1' }) });
      const lat: number[] = [];
      const perProducer = producers === 1 ? 400 : 100;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: producers }, async () => {
          for (let i = 0; i < perProducer; i++) {
            const b = Buffer.from(small);
            const s = performance.now();
            await dlog.appendAsLeader(b);
            lat.push(performance.now() - s);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      lat.sort((a, b) => a - b);
      console.log(`${`log, ${producers} producer${producers > 1 ? 's' : ''} (grouped fsync)`.padEnd(40)} ${pct(lat, 50).toFixed(2).padStart(6)} ${pct(lat, 99).toFixed(2).padStart(8)} ${(lat.length / secs).toFixed(0).padStart(11)}`);
      await dlog.close();
    }
    // Partitions do not serialise on each other: 8 logs with one durable producer each, against
    // one log with one producer (if logs shared a lock or an fsync, the ratio would be ~1).
    console.log('\ndurable 16 KiB appends                    appends/s   ratio');
    const perProducer = 300;
    const single = await PartitionLog.open({ dir: await mkdtemp(join(dir, 'single-')), topic: 'bench', partition: 0, config: parseTopicConfig({ 'flush.messages': '1' }) });
    let t0 = performance.now();
    for (let i = 0; i < perProducer; i++) await single.appendAsLeader(Buffer.from(small));
    const singleRate = perProducer / ((performance.now() - t0) / 1000);
    await single.close();
    const logs = await Promise.all(Array.from({ length: 8 }, async (_, p) => {
      const d = await mkdtemp(join(dir, `part${p}-`));
      return PartitionLog.open({ dir: d, topic: 'bench', partition: p, config: parseTopicConfig({ 'flush.messages': '1' }) });
    }));
    t0 = performance.now();
    await Promise.all(logs.map(async (l) => {
      for (let i = 0; i < perProducer; i++) await l.appendAsLeader(Buffer.from(small));
    }));
    const spreadRate = (8 * perProducer) / ((performance.now() - t0) / 1000);
    await Promise.all(logs.map((l) => l.close()));
    console.log(`${'1 partition, 1 producer'.padEnd(40)} ${singleRate.toFixed(0).padStart(9)}    1.00`);
    console.log(`${'8 partitions, 1 producer each'.padEnd(40)} ${spreadRate.toFixed(0).padStart(9)} ${(spreadRate / singleRate).toFixed(2).padStart(7)}`);

    // Start-up: 200 partitions of 1 MiB each, reopened after a clean shutdown (marker present: no
    // scan) and after a simulated crash with no recovery-point checkpoint (every batch re-read and
    // CRC-checked).
    console.log('\nreopen 200 partitions x 1 MiB              ms   ratio');
    const dataDir = await mkdtemp(join(dir, 'startup-'));
    const mgr = await LogManager.open({ dataDir });
    const startBatch = batchOfSize(16 * KiB);
    for (let p = 0; p < 200; p++) {
      const l = await mgr.createLog('startup', p);
      for (let i = 0; i < 64; i++) await l.appendAsLeader(Buffer.from(startBatch));
    }
    await mgr.shutdown();
    const clean = await LogManager.open({ dataDir });
    const cleanMs = clean.startup.millis;
    await clean.shutdown();
    await rm(join(dataDir, CLEAN_SHUTDOWN_MARKER));
    await rm(join(dataDir, RECOVERY_POINT_CHECKPOINT));
    const crashed = await LogManager.open({ dataDir });
    const crashedMs = crashed.startup.millis;
    await crashed.shutdown();
    console.log(`${'unclean (full recovery scan)'.padEnd(40)} ${crashedMs.toFixed(0).padStart(6)}    1.00`);
    console.log(`${'clean shutdown marker'.padEnd(40)} ${cleanMs.toFixed(0).padStart(6)} ${(cleanMs / crashedMs).toFixed(2).padStart(7)}`);

    // Producer state after a restart: the open transactions and aborted-transaction index ready for
    // a read_committed fetch, from the producer snapshot written at close, against the reference of
    // replaying the whole log (the snapshot files removed), which is what a log without them costs.
    const txnMiB = 256;
    console.log(`\nproducer state after reopen, ${txnMiB} MiB of transactions   ms   ratio`);
    const txnDir = await mkdtemp(join(dir, 'txn-'));
    const txnLog = await PartitionLog.open({ dir: txnDir, topic: 'txn', partition: 0, config: parseTopicConfig({}) });
    const payload = batchOfSize(16 * KiB);
    const { readRecordBatch, buildControlBatch } = await import('@sluice/protocol');
    const txnRecords = readRecordBatch(payload, 0).records.map((r) => ({ key: r.key, value: r.value }));
    let written = 0;
    for (let txn = 0; written < txnMiB * MiB; txn++) {
      const producerId = BigInt(1000 + (txn % 50));
      const epoch = 0;
      for (let b = 0; b < 10; b++) {
        const batch = buildRecordBatch(txnRecords, { producerId, producerEpoch: epoch, baseSequence: (Math.floor(txn / 50) * 10 + b) * txnRecords.length, isTransactional: true });
        await txnLog.appendAsLeader(batch);
        written += batch.length;
      }
      await txnLog.appendAsLeader(buildControlBatch(txn % 10 === 9 ? 'abort' : 'commit', { producerId, producerEpoch: epoch, coordinatorEpoch: 0 }));
    }
    await txnLog.close();
    const reopenState = async () => {
      const start = performance.now();
      const log = await PartitionLog.open({ dir: txnDir, topic: 'txn', partition: 0, config: parseTopicConfig({}), cleanShutdown: true });
      await log.transactionState();
      const aborted = await log.abortedTransactions(0n, log.logEndOffset);
      const ms = performance.now() - start;
      await log.close();
      return { ms, aborted: aborted.length };
    };
    const withSnapshot = await reopenState();
    const { readdir } = await import('node:fs/promises');
    const removeSnapshots = async () => {
      for (const n of await readdir(txnDir)) if (n.endsWith('.snapshot')) await rm(join(txnDir, n));
    };
    await removeSnapshots();
    const replay = await reopenState();
    await removeSnapshots();
    if (withSnapshot.aborted !== replay.aborted) throw new Error(`aborted transactions differ: ${withSnapshot.aborted} vs ${replay.aborted}`);
    console.log(`${'replay of the whole log (reference)'.padEnd(48)} ${replay.ms.toFixed(0).padStart(6)}    1.00`);
    console.log(`${'producer snapshot + .txnindex'.padEnd(48)} ${withSnapshot.ms.toFixed(0).padStart(6)} ${(withSnapshot.ms / replay.ms).toFixed(3).padStart(7)}   (${withSnapshot.aborted} aborted transactions indexed)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
