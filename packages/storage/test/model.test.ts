import { it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchOffsets, scanBatches } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { batchOf, config, tempDir } from './helpers.js';

interface ModelBatch {
  base: bigint;
  last: bigint;
  crc: number;
}

/**
 * Random operations against a model of the log (the list of batches it must hold): appends of
 * one or several batches, reads at random offsets with random limits, follower truncation,
 * DeleteRecords, and clean or crash-style reopening.
 */
for (const initialSeed of [99, 7, 2024, 31337, 5]) it(`agrees with a model over random appends, reads, truncations, DeleteRecords and reopens (seed ${initialSeed})`, { timeout: 120_000 }, async () => {
  const { dir, cleanup } = await tempDir();
  let seed = initialSeed;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const cfg = config({ 'segment.bytes': '1200', 'index.interval.bytes': '150' });
  const openLog = (logStartOffset: bigint, recoveryPoint: bigint | null) =>
    PartitionLog.open({
      dir, topic: 'm', partition: 0, config: cfg,
      cleanShutdown: recoveryPoint === null,
      checkpoints: { logStartOffset, ...(recoveryPoint === null ? {} : { recoveryPoint }) },
    });
  let model: ModelBatch[] = [];
  let logStart = 0n;
  let end = 0n;
  let log = await openLog(0n, 0n);
  const counts: Record<string, number> = {};
  try {
    for (let step = 0; step < 400; step++) {
      const dice = random();
      const op = dice < 0.45 ? 'append' : dice < 0.7 ? 'read' : dice < 0.8 ? 'truncate' : dice < 0.88 ? 'deleteRecords' : dice < 0.94 ? 'reopenClean' : 'reopenCrash';
      counts[op] = (counts[op] ?? 0) + 1;
      const randomOffset = () => logStart + BigInt(Math.floor(random() * Number(end - logStart + 1n)));
      if (op === 'append') {
        const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => batchOf(1 + Math.floor(random() * 4), { tag: `s${step}.${i}`, valueBytes: Math.floor(random() * 60) }));
        const crcs = parts.map((p) => p.readUInt32BE(BatchOffsets.crc));
        const r = await log.appendAsLeader(Buffer.concat(parts));
        assert.equal(r.baseOffset, end);
        let at = end;
        for (const [i, p] of parts.entries()) {
          const n = BigInt(p.readInt32BE(BatchOffsets.lastOffsetDelta)) + 1n;
          model.push({ base: at, last: at + n - 1n, crc: crcs[i] });
          at += n;
        }
        end = at;
        assert.equal(r.lastOffset, end - 1n);
      } else if (op === 'read') {
        if (end === logStart) continue;
        const offset = randomOffset();
        const r = await log.read(offset, 1 + Math.floor(random() * 400));
        if (offset === end) {
          assert.equal(r.records.length, 0);
          continue;
        }
        const scan = scanBatches(r.records, { verifyCrc: true });
        assert.equal(scan.stoppedBy, null);
        const first = model.findIndex((b) => b.last >= offset);
        scan.batches.forEach(({ position }, i) => {
          const want = model[first + i];
          assert.equal(r.records.readBigInt64BE(position), want.base, `step ${step}: batch ${i} of read at ${offset}`);
          assert.equal(r.records.readUInt32BE(position + BatchOffsets.crc), want.crc);
        });
        assert.ok(scan.batches.length >= 1);
      } else if (op === 'truncate') {
        const offset = randomOffset();
        const firstSegmentBase = log.segments[0].baseOffset;
        await log.truncateTo(offset);
        if (offset < end) {
          if (offset <= firstSegmentBase) {
            model = [];
            end = offset < logStart ? logStart : offset;
            logStart = end;
          } else {
            // The batch holding `offset` goes whole; a log start inside it follows the end down.
            const cut = model.findIndex((b) => b.last >= offset);
            end = model[cut].base;
            model = model.slice(0, cut);
            if (logStart > end) logStart = end;
          }
        }
      } else if (op === 'deleteRecords') {
        const offset = randomOffset();
        await log.deleteRecordsBefore(offset);
        if (offset > logStart) logStart = offset;
      } else {
        const recoveryPoint = log.recoveryPoint;
        if (op === 'reopenClean') await log.close();
        else for (const s of log.segments) await s.fileHandle.close();
        log = await openLog(logStart, op === 'reopenClean' ? null : recoveryPoint);
      }
      assert.equal(log.logEndOffset, end, `step ${step} (${op}): log end`);
      assert.equal(log.logStartOffset, logStart, `step ${step} (${op}): log start`);
    }
    // Finally every batch from the log start on is there, in order, intact.
    let next = logStart;
    const seen: bigint[] = [];
    while (next < end) {
      const r = await log.read(next, 1 << 20);
      for (const { position } of scanBatches(r.records, { verifyCrc: true }).batches) seen.push(r.records.readBigInt64BE(position));
      next = r.nextOffset;
    }
    assert.deepEqual(seen, model.filter((b) => b.last >= logStart).map((b) => b.base));
    for (const op of ['append', 'read', 'truncate', 'deleteRecords', 'reopenClean', 'reopenCrash']) assert.ok((counts[op] ?? 0) > 3, `${op} exercised`);
    await log.close();
  } finally {
    await cleanup();
  }
});
