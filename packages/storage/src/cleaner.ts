/**
 * Log compaction (cleanup.policy=compact): keep the latest record for every key.
 *
 * A pass works on the sealed segments only (never the active one, never records younger than
 * min.compaction.lag.ms), so appends continue untouched and reads keep using the old segments
 * until the swap, which happens under the log's lock in a few renames:
 *   1. scan the dirty range [firstDirty, firstUncleanable) and map key -> latest offset;
 *   2. recopy the log from its start to the end of that range into `.cleaned` files, dropping
 *      records whose key has a later offset, keyless records, and tombstones whose delete horizon
 *      (KIP-534: stamped as now + delete.retention.ms the first time the cleaner keeps them) has
 *      passed; batches left untouched are copied byte for byte, offsets are always preserved;
 *   3. fsync, rename `.cleaned` -> `.swap`, retire the old segments, rename `.swap` -> `.log`.
 * A crash at any step is finished or undone by PartitionLog.open (leftover `.cleaned` files are
 * deleted, a `.swap` replaces what it covers).
 *
 * Transactions, as Kafka handles them: records of aborted transactions are removed, records of
 * transactions with no marker yet are left untouched (and not used to supersede older values),
 * and a commit/abort marker is removed once no data of its transaction remains and its own delete
 * horizon has passed. Outcomes come from scanning the markers in the cleaned range; each output
 * segment gets a `.txnindex` with the source entries whose abort marker it keeps.
 */
import { open, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BatchIterator,
  BatchOffsets,
  buildRecordBatch,
  decodeAttributes,
  readControlRecord,
  readRecordBatch,
  type RecordInput,
} from '@sluice/protocol';
import type { PartitionLog } from './partition-log.js';
import { CLEANED_SUFFIX, LOG_SUFFIX, segmentFileName, type LogSegment } from './segment.js';
import { TXN_INDEX_SUFFIX, encodeAbortedTxns } from './transaction-index.js';

const READ_CHUNK = 8 * 1024 * 1024;

export interface CleanerOptions {
  /** Most distinct keys one pass maps (Kafka bounds this with log.cleaner.dedupe.buffer.size). */
  maxMapEntries?: number;
}

export interface CleaningStats {
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  firstDirtyOffset: bigint;
  endOffset: bigint;
}

/** Calls `fn` for every batch of a segment, reading it in large chunks. */
export async function forEachBatch(seg: LogSegment, fn: (batch: Buffer, position: number) => void | Promise<void>): Promise<void> {
  let pos = 0;
  const end = seg.size;
  while (pos < end) {
    const chunk = await seg.readExactly(pos, Math.min(READ_CHUNK, end - pos));
    if (!chunk) return;
    const chunkStart = pos;
    const it = new BatchIterator(chunk, { allowPartial: true });
    while (it.next()) {
      let batch = it.batch;
      if (!it.complete) {
        // A batch running past the chunk (or larger than it): read it whole.
        const whole = await seg.readExactly(pos, it.size);
        if (!whole) return;
        batch = whole;
      }
      await fn(batch, pos);
      pos += it.size;
    }
    if (pos === chunkStart) return;
  }
}

export class LogCleaner {
  private readonly dirtyOffsets = new Map<PartitionLog, bigint>();
  readonly lastStats = new Map<PartitionLog, CleaningStats>();
  /** Earliest delete horizon left in each log's cleaned part: a pass is due then even if nothing is dirty. */
  private readonly nextHorizon = new Map<PartitionLog, bigint>();
  /** Logs a pass failed on (unreadable batch), with the reason; skipped by the manager. */
  readonly uncleanable = new Map<PartitionLog, string>();
  private readonly maxMapEntries: number;

  constructor(
    private readonly now: () => number = Date.now,
    options: CleanerOptions = {},
  ) {
    this.maxMapEntries = options.maxMapEntries ?? 4_000_000;
  }

  firstDirtyOffset(log: PartitionLog): bigint | undefined {
    return this.dirtyOffsets.get(log);
  }

  setFirstDirtyOffset(log: PartitionLog, offset: bigint): void {
    this.dirtyOffsets.set(log, offset);
  }

  forget(log: PartitionLog): void {
    this.dirtyOffsets.delete(log);
    this.lastStats.delete(log);
    this.uncleanable.delete(log);
    this.nextHorizon.delete(log);
  }

