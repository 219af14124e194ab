import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildControlBatch, buildRecordBatch, scanBatches } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { LogCleaner } from '../src/cleaner.js';
import { encodeAbortedTxns } from '../src/transaction-index.js';
import { LogManager } from '../src/log-manager.js';
import { config, recordsIn, tempDir } from './helpers.js';
import type { KafkaRecord } from '@sluice/protocol';

const DAY = 86_400_000;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function readAll(log: PartitionLog): Promise<KafkaRecord[]> {
  const out: KafkaRecord[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const r = await log.read(next, 1 << 20);
    assert.equal(scanBatches(r.records, { verifyCrc: true }).stoppedBy, null);
    out.push(...recordsIn(r.records));
    if (r.records.length === 0) break;
    next = r.nextOffset;
  }
  return out;
}

interface Appended {
  key: string;
  value: string | null;
}

describe('log compaction', () => {
  it('keeps exactly the latest record per key below the cleaned offset, with original offsets (model check)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 1_000 * DAY;
      const log = await PartitionLog.open({
        dir, topic: 'c', partition: 0, now: () => now,
        config: config({ 'cleanup.policy': 'compact', 'segment.bytes': '2048', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': String(DAY) }),
      });
      const cleaner = new LogCleaner(() => now);
      const random = lcg(7);
      const appended = new Map<bigint, Appended>();
      for (let round = 0; round < 6; round++) {
        for (let b = 0; b < 25; b++) {
          const records = [];
          const n = 1 + Math.floor(random() * 5);
          const compression = random() < 0.3 ? 'gzip' : 'none';
          for (let i = 0; i < n; i++) {
            const key = `k${Math.floor(random() * 30)}`;
            const value = random() < 0.1 ? null : `${key}@${round}.${b}.${i}`;
            records.push({ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: BigInt(now) });
          }
          const res = await log.appendAsLeader(buildRecordBatch(records, { compression }));
          records.forEach((r, i) => appended.set(res.baseOffset + BigInt(i), { key: r.key.toString(), value: r.value?.toString() ?? null }));
        }
        // Reads and appends carry on while the cleaner works. A reader walking the log in small
        // steps meanwhile must never skip a record that survives the pass.
        const scanEnd = log.logEndOffset;
        const observed = new Set<bigint>();
        const scan = async () => {
          let next = log.logStartOffset;
          while (next < scanEnd) {
            const r = await log.read(next, 200);
            for (const rec of recordsIn(r.records)) observed.add(rec.offset);
            next = r.nextOffset;
          }
        };
        log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
        const [cleaned] = await Promise.all([
          cleaner.maybeClean(log),
          log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('k0'), value: Buffer.from('during'), timestamp: BigInt(now) }])),
          scan(),
        ]);
        const last = log.logEndOffset - 1n;
        appended.set(last, { key: 'k0', value: 'during' });
        assert.equal(cleaned, true, `round ${round} cleaned: ${log.segments.map((s) => `${s.baseOffset}:${s.size}:${s.nextOffset}:${s.maxTimestamp}`).join(" ")} dirty ${cleaner.firstDirtyOffset(log)} start ${log.logStartOffset}`);
        const cleanedTo = cleaner.firstDirtyOffset(log)!;
        assert.ok(cleanedTo > 0n);

        const records = await readAll(log);
        for (const r of records) if (r.offset < scanEnd) assert.ok(observed.has(r.offset), `concurrent reader skipped ${r.offset}`);
        // Every surviving record is byte-identical in key, value and offset to what was appended.
        for (const r of records) {
          const orig = appended.get(r.offset)!;
          assert.ok(orig, `offset ${r.offset} was appended`);
          assert.equal(r.key!.toString(), orig.key);
          assert.equal(r.value?.toString() ?? null, orig.value);
        }
        // Below the cleaned offset: one record per key, the latest one appended below it.
        const latestBelow = new Map<string, bigint>();
        for (const [off, a] of appended) if (off < cleanedTo && (latestBelow.get(a.key) ?? -1n) < off) latestBelow.set(a.key, off);
        const seen = new Set<string>();
        for (const r of records.filter((x) => x.offset < cleanedTo)) {
          const k = r.key!.toString();
          assert.ok(!seen.has(k), `key ${k} appears twice below ${cleanedTo}`);
          seen.add(k);
          assert.equal(r.offset, latestBelow.get(k), `key ${k} keeps its latest record`);
        }
        // At or above it nothing was touched.
        const above = records.filter((x) => x.offset >= cleanedTo).map((x) => x.offset);
        const expectedAbove = [...appended.keys()].filter((o) => o >= cleanedTo).sort((a, b) => (a < b ? -1 : 1));
        assert.deepEqual(above, expectedAbove);
        // The latest-value view is unchanged by compaction.
        const model = new Map<string, string | null>();
        for (const off of [...appended.keys()].sort((a, b) => (a < b ? -1 : 1))) model.set(appended.get(off)!.key, appended.get(off)!.value);
        const view = new Map<string, string | null>();
        for (const r of records) view.set(r.key!.toString(), r.value?.toString() ?? null);
        for (const [k, v] of model) if (v !== null) assert.equal(view.get(k), v, `latest value of ${k}`);
        await log.roll();
      }
      // Tombstones survive until delete.retention.ms after they were first cleaned, then go.
      const tombstonesBefore = (await readAll(log)).filter((r) => r.value === null && r.offset < cleaner.firstDirtyOffset(log)!);
      assert.ok(tombstonesBefore.length > 0, 'some tombstones kept within delete.retention.ms');
      now += 2 * DAY;
      await log.roll();
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log, true), true);
      const after = await readAll(log);
      const dirty = cleaner.firstDirtyOffset(log)!;
      assert.equal(after.filter((r) => r.value === null && r.offset < tombstonesBefore[tombstonesBefore.length - 1].offset + 1n).length, 0);
      assert.ok(dirty > 0n);
      await log.close();
      // The compacted log reopens intact.
      const reopened = await PartitionLog.open({ dir, topic: 'c', partition: 0, config: log.config, checkpoints: { recoveryPoint: 0n } });
      assert.deepEqual((await readAll(reopened)).map((r) => r.offset), after.map((r) => r.offset));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('keeps control batches, drops keyless records, and respects the dirty ratio and min.compaction.lag.ms', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 100 * DAY;
      const log = await PartitionLog.open({
        dir, topic: 'c', partition: 0, now: () => now,
        config: config({ 'cleanup.policy': 'compact,delete', 'segment.bytes': '600', 'min.compaction.lag.ms': String(DAY), 'retention.ms': '-1' }),
      });
      const cleaner = new LogCleaner(() => now);
      for (let i = 0; i < 20; i++) {
        await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('same'), value: Buffer.from(`v${i}`), timestamp: BigInt(now) }, { key: null, value: Buffer.from('nokey'), timestamp: BigInt(now) }]));
      }
      await log.appendAsLeader(buildControlBatch('commit', { producerId: 5n, producerEpoch: 0, coordinatorEpoch: 1, timestamp: BigInt(now) }));
      await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('same'), value: Buffer.from('last'), timestamp: BigInt(now) }]));
      await log.roll();
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log), false, 'records younger than min.compaction.lag.ms wait');
      now += 2 * DAY;
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log), true);
      const records = await readAll(log);
      // Offsets 0..39 were ('same', v), (null, 'nokey') pairs; 40 the commit marker; 41 the last 'same'.
      assert.deepEqual(records.map((r) => r.offset), [40n, 41n]);
      assert.equal(records[0].key!.readInt16BE(2), 1, 'the commit marker is kept');
      assert.ok(records.every((r) => r.key !== null), 'keyless records are removed');
      assert.equal(records[records.length - 1].value!.toString(), 'last');
      // Nothing new is dirty: the ratio check declines another pass.
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log), false);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('removes aborted transactions, leaves open ones, and drops markers after their horizon', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 10 * DAY;
      const log = await PartitionLog.open({
        dir, topic: 'c', partition: 0, now: () => now,
        config: config({ 'cleanup.policy': 'compact', 'segment.bytes': '100000', 'delete.retention.ms': String(DAY) }),
      });
      const cleaner = new LogCleaner(() => now);
      const ts = BigInt(now);
      const txn = (pid: bigint, key: string, value: string) =>
        buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value), timestamp: ts }], { producerId: pid, producerEpoch: 0, baseSequence: 0, isTransactional: true });
      const marker = (type: 'commit' | 'abort', pid: bigint) => buildControlBatch(type, { producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, timestamp: ts });
      await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('a'), value: Buffer.from('plain-a'), timestamp: ts }])); // 0
      await log.appendAsLeader(txn(1n, 'a', 'aborted-a')); // 1: aborted, must not hide plain-a
      await log.appendAsLeader(txn(2n, 'b', 'committed-b')); // 2
      await log.appendAsLeader(marker('abort', 1n)); // 3
      await log.appendAsLeader(marker('commit', 2n)); // 4
      await log.appendAsLeader(txn(3n, 'c', 'open-c')); // 5: no marker yet
      await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('b'), value: Buffer.from('plain-b'), timestamp: ts }])); // 6
      await log.roll();
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log, true), true);
      let recs = await readAll(log);
      const view = (rs: typeof recs) => rs.map((r) => `${r.offset}:${r.value?.length === 6 && r.key?.length === 4 ? 'marker' : r.value?.toString()}`);
      // plain-a survives (the aborted 'a' does not count), committed-b is superseded by plain-b,
      // the abort marker (no data left) gets a horizon but stays, the commit marker too, open-c stays.
      assert.deepEqual(view(recs), ['0:plain-a', '3:marker', '4:marker', '5:open-c', '6:plain-b']);
      // The kept abort marker keeps its .txnindex entry in the cleaned segment.
      assert.deepEqual((await log.abortedTransactions(0n, 7n)).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 1n, 3n]]);
      assert.equal((await readFile(join(dir, '00000000000000000000.txnindex'))).length, 34);
      now += 2 * DAY;
      await log.roll();
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await cleaner.maybeClean(log, true), true);
      recs = await readAll(log);
      assert.deepEqual(view(recs), ['0:plain-a', '5:open-c', '6:plain-b'], 'markers go after delete.retention.ms');
      assert.deepEqual(await log.abortedTransactions(0n, 7n), [], 'the index entry goes with its marker');
      assert.equal((await readFile(join(dir, '00000000000000000000.txnindex'))).length, 0);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('never cleans at or above the high watermark', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const now = 20 * DAY;
      const log = await PartitionLog.open({
        dir, topic: 'hw', partition: 0, now: () => now,
        config: config({ 'cleanup.policy': 'compact', 'segment.bytes': '400', 'min.cleanable.dirty.ratio': '0.01' }),
      });
      const cleaner = new LogCleaner(() => now);
      for (let i = 0; i < 12; i++) await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.from(`v${i}`), timestamp: BigInt(now) }]));
      assert.ok(log.segments.length >= 3);
      assert.equal(await cleaner.maybeClean(log, true), false, 'nothing committed: nothing cleanable');
      // The HW inside the second segment: only the first (wholly below it) may be cleaned.
      const [first, second] = log.segments;
      log.highWatermark = second.baseOffset + 1n;
      assert.equal(await cleaner.maybeClean(log, true), true);
      assert.equal(cleaner.firstDirtyOffset(log), first.nextOffset);
      const values = (await readAll(log)).filter((r) => r.offset >= log.highWatermark).map((r) => r.value!.toString());
      assert.equal(values.length, Number(log.logEndOffset - log.highWatermark), 'records at or above the HW untouched');
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('max.compaction.lag.ms forces a roll and a pass despite a low dirty ratio', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 20 * DAY;
      const mgr = await LogManager.open({ dataDir: dir, now: () => now });
      const log = await mgr.createLog('lag', 0, config({ 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.99', 'max.compaction.lag.ms': '60000' }));
      for (let i = 0; i < 10; i++) await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.from(`v${i}`), timestamp: BigInt(now) }]));
      await mgr.runRetention();
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await mgr.runCleaner(), 0, 'nothing due yet: all in the active segment');
      now += 120_000;
      await mgr.runRetention();
      assert.equal(log.segments.length, 2, 'the lagging active segment was rolled');
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await mgr.runCleaner(), 1);
      assert.deepEqual((await readAll(log)).map((r) => r.value!.toString()), ['v9']);
      await mgr.shutdown();
    } finally {
      await cleanup();
    }
  });

  it('a compaction failure is reported through onBackgroundError and the log marked uncleanable', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 20 * DAY;
      const reported: string[] = [];
      const mgr = await LogManager.open({ dataDir: dir, now: () => now, onBackgroundError: (m) => reported.push(m) });
      const log = await mgr.createLog('broken', 0, config({ 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01', 'max.compaction.lag.ms': '60000' }));
      for (let i = 0; i < 10; i++) await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.from(`v${i}`), timestamp: BigInt(now) }]));
      now += 120_000;
      await mgr.runRetention();
      assert.equal(log.segments.length, 2);
      // Flip a byte inside the sealed segment's last batch: its CRC no longer matches.
      const sealed = await readFile(log.segments[0].logPath);
      sealed[sealed.length - 3] ^= 0xff;
      await writeFile(log.segments[0].logPath, sealed);
      log.highWatermark = log.logEndOffset; // committed: the cleaner stays below the HW
      assert.equal(await mgr.runCleaner(), 0);
      assert.equal(reported.length, 1, reported.join('\n'));
      assert.match(reported[0], /compaction of broken-0 failed, marked uncleanable/);
      await mgr.shutdown();
    } finally {
      await cleanup();
    }
  });

  it('finishes an interrupted swap and discards unfinished cleaner output on open', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const cfg = config({ 'segment.bytes': '400' });
      const log = await PartitionLog.open({ dir, topic: 'c', partition: 0, config: cfg });
      for (let i = 0; i < 12; i++) await log.appendAsLeader(buildRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }, { key: Buffer.from('x'), value: Buffer.from('y') }]));
      assert.ok(log.segments.length >= 3);
      const [s0, s1] = log.segments;
      const end = log.logEndOffset;
      await log.close();
      // A "compaction output" covering segments 0 and 1 (same batches, concatenated), left as .swap.
      const merged = Buffer.concat([await readFile(s0.logPath), await readFile(s1.logPath)]);
      await writeFile(s0.logPath + '.swap', merged);
      await copyFile(s0.logPath, join(dir, 'junk.log.cleaned'));
      // Its aborted-transaction index, still `.swap`; the covered segments' old indexes are stale.
      const entry = (lastOffset: bigint) => ({ producerId: 9n, firstOffset: 0n, lastOffset, lastStableOffset: lastOffset + 1n });
      await writeFile(s0.txnIndexPath + '.swap', encodeAbortedTxns([entry(1n), entry(3n)]));
      await writeFile(s0.txnIndexPath, encodeAbortedTxns([entry(1n)]));
      await writeFile(s1.txnIndexPath, encodeAbortedTxns([entry(3n)]));
      const reopened = await PartitionLog.open({ dir, topic: 'c', partition: 0, config: cfg, cleanShutdown: true });
      const names = await readdir(dir);
      assert.ok(!names.some((n) => n.endsWith('.swap') || n.endsWith('.cleaned')));
      assert.ok(!names.includes(`${s1.baseOffset.toString().padStart(20, '0')}.log`), 'the covered segment is gone');
      assert.ok(!names.includes(`${s1.baseOffset.toString().padStart(20, '0')}.txnindex`), 'and its index');
      assert.equal((await readFile(s0.txnIndexPath)).length, 68, 'the output index took its place');
      assert.equal(reopened.logEndOffset, end);
      const offsets = (await readAll(reopened)).map((r) => r.offset);
      assert.deepEqual(offsets, Array.from({ length: Number(end) }, (_, i) => BigInt(i)));
      await reopened.close();
    } finally {
      await cleanup();
    }
  });
});
