/**
 * One partition's log: an ordered list of segments in `<topic>-<partition>/`.
 *
 * Write path: append() validates batches (sizes, CRC, timestamps) and queues them; a single writer
 * task per log drains the queue, assigns offsets in place, rolls segments and writes every queued
 * append with one writev. Appends that need durability wait on the group fsync: one fdatasync in
 * flight at a time, covering every append written before it started, while the next group is
 * already being written. Logs never share a lock, so partitions append independently.
 *
 * Read path: read() locates the batch containing the offset through the sparse index and returns
 * whole batches exactly as stored, sliced from the one buffer they were read into.
 */
import { open, readdir, rm, unlink, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BATCH_HEADER_SIZE,
  BatchIterator,
  BatchOffsets,
  scanBatches,
  setBaseOffset,
  setPartitionLeaderEpoch,
  stampLogAppendTime,
  readRecordBatch,
  computeBatchCrc,
} from '@sluice/protocol';
import type { TopicConfig } from './config.js';
import { appendTooLarge, batchTooLarge, corruptBatch, invalidRecord, invalidTimestamp, offsetOutOfRange, storageError } from './errors.js';
import { fsyncDirectory } from './checkpoint.js';
import { LeaderEpochCache, type EpochEndOffset } from './leader-epoch-cache.js';
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  LogSegment,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  segmentFileName,
  type ReadBuffers,
} from './segment.js';

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;

const INT32_MAX = 2147483647n;
/** Keeps one writev under the kernel's IOV_MAX (1024). */
const MAX_GROUP_BUFFERS = 512;

export interface FollowerAppendOptions {
  /** Resolve only after the data is fsynced, whatever flush.messages says. */
  durable?: boolean;
}

export interface AppendOptions extends FollowerAppendOptions {
  /** Stamped into every batch, and recorded in the leader-epoch cache. */
  leaderEpoch?: number;
  /**
   * The caller has already checked every batch's CRC (e.g. while decoding the records to
   * validate them), so the log does not compute it a second time. Never set it for bytes that
   * have not been checked: the log would then store a corrupt batch.
   */
  crcVerified?: boolean;
}

export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The broker's clock for LogAppendTime topics, -1 for CreateTime (as ProduceResponse reports). */
  logAppendTime: bigint;
  logStartOffset: bigint;
  /** Batches and record offsets appended. */
  batchCount: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: no batch whose last offset is >= this (e.g. the high watermark). */
  maxOffset?: bigint;
  /** Return the first batch even when it is larger than maxBytes (KIP-74). Default true. */
  minOneBatch?: boolean;
  /**
   * Where read buffers come from (a pool the caller recycles once the bytes are sent). Buffers
   * the read does not return are given back here; the returned records are the caller's to
   * release. Default: fresh allocations.
   */
  buffers?: ReadBuffers;
}


export interface ReadResult {
  /** Whole record batches, as stored; empty when nothing is available. */
  records: Buffer;
  /** Offset to fetch next. */
  nextOffset: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

export interface TimestampAndOffset {
  timestamp: bigint;
  offset: bigint;
  leaderEpoch: number;
}

export interface PartitionLogState {
  recoveryPoint: bigint;
  logStartOffset: bigint;
  highWatermark: bigint;
}

export interface OpenLogOptions {
  dir: string;
  topic: string;
  partition: number;
  config: TopicConfig;
  /** From the log dir's checkpoints; missing means "recover everything". */
  checkpoints?: Partial<PartitionLogState>;
  /** True when the log dir was shut down cleanly (the marker file was present). */
  cleanShutdown?: boolean;
  /** Clock, overridable by tests. */
  now?: () => number;
}

interface PendingAppend {
  buf: Buffer;
  batchCount: number;
  batchPositions: number[];
  batchSizes: number[];
  /** Offsets the append covers (sum of lastOffsetDelta + 1). */
  offsetSpan: bigint;
  /** Newest batch max timestamp (segment.ms roll check). */
  maxTimestamp: number;
  /** False until the CRCs are checked; the writer checks them while the write is in flight. */
  crcVerified: boolean;
  assignOffsets: boolean;
  leaderEpoch: number;
  durable: boolean;
  logAppendTime: bigint;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** Serialises async critical sections (writer groups, truncation, retention, swaps). */
class AsyncLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const part = name.slice(dash + 1);
  if (!/^\d+$/.test(part)) return null;
  return { topic: name.slice(0, dash), partition: Number(part) };
}

export class PartitionLog {
  segments: LogSegment[] = [];
  readonly lock = new AsyncLock();
  private queue: PendingAppend[] = [];
  private draining = false;
  private endOffset = 0n;
  private startOffset = 0n;
  private hw = 0n;
  private recoveredTo = 0n;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private fsyncInFlight: Promise<void> | null = null;
  private fsyncWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private closed = false;
  private failure: Error | null = null;
  private readonly now: () => number;
  /** Random per-log reduction of segment.ms (segment.jitter.ms), fixed at open like Kafka's. */
  private readonly rollJitterMs: number;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: TopicConfig,
    readonly leaderEpochCache: LeaderEpochCache,
    now: () => number,
  ) {
    this.now = now;
    this.lastFlushMs = now();
    this.rollJitterMs = config.segmentJitterMs > 0 ? Math.floor(Math.random() * config.segmentJitterMs) : 0;
  }