  /**
   * Cleans `log` when its policy includes compact and either the dirty ratio reached
   * min.cleanable.dirty.ratio or the oldest dirty record passed max.compaction.lag.ms (or `force`).
   * Returns true when a pass ran.
   */
  async maybeClean(log: PartitionLog, force = false): Promise<boolean> {
    const cfg = log.config;
    if (!cfg.cleanupPolicy.includes('compact') || log.isClosed) return false;
    const now = this.now();
    const segments = log.sealedSegments();
    // Segments holding records younger than min.compaction.lag.ms, and everything after them, wait.
    // So do records at or above the high watermark, as in Kafka: they are not committed yet (a
    // follower may truncate them) and a consumer cannot have read them.
    const lagHorizon = BigInt(now - cfg.minCompactionLagMs);
    const hw = log.highWatermark;
    let uncleanable = segments.findIndex((s) => s.maxTimestamp > lagHorizon || s.nextOffset > hw);
    if (uncleanable < 0) uncleanable = segments.length;
    const cleanable = segments.slice(0, uncleanable);
    if (cleanable.length === 0) return false;
    const firstUncleanable = uncleanable < segments.length ? segments[uncleanable].baseOffset : log.activeSegment.baseOffset;
    let firstDirty = this.dirtyOffsets.get(log) ?? log.logStartOffset;
    if (firstDirty < log.logStartOffset) firstDirty = log.logStartOffset;
    const horizonDue = (this.nextHorizon.get(log) ?? BigInt(Number.MAX_SAFE_INTEGER)) <= BigInt(now);
    if (firstDirty > firstUncleanable) firstDirty = firstUncleanable;
    if (firstDirty === firstUncleanable && !horizonDue) return false;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let firstDirtySegment: LogSegment | null = null;
    for (const s of cleanable) {
      if (s.nextOffset <= firstDirty) cleanBytes += s.size;
      else {
        dirtyBytes += s.size;
        firstDirtySegment ??= s;
      }
    }
    const ratio = dirtyBytes / Math.max(1, cleanBytes + dirtyBytes);
    const overdue =
      firstDirtySegment !== null &&
      firstDirtySegment.rollingBasedTimestamp !== null &&
      now - firstDirtySegment.rollingBasedTimestamp > cfg.maxCompactionLagMs;
    if (!force && ratio < cfg.minCleanableDirtyRatio && !overdue && !horizonDue) return false;
    await this.clean(log, cleanable, firstDirty);
    return true;
  }

