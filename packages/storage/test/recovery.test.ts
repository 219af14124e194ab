import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, open, readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanBatches, verifyBatchCrc } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { LogManager } from '../src/log-manager.js';
import { CLEAN_SHUTDOWN_MARKER, RECOVERY_POINT_CHECKPOINT } from '../src/checkpoint.js';
import { batchOf, config, recordsIn, tempDir } from './helpers.js';

const CFG = { 'segment.bytes': '1500', 'index.interval.bytes': '100' };

async function open_(dir: string, cleanShutdown = false) {
  return PartitionLog.open({ dir, topic: 't', partition: 0, config: config(CFG), cleanShutdown, checkpoints: { recoveryPoint: 0n } });
}

/** Drops a log as a killed process would: file handles closed, nothing persisted. */
async function abandon(log: PartitionLog): Promise<void> {
  for (const s of log.segments) await s.fileHandle.close();
}

async function readAll(log: PartitionLog): Promise<bigint[]> {
  const offsets: bigint[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const r = await log.read(next, 1 << 20);
    assert.equal(scanBatches(r.records, { verifyCrc: true }).stoppedBy, null);
    offsets.push(...recordsIn(r.records).map((x) => x.offset));
    assert.ok(r.nextOffset > next);
    next = r.nextOffset;
  }
  return offsets;
}

async function filled(dir: string, batches = 30): Promise<PartitionLog> {
  const log = await open_(dir);
  for (let i = 0; i < batches; i++) await log.appendAsLeader(batchOf(3, { tag: `r${i}`, valueBytes: 10 }));
  return log;
}

function range(n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => BigInt(i));
}

describe('recovery of damaged logs', () => {
  it('cuts a torn last batch', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await filled(dir);
      const active = log.activeSegment;
      const lastBatchStart = active.size - batchOf(3, { tag: 'r29', valueBytes: 10 }).length;
      await abandon(log);
      await truncate(active.logPath, lastBatchStart + 20);
      const reopened = await open_(dir);
      assert.equal(reopened.logEndOffset, 87n);
      assert.deepEqual(await readAll(reopened), range(87));
      const r = await reopened.appendAsLeader(batchOf(1));
      assert.equal(r.baseOffset, 87n);
      assert.deepEqual(await readAll(reopened), range(88));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('cuts a garbage tail and a zero-filled (preallocated) tail', async () => {
    for (const junk of [Buffer.from('this is not a record batch, just noise appended by a crash'.repeat(3)), Buffer.alloc(4096)]) {
      const { dir, cleanup } = await tempDir();
      try {
        const log = await filled(dir);
        const path = log.activeSegment.logPath;
        await abandon(log);
        await appendFile(path, junk);
        const reopened = await open_(dir);
        assert.equal(reopened.logEndOffset, 90n);
        assert.deepEqual(await readAll(reopened), range(90));
        await reopened.close();
      } finally {
        await cleanup();
      }
    }
  });

  it('truncates at a batch whose CRC does not match, and drops later segments', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await filled(dir, 60);
      assert.ok(log.segments.length >= 3);
      const victim = log.segments[1];
      const path = victim.logPath;
      const victimBase = victim.baseOffset;
      await abandon(log);
      const fh = await open(path, 'r+');
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, 200);
      b[0] ^= 0x55;
      await fh.write(b, 0, 1, 200);
      await fh.close();
      const reopened = await open_(dir);
      assert.ok(reopened.logEndOffset > victimBase && reopened.logEndOffset < 180n, `end ${reopened.logEndOffset}`);
      assert.equal(reopened.segments.length, 2);
      assert.deepEqual(await readAll(reopened), range(Number(reopened.logEndOffset)));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('rebuilds deleted and corrupt indexes after a clean shutdown', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await filled(dir, 60);
      await log.close();
      const segs = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
      assert.ok(segs.length >= 3);
      const expectedIndex = await readFile(join(dir, segs[0].replace('.log', '.index')));
      assert.ok(expectedIndex.length > 0);
      await unlink(join(dir, segs[0].replace('.log', '.index')));
      await writeFile(join(dir, segs[1].replace('.log', '.index')), Buffer.from([0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0]));
      await writeFile(join(dir, segs[segs.length - 1].replace('.log', '.timeindex')), Buffer.alloc(7));
      const reopened = await open_(dir, true);
      assert.equal(reopened.logEndOffset, 180n);
      assert.deepEqual(await readAll(reopened), range(180));
      for (let off = 0n; off < 180n; off += 7n) {
        const r = await reopened.read(off, 1);
        const recs = recordsIn(r.records);
        assert.ok(recs[0].offset <= off && recs[recs.length - 1].offset >= off);
      }
      await reopened.close();
      assert.deepEqual(await readFile(join(dir, segs[0].replace('.log', '.index'))), expectedIndex, 'rebuilt index equals the original');
    } finally {
      await cleanup();
    }
  });

  it('recovers segments larger than its read chunk, with batches straddling chunk boundaries', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const big = { 'segment.bytes': String(64 * 1024 * 1024), 'max.message.bytes': String(2 * 1024 * 1024) };
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(big), checkpoints: { recoveryPoint: 0n } });
      // ~700 KiB batches: 8 MiB chunk boundaries fall inside batches.
      for (let i = 0; i < 14; i++) await log.appendAsLeader(batchOf(7, { tag: `big${i}`, valueBytes: 100 * 1024 }));
      const size = log.activeSegment.size;
      assert.ok(size > 9 * 1024 * 1024);
      await abandon(log);
      await truncate(join(dir, '00000000000000000000.log'), size - 1000);
      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(big), checkpoints: { recoveryPoint: 0n } });
      assert.equal(reopened.logEndOffset, 13n * 7n);
      const r = await reopened.read(50n, 1);
      assert.ok(recordsIn(r.records).some((x) => x.offset === 50n));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('trusts nothing past the recovery point after an unclean stop', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await filled(dir, 60);
      const lastSeg = log.activeSegment;
      await abandon(log);
      // A stale preallocated-looking index on the active segment must not be believed.
      await writeFile(lastSeg.indexPath, Buffer.alloc(8 * 1000));
      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(CFG), checkpoints: { recoveryPoint: lastSeg.baseOffset } });
      assert.equal(reopened.logEndOffset, 180n);
      assert.deepEqual(await readAll(reopened), range(180));
      assert.equal((await stat(lastSeg.indexPath)).size % 8, 0);
      await reopened.close();
    } finally {
      await cleanup();
    }
  });
});