  get logEndOffset(): bigint {
    return this.endOffset;
  }
  get logStartOffset(): bigint {
    return this.startOffset;
  }
  get highWatermark(): bigint {
    return this.hw;
  }
  /** Offset below which everything is known to be fsynced. */
  get recoveryPoint(): bigint {
    return this.recoveredTo;
  }
  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }
  get sizeInBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get unflushedMessageCount(): number {
    return this.unflushedMessages;
  }
  get millisSinceLastFlush(): number {
    return this.now() - this.lastFlushMs;
  }

  /** Sets the high watermark, clamped to [logStartOffset, logEndOffset]. */
  set highWatermark(offset: bigint) {
    this.hw = offset < this.startOffset ? this.startOffset : offset > this.endOffset ? this.endOffset : offset;
  }

  private get segmentOptions() {
    return { indexIntervalBytes: this.config.indexIntervalBytes, maxIndexBytes: this.config.segmentIndexBytes };
  }

  // ---------------------------------------------------------------- open and recovery

  static async open(options: OpenLogOptions): Promise<PartitionLog> {
    const { dir } = options;
    const epochs = await LeaderEpochCache.load(dir);
    const log = new PartitionLog(dir, options.topic, options.partition, options.config, epochs, options.now ?? Date.now);
    await log.loadSegments(options.checkpoints ?? {}, options.cleanShutdown ?? false);
    return log;
  }

  private async loadSegments(cp: Partial<PartitionLogState>, cleanShutdown: boolean): Promise<void> {
    const names = await readdir(this.dir);
    // Leftovers of interrupted operations: deletions to finish, unfinished compaction output.
    for (const name of names) {
      if (name.endsWith(DELETED_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith('.tmp')) {
        await unlink(join(this.dir, name)).catch(() => undefined);
      }
    }
    await this.completeSwaps(names.filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX)));
    const current = await readdir(this.dir);
    const bases = current
      .filter((n) => n.endsWith(LOG_SUFFIX) && /^\d{20}\.log$/.test(n))
      .map((n) => BigInt(n.slice(0, 20)))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Index files whose log is gone are stale.
    for (const n of current) {
      if ((n.endsWith(INDEX_SUFFIX) || n.endsWith(TIME_INDEX_SUFFIX)) && /^\d{20}\./.test(n) && !bases.includes(BigInt(n.slice(0, 20)))) {
        await unlink(join(this.dir, n)).catch(() => undefined);
      }
    }
    const opts = this.segmentOptions;
    if (bases.length === 0) {
      const start = cp.logStartOffset ?? 0n;
      this.segments = [await LogSegment.create(this.dir, start, opts, this.preallocateBytes)];
      await fsyncDirectory(this.dir);
    } else {
      for (const base of bases) this.segments.push(await LogSegment.open(this.dir, base, opts));
    }
    const recoveryPoint = cleanShutdown ? null : (cp.recoveryPoint ?? 0n);
    let firstToRecover = this.segments.length;
    if (recoveryPoint !== null) {
      firstToRecover = 0;
      for (let i = 0; i < this.segments.length; i++) if (this.segments[i].baseOffset <= recoveryPoint) firstToRecover = i;
    }
    const last = this.segments.length - 1;
    for (let i = 0; i < firstToRecover && i < last; i++) await this.segments[i].loadSummary(this.segments[i + 1].baseOffset);
    if (recoveryPoint === null) {
      await this.segments[last].loadIndexes();
    } else {
      for (let i = firstToRecover; i < this.segments.length; i++) {
        const seg = this.segments[i];
        // No max.message.bytes bound here: it may have been lowered after valid data was written.
        const truncated = await seg.recover();
        await seg.flush();
        await Promise.all([(await seg.offsetIndex()).persist(true), (await seg.timeIndex()).persist(true)]);
        if (truncated > 0 && i < this.segments.length - 1) {
          // Anything after a damaged batch was never acknowledged as durable: drop later segments.
          for (const later of this.segments.splice(i + 1)) await later.markDeleted();
          break;
        }
      }
    }
    // An empty active segment after a roll still ends where its predecessor does.
    this.endOffset = this.activeSegment.nextOffset;
    for (const seg of this.segments) if (seg.nextOffset > this.endOffset && seg !== this.activeSegment) this.endOffset = seg.nextOffset;
    this.startOffset = this.clampOffset(cp.logStartOffset ?? this.segments[0].baseOffset, this.segments[0].baseOffset, this.endOffset);
    this.recoveredTo = this.endOffset;
    this.hw = this.clampOffset(cp.highWatermark ?? 0n, this.startOffset, this.endOffset);
    let epochsChanged = this.leaderEpochCache.truncateFromEnd(this.endOffset);
    if (this.leaderEpochCache.truncateFromStart(this.startOffset)) epochsChanged = true;
    if (epochsChanged) await this.leaderEpochCache.persist();
  }

  private clampOffset(v: bigint, lo: bigint, hi: bigint): bigint {
    return v < lo ? lo : v > hi ? hi : v;
  }

  /**
   * A `.swap` segment is finished (fsynced) compaction output whose swap was interrupted: it
   * replaces every old segment whose offsets it covers. Each step is idempotent, and the swap file
   * takes its final name last, so a crash here is finished by the next open.
   */
  private async completeSwaps(swapLogs: string[]): Promise<void> {
    for (const name of swapLogs.sort()) {
      const base = BigInt(name.slice(0, 20));
      const swapPath = join(this.dir, name);
      const end = await endOffsetOfFile(swapPath, base);
      const logs = (await readdir(this.dir)).filter((n) => /^\d{20}\.log$/.test(n)).map((n) => BigInt(n.slice(0, 20)));
      for (const b of logs) {
        if (b >= base && b < end) {
          for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) await unlink(join(this.dir, segmentFileName(b, suffix))).catch(() => undefined);
        }
      }
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) await unlink(join(this.dir, segmentFileName(base, suffix))).catch(() => undefined);
      await fsyncDirectory(this.dir);
      await rename(swapPath, join(this.dir, segmentFileName(base, LOG_SUFFIX)));
      await fsyncDirectory(this.dir);
    }
  }

  private get preallocateBytes(): number {
    return this.config.preallocate ? this.config.segmentBytes : 0;
  }

  // ---------------------------------------------------------------- append

  /**
   * Leader append (Kafka's appendAsLeader): one or more record batches (v2) given as their wire
   * bytes get the next offsets and the leader epoch. The buffer is modified in place (offsets,
   * leader epoch, LogAppendTime) and must not be reused by the caller.
   */
  appendAsLeader(batches: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    return this.enqueue(batches, true, options);
  }

  /**
   * Follower append (Kafka's appendAsFollower): batches keep the leader's offsets and epochs; they
   * must be in order and start at or above the log end offset.
   */
  appendAsFollower(batches: Buffer, options: FollowerAppendOptions = {}): Promise<AppendResult> {
    return this.enqueue(batches, false, options);
  }

  private enqueue(batches: Buffer, assignOffsets: boolean, options: AppendOptions): Promise<AppendResult> {
    try {
      if (this.closed) throw storageError(`log ${this.topic}-${this.partition} is closed`);
      if (this.failure) throw storageError(`log ${this.topic}-${this.partition} failed earlier: ${this.failure.message}`, this.failure);
      const pending = this.validate(batches, assignOffsets, options);
      return new Promise<AppendResult>((resolve, reject) => {
        pending.resolve = resolve;
        pending.reject = reject;
        this.queue.push(pending);
        if (!this.draining) {
          this.draining = true;
          void this.drain();
        }
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Structural checks at call time (sizes, magic, timestamps). CRCs of CreateTime batches are
   * verified by the writer while the bytes are being written (see writeOut), which hides most of
   * their cost; LogAppendTime batches are verified here, before stamping gives them a new CRC.
   */
  private validate(buf: Buffer, assignOffsets: boolean, options: AppendOptions): PendingAppend {
    const cfg = this.config;
    if (buf.length > cfg.segmentBytes) throw appendTooLarge(buf.length, cfg.segmentBytes);
    const now = BigInt(this.now());
    const logAppendTime = cfg.messageTimestampType === 'LogAppendTime' ? now : -1n;
    const crcVerified = options.crcVerified === true;
    const scan = scanBatches(buf, { verifyCrc: logAppendTime >= 0n && !crcVerified });
    if (scan.stoppedBy !== null) {
      throw corruptBatch(`record batch at byte ${scan.validBytes} is ${scan.stoppedBy}`);
    }
    if (scan.batches.length === 0) throw invalidRecord('append carries no record batch');
    const positions: number[] = [];
    const sizes: number[] = [];
    let span = 0n;
    let maxTimestamp = -1;
    for (const { position, size } of scan.batches) {
      if (size > cfg.maxMessageBytes) throw batchTooLarge(size, cfg.maxMessageBytes);
      if (buf.readInt32BE(position + BatchOffsets.recordCount) < 0) throw invalidRecord('negative record count');
      const delta = buf.readInt32BE(position + BatchOffsets.lastOffsetDelta);
      if (delta < 0) throw invalidRecord(`negative lastOffsetDelta ${delta}`);
      span += BigInt(delta) + 1n;
      if (logAppendTime >= 0n) {
        stampLogAppendTime(buf, position, logAppendTime);
      } else {
        const maxTs = buf.readBigInt64BE(position + BatchOffsets.maxTimestamp);
        const beforeMax = BigInt(cfg.messageTimestampBeforeMaxMs);
        const afterMax = BigInt(cfg.messageTimestampAfterMaxMs);
        if (maxTs >= 0n && (now - maxTs > beforeMax || maxTs - now > afterMax)) {
          throw invalidTimestamp(`batch max timestamp ${maxTs} is outside the window allowed around ${now}`);
        }
      }
      maxTimestamp = Math.max(maxTimestamp, Number(buf.readBigInt64BE(position + BatchOffsets.maxTimestamp)));
      positions.push(position);
      sizes.push(size);
    }
    return {
      buf,
      batchCount: scan.batches.length,
      batchPositions: positions,
      batchSizes: sizes,
      offsetSpan: span,
      maxTimestamp,
      crcVerified: crcVerified || logAppendTime >= 0n,
      assignOffsets,
      leaderEpoch: options.leaderEpoch ?? -1,
      durable: options.durable ?? false,
      logAppendTime,
      resolve: () => undefined,
      reject: () => undefined,
    };
  }

  private static crcMismatch(p: PendingAppend): boolean {
    for (let i = 0; i < p.batchCount; i++) {
      const at = p.batchPositions[i];
      if (computeBatchCrc(p.buf, at, p.batchSizes[i]) !== p.buf.readUInt32BE(at + BatchOffsets.crc)) return true;
    }
    return false;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, Math.min(this.queue.length, MAX_GROUP_BUFFERS));
      await this.lock.run(() => this.writeGroup(group)).catch((e: unknown) => {
        for (const p of group) p.reject(e);
      });
    }
    this.draining = false;
  }

  /**
   * Kafka's roll conditions for adding `addBytes` (newest timestamp `maxTimestamp`) after
   * `pendingBytes` not yet written. Segment age is measured, as in Kafka, from the first batch's
   * timestamp to the incoming one (so replayed old data does not roll every append), or from the
   * segment's creation when timestamps are missing.
   */
  private shouldRoll(seg: LogSegment, pendingBytes: number, addBytes: number, lastOffset: bigint, maxTimestamp: number): boolean {
    const size = seg.size + pendingBytes;
    if (size === 0) return lastOffset - seg.baseOffset > INT32_MAX;
    if (size + addBytes > this.config.segmentBytes) return true;
    if (lastOffset - seg.baseOffset > INT32_MAX) return true;
    if (seg.indexFull) return true;
    const first = seg.rollingBasedTimestamp;
    const waited = first !== null && first >= 0 && maxTimestamp >= 0 ? maxTimestamp - first : this.now() - seg.createdMs;
    return waited > this.config.segmentMs - this.rollJitterMs;
  }

  /** Runs under the lock: offsets, rolls, one writev per segment touched, bookkeeping. */
  private async writeGroup(group: PendingAppend[]): Promise<void> {
    type Placed = { p: PendingAppend; base: bigint; last: bigint };
    let items: Placed[] = [];
    let bytes = 0;
    const done: Placed[] = [];
    let epochsChanged = false;

    /** Gives leader appends consecutive offsets from `from`; returns the next offset. */
    const place = (p: PendingAppend, from: bigint): Placed => {
      if (!p.assignOffsets) {
        const base = p.buf.readBigInt64BE(p.batchPositions[0]);
        const lastAt = p.batchPositions[p.batchCount - 1];
        return { p, base, last: p.buf.readBigInt64BE(lastAt) + BigInt(p.buf.readInt32BE(lastAt + BatchOffsets.lastOffsetDelta)) };
      }
      let next = from;
      for (const at of p.batchPositions) {
        setBaseOffset(p.buf, at, next);
        if (p.leaderEpoch >= 0) setPartitionLeaderEpoch(p.buf, at, p.leaderEpoch);
        next += BigInt(p.buf.readInt32BE(at + BatchOffsets.lastOffsetDelta)) + 1n;
      }
      return { p, base: from, last: next - 1n };
    };

    /** Follower batches must be in order and start at or above the log end (gaps allowed). */
    const followerOrderError = (p: PendingAppend, from: bigint): Error | null => {
      let expected = from;
      for (const at of p.batchPositions) {
        const b = p.buf.readBigInt64BE(at);
        if (b < expected) return invalidRecord(`follower append at offset ${b} is below the expected offset ${expected}`);
        expected = b + BigInt(p.buf.readInt32BE(at + BatchOffsets.lastOffsetDelta)) + 1n;
      }
      return null;
    };

    const writeOut = async (): Promise<void> => {
      if (items.length === 0) return;
      const seg = this.activeSegment;
      const startPos = seg.size;
      let placed = items;
      const writing = seg.writeAt(placed.map((x) => x.p.buf), startPos);
      // CRCs are computed here, on this thread, while the write runs on the I/O pool.
      const corrupt = new Set<PendingAppend>();
      for (const { p } of placed) {
        if (!p.crcVerified) {
          if (PartitionLog.crcMismatch(p)) corrupt.add(p);
          else p.crcVerified = true;
        }
      }
      try {
        await writing;
        if (corrupt.size > 0) {
          // Nothing past startPos was visible; drop it and rewrite only the good appends.
          await seg.fileHandle.truncate(startPos);
          for (const p of corrupt) p.reject(corruptBatch('record batch failed its CRC32C check'));
          placed = [];
          let next = this.endOffset;
          for (const { p } of items) {
            if (corrupt.has(p)) continue;
            const x = place(p, next);
            placed.push(x);
            if (p.assignOffsets) next = x.last + 1n;
          }
          if (placed.length > 0) await seg.writeAt(placed.map((x) => x.p.buf), startPos);
        }
      } catch (e) {
        await seg.fileHandle.truncate(startPos).catch(() => undefined);
        items = placed;
        throw storageError(`write to ${seg.logPath} failed`, e);
      }
      let pos = startPos;
      for (const { p, base } of placed) {
        for (let i = 0; i < p.batchCount; i++) {
          const at = p.batchPositions[i];
          const batchBase = p.buf.readBigInt64BE(at);
          seg.indexAppended({
            baseOffset: batchBase,
            lastOffset: batchBase + BigInt(p.buf.readInt32BE(at + BatchOffsets.lastOffsetDelta)),
            maxTimestamp: p.buf.readBigInt64BE(at + BatchOffsets.maxTimestamp),
            position: pos,
            size: p.batchSizes[i],
          });
          pos += p.batchSizes[i];
          if (!p.assignOffsets && this.leaderEpochCache.assign(p.buf.readInt32BE(at + BatchOffsets.partitionLeaderEpoch), batchBase)) {
            epochsChanged = true;
          }
        }
        if (p.assignOffsets && p.leaderEpoch >= 0 && this.leaderEpochCache.assign(p.leaderEpoch, base)) epochsChanged = true;
      }
      seg.size = pos;
      if (placed.length > 0) seg.dirty = true;
      this.endOffset = seg.nextOffset;
      done.push(...placed);
      items = [];
      bytes = 0;
    };

    const pendingEnd = () => (items.length > 0 ? items[items.length - 1].last + 1n : this.endOffset);
    try {
      for (const p of group) {
        const from = pendingEnd();
        if (!p.assignOffsets) {
          const err = followerOrderError(p, from);
          if (err) {
            p.reject(err);
            continue;
          }
        }
        let x = place(p, from);
        if (this.shouldRoll(this.activeSegment, bytes, p.buf.length, x.last, p.maxTimestamp)) {
          await writeOut();
          const after = this.endOffset;
          if (!p.assignOffsets) {
            const err = followerOrderError(p, after);
            if (err) {
              p.reject(err);
              continue;
            }
          }
          x = place(p, after);
          await this.rollTo(x.base);
        }
        items.push(x);
        bytes += p.buf.length;
      }
      await writeOut();
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.endOffset = this.activeSegment.nextOffset;
      for (const p of group) if (!done.some((d) => d.p === p)) p.reject(e);
    }
    if (epochsChanged) await this.leaderEpochCache.persist();
    if (done.length === 0) return;

    let messages = 0;
    let needsFlush = false;
    for (const { p, base, last } of done) {
      messages += Number(last - base) + 1;
      if (p.durable) needsFlush = true;
    }
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.config.flushMessages) needsFlush = true;
    const settle = () => {
      for (const { p, base, last } of done) {
        p.resolve({ baseOffset: base, lastOffset: last, logAppendTime: p.logAppendTime, logStartOffset: this.startOffset, batchCount: p.batchCount });
      }
    };
    if (!needsFlush) {
      settle();
      return;
    }
    // Not awaited: the next group is written while this fsync runs (group commit).
    this.requestFlush().then(settle, (e: unknown) => {
      for (const { p } of done) p.reject(storageError('fsync failed', e));
    });
  }

  /** Seals the active segment and starts a new one at `baseOffset`. Call under the lock. */
  private async rollTo(baseOffset: bigint): Promise<void> {
    const old = this.activeSegment;
    if (old.isEmpty && old.baseOffset === baseOffset) return;
    if (old.isEmpty) {
      this.segments.pop();
      await old.markDeleted();
    } else {
      await old.seal();
    }
    const seg = await LogSegment.create(this.dir, baseOffset, this.segmentOptions, this.preallocateBytes);
    this.segments.push(seg);
    await fsyncDirectory(this.dir);
  }

  /** Rolls the active segment if it is non-empty (retention uses it to expire the active segment). */
  async roll(): Promise<void> {
    await this.lock.run(async () => {
      if (!this.activeSegment.isEmpty) await this.rollTo(this.endOffset);
    });
  }

  /**
   * Rolls a non-empty active segment that has been open for segment.ms even though nothing new
   * arrived (so an idle compacted topic still gets its last records cleaned).
   */
  async maybeRollForTime(): Promise<void> {
    const seg = this.activeSegment;
    if (seg.isEmpty) return;
    const now = this.now();
    const aged = now - seg.createdMs > this.config.segmentMs - this.rollJitterMs;
    // KIP-354: a compacted log's active segment is rolled once its first record passes
    // max.compaction.lag.ms, so that record becomes cleanable in time.
    const first = seg.rollingBasedTimestamp;
    const lagged = this.config.cleanupPolicy.includes('compact') && first !== null && first >= 0 && now - first > this.config.maxCompactionLagMs;
    if (aged || lagged) await this.roll();
  }

  // ---------------------------------------------------------------- flush

  /** fsyncs everything written so far; concurrent callers share one fsync. */
  flush(): Promise<void> {
    return this.requestFlush();
  }

  private requestFlush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.fsyncWaiters.push({ resolve, reject });
      if (!this.fsyncInFlight) this.startFsync();
    });
  }

  private startFsync(): void {
    const waiters = this.fsyncWaiters;
    this.fsyncWaiters = [];
    const upTo = this.endOffset;
    const dirty = this.segments.filter((s) => s.dirty);
    this.unflushedMessages = 0;
    const run = async () => {
      for (const seg of dirty) await seg.flush();
    };
    this.fsyncInFlight = run().then(
      () => {
        if (upTo > this.recoveredTo) this.recoveredTo = upTo;
        this.lastFlushMs = this.now();
        for (const w of waiters) w.resolve();
      },
      (e: unknown) => {
        this.failure = e instanceof Error ? e : new Error(String(e));
        for (const w of waiters) w.reject(e);
      },
    );
    void this.fsyncInFlight.finally(() => {
      this.fsyncInFlight = null;
      if (this.fsyncWaiters.length > 0) this.startFsync();
    });
  }

  private async settleFsync(): Promise<void> {
    while (this.fsyncInFlight) await this.fsyncInFlight.catch(() => undefined);
  }

  // ---------------------------------------------------------------- read

  private segmentIndexFor(offset: bigint): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Whole batches from the one containing `offset`, up to `maxBytes` (see ReadOptions). */
  async read(offset: bigint, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    for (;;) {
      const end = this.endOffset;
      if (offset < this.startOffset || offset > end) throw offsetOutOfRange(offset, this.startOffset, end);
      const maxOffset = options.maxOffset !== undefined && options.maxOffset < end ? options.maxOffset : end;
      const minOneBatch = options.minOneBatch ?? true;
      const result: ReadResult = {
        records: Buffer.alloc(0),
        nextOffset: offset,
        logStartOffset: this.startOffset,
        logEndOffset: end,
        highWatermark: this.hw,
      };
      if (offset >= maxOffset) return result;
      // A snapshot of the segment list; a segment retired under us (retention, compaction swap)
      // means the list changed, so wait for that change to finish and start again.
      const candidates = this.segments.slice(this.segmentIndexFor(offset));
      let changed = false;
      for (const seg of candidates) {
        if (seg.retired) {
          changed = true;
          break;
        }
        seg.acquire();
        let r;
        try {
          r = await seg.read(offset, maxBytes, maxOffset, minOneBatch, options.buffers);
        } finally {
          await seg.release();
        }
        if (r) {
          result.records = r.data;
          result.nextOffset = r.data.length > 0 ? r.nextOffset : offset;
          return result;
        }
      }
      if (!changed) return result;
      await this.lock.run(async () => undefined);
    }
  }

  /**
   * ListOffsets: LATEST (-1) the log end offset, EARLIEST (-2) the log start offset, MAX_TIMESTAMP
   * (-3) the record with the largest timestamp, otherwise the first record whose timestamp is
   * >= `timestamp`. Null when no record qualifies.
   */
  async offsetForTimestamp(timestamp: bigint): Promise<TimestampAndOffset | null> {
    const epochFor = (offset: bigint) => {
      let epoch = -1;
      for (const e of this.leaderEpochCache.all) if (e.startOffset <= offset) epoch = e.epoch;
      return epoch;
    };
    if (timestamp === LATEST_TIMESTAMP) return { timestamp: -1n, offset: this.endOffset, leaderEpoch: this.leaderEpochCache.latestEpoch };
    if (timestamp === EARLIEST_TIMESTAMP) return { timestamp: -1n, offset: this.startOffset, leaderEpoch: epochFor(this.startOffset) };
    if (timestamp === MAX_TIMESTAMP) {
      let best: LogSegment | null = null;
      for (const seg of this.segments) if (seg.size > 0 && (!best || seg.maxTimestamp > best.maxTimestamp)) best = seg;
      if (!best || best.maxTimestamp < 0n) return null;
      const loc = await this.withSegment(best, () => best.findBatchByTimestamp(best.maxTimestamp));
      if (!loc) return null;
      const exact = await this.recordAtTimestamp(best, loc.position, loc.size, best.maxTimestamp, true);
      const offset = exact?.offset ?? loc.lastOffset;
      return { timestamp: best.maxTimestamp, offset, leaderEpoch: epochFor(offset) };
    }
    if (timestamp < 0n) return null;
    for (const seg of this.segments.slice(this.segmentIndexFor(this.startOffset))) {
      if (seg.maxTimestamp < timestamp) continue;
      const loc = await this.withSegment(seg, () => seg.findBatchByTimestamp(timestamp));
      if (!loc) continue;
      const exact = await this.recordAtTimestamp(seg, loc.position, loc.size, timestamp, false);
      let offset = exact?.offset ?? loc.baseOffset;
      if (offset < this.startOffset) offset = this.startOffset;
      return { timestamp: exact?.timestamp ?? loc.maxTimestamp, offset, leaderEpoch: epochFor(offset) };
    }
    return null;
  }

  /** Runs `fn` with `seg` held open; null when the segment was retired meanwhile. */
  private async withSegment<T>(seg: LogSegment, fn: () => Promise<T | null>): Promise<T | null> {
    if (seg.retired) return null;
    seg.acquire();
    try {
      return await fn();
    } finally {
      await seg.release();
    }
  }

  /**
   * Decodes one batch to find the exact record: the first with timestamp >= target, or (max mode)
   * the first with exactly the target. LogAppendTime batches need no decoding.
   */
  private async recordAtTimestamp(
    seg: LogSegment,
    position: number,
    size: number,
    target: bigint,
    exactMatch: boolean,
  ): Promise<{ offset: bigint; timestamp: bigint } | null> {
    seg.acquire();
    try {
      const bytes = await seg.readExactly(position, size);
      // The time index named a batch the segment does not hold whole: the index is damaged.
      if (!bytes) throw corruptBatch(`${this.topic}-${this.partition}: the time index points at ${size} bytes at position ${position} of segment ${seg.baseOffset}, past its end`);
      const attributes = bytes.readInt16BE(BatchOffsets.attributes);
      if (attributes & 0x08) return { offset: bytes.readBigInt64BE(0), timestamp: bytes.readBigInt64BE(BatchOffsets.maxTimestamp) };
      let batch;
      try {
        batch = readRecordBatch(bytes, 0, { verifyCrc: false });
      } catch (err) {
        throw corruptBatch(`${this.topic}-${this.partition}: batch at position ${position} of segment ${seg.baseOffset} cannot be decoded: ${(err as Error).message}`);
      }
      for (const r of batch.records) {
        if (exactMatch ? r.timestamp === target : r.timestamp >= target) return { offset: r.offset, timestamp: r.timestamp };
      }
      return null;
    } finally {
      await seg.release();
    }
  }

  // ---------------------------------------------------------------- leader epochs

  /** OffsetForLeaderEpoch for this log. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.leaderEpochCache.endOffsetFor(epoch, this.endOffset);
  }

  /** Records a new leader epoch starting at the current log end offset (on becoming leader). */
  async assignLeaderEpoch(epoch: number, startOffset: bigint = this.endOffset): Promise<void> {
    if (this.leaderEpochCache.assign(epoch, startOffset)) await this.leaderEpochCache.persist();
  }

  // ---------------------------------------------------------------- log start, truncation, retention

  /** DeleteRecords: moves the log start offset forward and deletes segments wholly below it. */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return this.lock.run(async () => {
      if (offset > this.endOffset || offset < 0n) throw offsetOutOfRange(offset, this.startOffset, this.endOffset);
      if (offset > this.startOffset) {
        this.startOffset = offset;
        if (this.hw < offset) this.hw = offset;
        if (this.leaderEpochCache.truncateFromStart(offset)) await this.leaderEpochCache.persist();
      }
      await this.deleteSegmentsWhile((_seg, next) => next !== null && next.baseOffset <= this.startOffset);
      return this.startOffset;
    });
  }

  /**
   * Deletes a prefix of segments while `predicate` holds. The active segment may go only when it
   * is non-empty; a fresh one is rolled first so the log always has an active segment.
   */
  private async deleteSegmentsWhile(predicate: (seg: LogSegment, next: LogSegment | null) => boolean): Promise<number> {
    let count = 0;
    while (this.segments.length > 0) {
      const seg = this.segments[0];
      const next = this.segments.length > 1 ? this.segments[1] : null;
      if (!predicate(seg, next)) break;
      if (!next) {
        if (seg.isEmpty) break;
        await this.rollTo(this.endOffset);
      }
      await this.settleFsync();
      this.segments.shift();
      await seg.markDeleted();
      count++;
    }
    if (count > 0 && this.segments[0].baseOffset > this.startOffset) {
      this.startOffset = this.segments[0].baseOffset;
      if (this.hw < this.startOffset) this.hw = this.startOffset;
      if (this.leaderEpochCache.truncateFromStart(this.startOffset)) await this.leaderEpochCache.persist();
    }
    return count;
  }

  /**
   * retention.ms / retention.bytes (for cleanup.policy containing delete) and segments below the
   * log start offset. Returns the number of segments deleted.
   */
  async deleteExpiredSegments(): Promise<number> {
    return this.lock.run(async () => {
      let deleted = await this.deleteSegmentsWhile((_seg, next) => next !== null && next.baseOffset <= this.startOffset);
      if (!this.config.cleanupPolicy.includes('delete')) return deleted;
      const retentionMs = this.config.retentionMs;
      if (retentionMs >= 0) {
        const horizon = BigInt(this.now() - retentionMs);
        deleted += await this.deleteSegmentsWhile((seg) => !seg.isEmpty && seg.maxTimestamp < horizon);
      }
      const retentionBytes = this.config.retentionBytes;
      if (retentionBytes >= 0) {
        let excess = this.sizeInBytes - retentionBytes;
        deleted += await this.deleteSegmentsWhile((seg) => {
          if (seg.isEmpty || excess - seg.size < 0) return false;
          excess -= seg.size;
          return true;
        });
      }
      return deleted;
    });
  }

  /**
   * Removes every batch whose last offset is >= `offset` (follower truncation). The batch that
   * contains `offset` goes too, so the new end may be below `offset`, as in Kafka.
   */
  async truncateTo(offset: bigint): Promise<void> {
    await this.lock.run(async () => {
      if (offset >= this.endOffset) return;
      await this.settleFsync();
      if (offset <= this.segments[0].baseOffset) {
        await this.truncateFullyLocked(offset < this.startOffset ? this.startOffset : offset);
        return;
      }
      while (this.segments.length > 1 && this.activeSegment.baseOffset >= offset) {
        const seg = this.segments.pop()!;
        await seg.markDeleted();
      }
      const active = this.activeSegment;
      await active.truncateTo(offset);
      await active.flush();
      await this.afterTruncation(active.nextOffset);
    });
  }

  /** Deletes all data and restarts the log at `offset` (a follower far behind the leader's start). */
  async truncateFullyAndStartAt(offset: bigint): Promise<void> {
    await this.lock.run(async () => {
      await this.settleFsync();
      await this.truncateFullyLocked(offset);
    });
  }

  private async truncateFullyLocked(offset: bigint): Promise<void> {
    for (const seg of this.segments.splice(0)) await seg.markDeleted();
    this.segments.push(await LogSegment.create(this.dir, offset, this.segmentOptions, this.preallocateBytes));
    await fsyncDirectory(this.dir);
    this.startOffset = offset;
    await this.afterTruncation(offset);
    this.hw = offset;
    this.recoveredTo = offset;
  }

  private async afterTruncation(newEnd: bigint): Promise<void> {
    this.endOffset = newEnd;
    if (this.recoveredTo > newEnd) this.recoveredTo = newEnd;
    if (this.hw > newEnd) this.hw = newEnd;
    if (this.startOffset > newEnd) this.startOffset = newEnd;
    if (this.leaderEpochCache.truncateFromEnd(newEnd)) await this.leaderEpochCache.persist();
  }

  // ---------------------------------------------------------------- config, close, delete

  /** Applies a new config live; index settings take effect for new segments. */
  updateConfig(config: TopicConfig): void {
    this.config = config;
  }

  get state(): PartitionLogState {
    return { recoveryPoint: this.recoveredTo, logStartOffset: this.startOffset, highWatermark: this.hw };
  }

  /** Waits for queued appends, fsyncs, writes trimmed indexes and closes every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining || this.queue.length > 0) await this.lock.run(async () => undefined);
    await this.lock.run(async () => {
      await this.settleFsync();
      const active = this.activeSegment;
      for (const seg of this.segments) await seg.close(seg === active || seg.dirty);
      this.recoveredTo = this.endOffset;
    });
  }

  /** Closes the log and removes its directory (renamed first so a crash cannot resurrect it). */
  async deleteFromDisk(): Promise<void> {
    await this.close();
    const doomed = `${this.dir}.${Date.now().toString(36)}-delete`;
    await rename(this.dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /**
   * Compaction swap: each output is a finished `<base>.log.cleaned` file replacing `sources`
   * (contiguous, sealed segments). Returns false, touching nothing, when the segment list changed
   * since the cleaner read it.
   */
  async swapCleanedSegments(outputs: Array<{ sources: LogSegment[]; base: bigint }>): Promise<boolean> {
    return this.lock.run(async () => {
      if (this.closed) return false;
      for (const { sources } of outputs) {
        const first = this.segments.indexOf(sources[0]);
        if (first < 0 || first + sources.length >= this.segments.length) return false;
        for (let i = 0; i < sources.length; i++) if (this.segments[first + i] !== sources[i]) return false;
      }
      for (const { sources, base } of outputs) {
        const finalLog = join(this.dir, segmentFileName(base, LOG_SUFFIX));
        await rename(finalLog + CLEANED_SUFFIX, finalLog + SWAP_SUFFIX);
        await fsyncDirectory(this.dir);
        for (const seg of sources) await seg.markDeleted();
        await rename(finalLog + SWAP_SUFFIX, finalLog);
        await fsyncDirectory(this.dir);
        const replacement = await LogSegment.open(this.dir, base, this.segmentOptions);
        await replacement.loadIndexes();
        const at = this.segments.indexOf(sources[0]);
        this.segments.splice(at, sources.length, replacement);
        replacement.nextOffset = this.segments[at + 1].baseOffset;
      }
      return true;
    });
  }
}

/** Offset after the last whole batch of a segment file (its base offset when it has none). */
async function endOffsetOfFile(path: string, baseOffset: bigint): Promise<bigint> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let pos = 0;
    let end = baseOffset;
    while (pos + BATCH_HEADER_SIZE <= size) {
      const { bytesRead } = await fh.read(head, 0, BATCH_HEADER_SIZE, pos);
      // One header at a time through the shared iterator; the batch must end inside the file.
      const it = new BatchIterator(head.subarray(0, bytesRead), { allowPartial: true });
      if (!it.next() || pos + it.size > size) break;
      end = it.lastOffset + 1n;
      pos += it.size;
    }
    return end;
  } finally {
    await fh.close();
  }
}
