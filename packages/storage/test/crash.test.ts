import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BatchOffsets, scanBatches, verifyBatchCrc } from '@sluice/protocol';
import { LogManager } from '../src/log-manager.js';
import { parseTopicConfig } from '../src/config.js';
import { batchOf, recordsIn, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const ROUNDS = Number(process.env.SLUICE_CRASH_ROUNDS ?? 20);

interface Ack {
  base: bigint;
  last: bigint;
  crc: number;
  key: string;
}

/** Runs the child until it has acknowledged something, then SIGKILLs it after a random delay. */
function runAndKill(dir: string, seed: number, killAfterMs: number, mode = 'plain'): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!; // an incomplete last line was never fully acknowledged
      for (const line of lines) {
        const parts = line.split(' ');
        if (parts[0] === 'ack') acks.push({ base: BigInt(parts[1]), last: BigInt(parts[2]), crc: Number(parts[3]), key: parts[4] });
        if (parts[0] === 'ready' && !armed) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      else resolve(acks);
    });
  });
}

it(`keeps every acknowledged durable batch across ${ROUNDS} kill -9 rounds`, { timeout: 180_000 }, async () => {
  const { dir, cleanup } = await tempDir('sluice-crash-');
  const config = parseTopicConfig({ 'flush.messages': '1', 'segment.bytes': String(64 * 1024), 'index.interval.bytes': '512' });
  const topicConfigs = new Map([['crash', config]]);
  let totalAcks = 0;
  let seed = 12345;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      seed = (seed * 48271) % 2147483647;
      const acks = await runAndKill(dir, seed, 30 + (seed % 400));
      totalAcks += acks.length;
      const mgr = await LogManager.open({ dataDir: dir, topicConfigs });
      const log = mgr.getLog('crash', 0);
      assert.ok(log, `round ${round}: the log exists`);
      for (const ack of acks) {
        assert.ok(ack.last < log.logEndOffset, `round ${round}: acked ${ack.base}-${ack.last} but log ends at ${log.logEndOffset}`);
        const r = await log.read(ack.base, 1);
        assert.equal(r.records.readBigInt64BE(0), ack.base, `round ${round}: batch at ${ack.base}`);
        const last = r.records.readBigInt64BE(0) + BigInt(r.records.readInt32BE(BatchOffsets.lastOffsetDelta));
        assert.equal(last, ack.last);
        assert.equal(r.records.readUInt32BE(BatchOffsets.crc), ack.crc);
        assert.ok(verifyBatchCrc(r.records, 0));
      }
      // The whole log is contiguous and CRC-valid.
      let next = log.logStartOffset;
      while (next < log.logEndOffset) {
        const r = await log.read(next, 1 << 20);
        const scan = scanBatches(r.records, { verifyCrc: true });
        assert.equal(scan.stoppedBy, null);
        assert.equal(r.records.readBigInt64BE(0), next, `round ${round}: no gap at ${next}`);
        next = r.nextOffset;
      }
      // And it keeps working after recovery.
      const end = log.logEndOffset;
      const res = await log.appendAsLeader(batchOf(2, { tag: `after-${round}` }));
      assert.equal(res.baseOffset, end);
      // Alternate clean and unclean hand-over to the next child.
      if (round % 2 === 0) await mgr.shutdown();
      else for (const s of log.segments) await s.fileHandle.close();
    }
    assert.ok(totalAcks > ROUNDS, `children acknowledged ${totalAcks} batches in ${ROUNDS} rounds`);
    console.log(`# crash test: ${ROUNDS} rounds, ${totalAcks} acknowledged batches verified`);
  } finally {
    await cleanup();
  }
});

const COMPACT_ROUNDS = Number(process.env.SLUICE_CRASH_COMPACT_ROUNDS ?? 10);

it(`keeps the latest acknowledged value of every key across ${COMPACT_ROUNDS} kill -9 rounds during compaction`, { timeout: 180_000 }, async () => {
  const { dir, cleanup } = await tempDir('sluice-crash-compact-');
  const config = parseTopicConfig({
    'flush.messages': '1',
    'segment.bytes': String(8 * 1024),
    'index.interval.bytes': '512',
    'cleanup.policy': 'compact',
    'min.cleanable.dirty.ratio': '0.01',
  });
  const topicConfigs = new Map([['crash', config]]);
  /** Per key: the highest acknowledged offset over all rounds. */
  const latestAcked = new Map<string, Ack>();
  let seed = 777;
  let cleanedSomewhere = false;
  try {
    for (let round = 0; round < COMPACT_ROUNDS; round++) {
      seed = (seed * 48271) % 2147483647;
      const acks = await runAndKill(dir, seed, 150 + (seed % 500), 'compact');
      for (const a of acks) if ((latestAcked.get(a.key)?.base ?? -1n) < a.base) latestAcked.set(a.key, a);
      const mgr = await LogManager.open({ dataDir: dir, topicConfigs });
      const log = mgr.getLog('crash', 0)!;
      const latestInLog = new Map<string, bigint>();
      const present = new Set<bigint>();
      let next = log.logStartOffset;
      let previous = -1n;
      while (next < log.logEndOffset) {
        const r = await log.read(next, 1 << 20);
        assert.equal(scanBatches(r.records, { verifyCrc: true }).stoppedBy, null);
        for (const rec of recordsIn(r.records)) {
          assert.ok(rec.offset > previous, 'offsets strictly increase');
          previous = rec.offset;
          present.add(rec.offset);
          latestInLog.set(rec.key!.toString(), rec.offset);
        }
        if (r.records.length === 0) break;
        next = r.nextOffset;
      }
      if (present.size < Number(log.logEndOffset - log.logStartOffset)) cleanedSomewhere = true;
      for (const [key, ack] of latestAcked) {
        const inLog = latestInLog.get(key);
        assert.ok(inLog !== undefined && inLog >= ack.base, `round ${round}: key ${key} acked at ${ack.base}, log has ${inLog}`);
        if (inLog === ack.base) {
          const r = await log.read(ack.base, 1);
          assert.equal(r.records.readUInt32BE(BatchOffsets.crc), ack.crc, `round ${round}: key ${key} value at ${ack.base}`);
        }
      }
      // Later rounds compare against what this log now holds as latest.
      for (const [key, off] of latestInLog) {
        const known = latestAcked.get(key);
        if (known && off > known.base) {
          const r = await log.read(off, 1);
          latestAcked.set(key, { base: off, last: off, crc: r.records.readUInt32BE(BatchOffsets.crc), key });
        }
      }
      if (round % 2 === 0) await mgr.shutdown();
      else for (const s of log.segments) await s.fileHandle.close();
    }
    assert.ok(cleanedSomewhere, 'the cleaner removed records during the run');
    console.log(`# compaction crash test: ${COMPACT_ROUNDS} rounds, ${latestAcked.size} keys checked`);
  } finally {
    await cleanup();
  }
});