describe('LogManager start-up and shutdown', () => {
  it('writes Kafka checkpoint files and the clean-shutdown marker, and reopens 1000 partitions without scanning', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const mgr = await LogManager.open({ dataDir: dir });
      assert.equal(mgr.startup.cleanShutdown, false);
      const partitions = 1000;
      const logs = [];
      for (let p = 0; p < partitions; p++) logs.push(await mgr.createLog('many', p, config({ 'segment.index.bytes': '4096' })));
      await Promise.all(logs.map((l, p) => l.appendAsLeader(batchOf(1 + (p % 5)))));
      logs[7].highWatermark = 3n;
      await mgr.shutdown();
      await stat(join(dir, CLEAN_SHUTDOWN_MARKER));
      const text = await readFile(join(dir, RECOVERY_POINT_CHECKPOINT), 'utf8');
      const lines = text.trimEnd().split('\n');
      assert.equal(lines[0], '0');
      assert.equal(lines[1], String(partitions));
      assert.ok(lines.includes('many 7 3'), 'recovery point line for partition 7');

      const topicConfigs = new Map([['many', config({ 'segment.index.bytes': '4096' })]]);
      const clean = await LogManager.open({ dataDir: dir, topicConfigs });
      assert.equal(clean.startup.cleanShutdown, true);
      assert.equal(clean.startup.logsOpened, partitions);
      await assert.rejects(stat(join(dir, CLEAN_SHUTDOWN_MARKER)), 'marker removed once started');
      for (let p = 0; p < partitions; p++) {
        const log = clean.getLog('many', p)!;
        assert.equal(log.logEndOffset, BigInt(1 + (p % 5)));
        assert.equal(log.activeSegment.indexesLoaded, true);
      }
      assert.equal(clean.getLog('many', 7)!.highWatermark, 3n);
      const cleanMs = clean.startup.millis;
      // Simulate a crash: no shutdown, so the next start must recover every active segment.
      for (const log of clean.allLogs()) for (const s of log.segments) await s.fileHandle.close();
      const recovered = await LogManager.open({ dataDir: dir, topicConfigs });
      assert.equal(recovered.startup.cleanShutdown, false);
      for (let p = 0; p < partitions; p++) assert.equal(recovered.getLog('many', p)!.logEndOffset, BigInt(1 + (p % 5)));
      const r = await recovered.getLog('many', 3)!.read(0n, 1000);
      assert.ok(verifyBatchCrc(r.records, 0));
      console.log(`# 1000 partitions: clean reopen ${cleanMs.toFixed(0)} ms, unclean reopen ${recovered.startup.millis.toFixed(0)} ms`);
      await recovered.shutdown();
    } finally {
      await cleanup();
    }
  });

  it('runs retention, flush.ms and checkpoints in the background', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 50_000_000;
      const mgr = await LogManager.open({ dataDir: dir, now: () => now, retentionCheckIntervalMs: 20, flushCheckIntervalMs: 20, checkpointIntervalMs: 20, cleanerBackoffMs: 20 });
      const log = await mgr.createLog('bg', 0, config({ 'segment.bytes': '300', 'retention.ms': '1000', 'flush.ms': '100' }));
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batchOf(2, { timestamp: BigInt(now) }));
      assert.ok(log.segments.length > 2);
      mgr.startBackgroundTasks();
      // The fake clock keeps the work from happening early; polling only waits out slow fsyncs.
      const eventually = async (what: string, ok: () => boolean | Promise<boolean>): Promise<void> => {
        const end = Date.now() + 20_000;
        while (!(await ok())) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      now += 500;
      await eventually('the background flush (flush.ms elapsed)', () => log.recoveryPoint === 20n);
      await eventually('the recovery-point checkpoint', async () => (await readFile(join(dir, RECOVERY_POINT_CHECKPOINT), 'utf8').catch(() => '')).includes('bg 0 20'));
      now += 5000;
      await eventually('retention.ms to expire everything', () => log.logStartOffset === 20n && log.segments.length === 1);
      await mgr.shutdown();
    } finally {
      await cleanup();
    }
  });

  it('creates, deletes and reconfigures logs', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const mgr = await LogManager.open({ dataDir: dir });
      const log = await mgr.createLog('cfg', 0);
      assert.equal(log.config.segmentBytes, 1073741824);
      mgr.setTopicConfig('cfg', config({ 'segment.bytes': '200' }));
      assert.equal(log.config.segmentBytes, 200);
      for (let i = 0; i < 5; i++) await log.appendAsLeader(batchOf(2));
      assert.ok(log.segments.length > 1, 'new segment.bytes applied live');
      await assert.rejects(mgr.createLog('bad/name', 0));
      assert.equal(await mgr.deleteLog('cfg', 0), true);
      assert.equal(mgr.getLog('cfg', 0), undefined);
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('cfg')), []);
      await mgr.shutdown();
    } finally {
      await cleanup();
    }
  });
});