  private async clean(log: PartitionLog, cleanable: LogSegment[], firstDirty: bigint): Promise<void> {
    for (const s of cleanable) s.acquire();
    try {
      // 0. Transaction outcomes, from the markers: aborted data is removed, data of transactions
      //    still open (no marker yet) is left alone and kept out of the key map.
      const outcome = await transactionOutcomes(cleanable);
      // The segments' aborted-transaction indexes are complete once the log's transaction state
      // is loaded (its rebuild indexes what a crash left out): needed only when there are aborts.
      if ([...outcome.values()].includes('abort')) await log.transactionState();
      const skipForMap = (base: bigint) => {
        const o = outcome.get(base);
        return o === 'abort' || o === 'open';
      };

      // 1. Latest offset per key over the dirty range, stopping at a segment boundary when full.
      const latest = new Map<string, bigint>();
      let endOffset = firstDirty;
      let mapped = 0;
      for (const seg of cleanable) {
        if (seg.nextOffset <= firstDirty) {
          mapped++;
          continue;
        }
        if (latest.size >= this.maxMapEntries) break;
        await forEachBatch(seg, (batch) => {
          const attrs = decodeAttributes(batch.readInt16BE(BatchOffsets.attributes));
          if (attrs.isControl || (attrs.isTransactional && skipForMap(batch.readBigInt64BE(0)))) return;
          for (const r of readRecordBatch(batch, 0).records) {
            if (r.offset < firstDirty || r.key === null) continue;
            latest.set(r.key.toString('latin1'), r.offset);
          }
        });
        endOffset = seg.nextOffset;
        mapped++;
      }
      const sources = cleanable.slice(0, mapped);
      if (sources.length === 0) return;

      // 2. Recopy, grouping consecutive sources into outputs no larger than segment.bytes.
      const cfg = log.config;
      const now = BigInt(this.now());
      const horizonForNew = now + BigInt(cfg.deleteRetentionMs);
      const groups: LogSegment[][] = [];
      let current: LogSegment[] = [];
      let currentBytes = 0;
      for (const s of sources) {
        const lastOffsetGap = current.length > 0 ? s.nextOffset - current[0].baseOffset : 0n;
        if (current.length > 0 && (currentBytes + s.size > cfg.segmentBytes || lastOffsetGap > 2147483647n)) {
          groups.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push(s);
        currentBytes += s.size;
      }
      if (current.length > 0) groups.push(current);

      let bytesBefore = 0;
      let bytesAfter = 0;
      let recordsRemoved = 0;
      const outputs: Array<{ sources: LogSegment[]; base: bigint }> = [];
      /** Per producer: whether its current transaction still has records in the output. */
      const txnHasData = new Map<bigint, boolean>();
      let minHorizon: bigint | null = null;
      const noteHorizon = (h: bigint) => {
        if (minHorizon === null || h < minHorizon) minHorizon = h;
      };
      for (const group of groups) {
        const base = group[0].baseOffset;
        const path = join(log.dir, segmentFileName(base, LOG_SUFFIX + CLEANED_SUFFIX));
        const out = await open(path, 'w');
        /** Abort markers this output keeps: their index entries come along. */
        const keptMarkers = new Set<bigint>();
        let written = 0;
        const pendingOut: Buffer[] = [];
        let pendingBytes = 0;
        const emit = async (b: Buffer) => {
          pendingOut.push(b);
          pendingBytes += b.length;
          if (pendingBytes >= 1024 * 1024) {
            await out.writev(pendingOut.splice(0), written);
            written += pendingBytes;
            pendingBytes = 0;
          }
        };
        try {
          for (const seg of group) {
            bytesBefore += seg.size;
            await forEachBatch(seg, async (batch) => {
              const attrs = decodeAttributes(batch.readInt16BE(BatchOffsets.attributes));
              const producerId = batch.readBigInt64BE(BatchOffsets.producerId);
              if (attrs.isControl) {
                // A transaction marker goes once none of its transaction's data is left and its
                // delete horizon has passed; the first pass that finds it alone stamps the horizon.
                const hasData = txnHasData.get(producerId) ?? false;
                txnHasData.delete(producerId);
                keptMarkers.add(batch.readBigInt64BE(BatchOffsets.baseOffset));
                if (hasData) return emit(batch);
                const marker = readRecordBatch(batch, 0);
                const mh = marker.header;
                if (attrs.hasDeleteHorizon) {
                  if (mh.baseTimestamp <= now) {
                    keptMarkers.delete(mh.baseOffset);
                    recordsRemoved += marker.records.length;
                    return;
                  }
                  noteHorizon(mh.baseTimestamp);
                  return emit(batch);
                }
                noteHorizon(horizonForNew);
                return emit(
                  buildRecordBatch(
                    marker.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
                    {
                      baseOffset: mh.baseOffset,
                      partitionLeaderEpoch: mh.partitionLeaderEpoch,
                      timestampType: attrs.timestampType,
                      producerId: mh.producerId,
                      producerEpoch: mh.producerEpoch,
                      baseSequence: mh.baseSequence,
                      isTransactional: true,
                      isControl: true,
                      lastOffsetDelta: mh.lastOffsetDelta,
                      maxTimestamp: mh.maxTimestamp,
                      deleteHorizon: horizonForNew,
                    },
                  ),
                );
              }
              const txn = attrs.isTransactional ? outcome.get(batch.readBigInt64BE(0)) : undefined;
              if (txn === 'open') {
                txnHasData.set(producerId, true);
                return emit(batch);
              }
              const parsed = readRecordBatch(batch, 0);
              const h = parsed.header;
              if (txn === 'abort') {
                recordsRemoved += parsed.records.length;
                return;
              }
              const horizonPassed = attrs.hasDeleteHorizon && h.baseTimestamp <= now;
              const kept: RecordInput[] = [];
              let tombstones = 0;
              for (const r of parsed.records) {
                if (r.key === null) continue;
                const newest = latest.get(r.key.toString('latin1'));
                if (newest !== undefined && r.offset < newest) continue;
                if (r.value === null) {
                  if (horizonPassed) continue;
                  tombstones++;
                }
                kept.push({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta });
              }
              recordsRemoved += parsed.records.length - kept.length;
              if (kept.length === 0) return;
              if (attrs.isTransactional) txnHasData.set(producerId, true);
              const needsHorizon = tombstones > 0 && !attrs.hasDeleteHorizon;
              if (tombstones > 0) noteHorizon(attrs.hasDeleteHorizon ? h.baseTimestamp : horizonForNew);
              if (kept.length === parsed.records.length && !needsHorizon) {
                await emit(batch);
                return;
              }
              const rebuilt = buildRecordBatch(kept, {
                baseOffset: h.baseOffset,
                partitionLeaderEpoch: h.partitionLeaderEpoch,
                compression: attrs.compression,
                timestampType: attrs.timestampType,
                producerId: h.producerId,
                producerEpoch: h.producerEpoch,
                baseSequence: h.baseSequence,
                isTransactional: attrs.isTransactional,
                lastOffsetDelta: h.lastOffsetDelta,
                maxTimestamp: h.maxTimestamp,
                ...(tombstones > 0 ? { deleteHorizon: attrs.hasDeleteHorizon ? h.baseTimestamp : horizonForNew } : {}),
              });
              await emit(rebuilt);
            });
          }
          if (pendingOut.length > 0) {
            await out.writev(pendingOut.splice(0), written);
            written += pendingBytes;
          }
          await out.datasync();
        } finally {
          await out.close();
        }
        const indexed = (await Promise.all(group.map((seg) => seg.txnIndex.load()))).flat().filter((e) => keptMarkers.has(e.lastOffset));
        const indexOut = await open(join(log.dir, segmentFileName(base, TXN_INDEX_SUFFIX + CLEANED_SUFFIX)), 'w');
        try {
          await writeFile(indexOut, encodeAbortedTxns(indexed));
          await indexOut.datasync();
        } finally {
          await indexOut.close();
        }
        bytesAfter += written;
        outputs.push({ sources: group, base });
      }

      // 3. Swap under the log's lock; abandoned if retention or truncation changed the segments.
      const swapped = await log.swapCleanedSegments(outputs);
      if (swapped) {
        this.dirtyOffsets.set(log, endOffset);
        if (minHorizon === null) this.nextHorizon.delete(log);
        else this.nextHorizon.set(log, minHorizon);
        this.lastStats.set(log, { bytesBefore, bytesAfter, recordsRemoved, firstDirtyOffset: firstDirty, endOffset });
      } else {
        for (const { base } of outputs) {
          for (const suffix of [LOG_SUFFIX, TXN_INDEX_SUFFIX]) await unlink(join(log.dir, segmentFileName(base, suffix + CLEANED_SUFFIX))).catch(() => undefined);
        }
      }
    } finally {
      for (const s of cleanable) await s.release();
    }
  }
}

export type TransactionOutcome = 'commit' | 'abort' | 'open';

/**
 * Outcome of every transactional data batch (by base offset) in `segments`, read from the
 * commit/abort markers that follow it; 'open' when no marker follows yet.
 */
export async function transactionOutcomes(segments: LogSegment[]): Promise<Map<bigint, TransactionOutcome>> {
  const outcome = new Map<bigint, TransactionOutcome>();
  const pending = new Map<bigint, bigint[]>();
  for (const seg of segments) {
    await forEachBatch(seg, (batch) => {
      const attrs = decodeAttributes(batch.readInt16BE(BatchOffsets.attributes));
      if (!attrs.isTransactional) return;
      const producerId = batch.readBigInt64BE(BatchOffsets.producerId);
      if (!attrs.isControl) {
        const list = pending.get(producerId) ?? [];
        list.push(batch.readBigInt64BE(0));
        pending.set(producerId, list);
        return;
      }
      const marker = readControlRecord(readRecordBatch(batch, 0).records[0]);
      if (marker.type !== 'abort' && marker.type !== 'commit') return;
      for (const base of pending.get(producerId) ?? []) outcome.set(base, marker.type);
      pending.delete(producerId);
    });
  }
  for (const bases of pending.values()) for (const base of bases) outcome.set(base, 'open');
  return outcome;
}
