/**
 * The log's writer task with group commit. appendAsLeader/appendAsFollower validate and queue; a
 * single task per log drains the queue, assigns offsets in place (leader appends), rolls segments
 * and writes every queued append with one writev, checking CRCs while the write is in flight.
 * Appends that need durability wait on the group fsync: one fdatasync in flight at a time,
 * covering every append written before it started, while the next group is already being written.
 * Bytes become visible to readers only after their write succeeded.
 */
import { BatchOffsets, setBaseOffset, setPartitionLeaderEpoch } from '@sluice/protocol';
import type { AsyncLock } from './async-lock.js';
import type { TopicConfig } from './config.js';
import { corruptBatch, invalidRecord, storageError } from './errors.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogSegments } from './log-segments.js';
import type { LogState } from './log-state.js';
import { crcMismatch, validateBatches, type ValidatedBatches } from './log-validator.js';
import type { LogSegment } from './segment.js';

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

interface PendingAppend extends ValidatedBatches {
  assignOffsets: boolean;
  leaderEpoch: number;
  durable: boolean;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** What the writer uses of its log. */
export interface WriterHost {
  /** `<topic>-<partition>`, for messages. */
  readonly name: string;
  /** Current config (it changes live). */
  readonly config: TopicConfig;
  readonly segments: LogSegments;
  readonly state: LogState;
  readonly lock: AsyncLock;
  readonly leaderEpochCache: LeaderEpochCache;
  readonly now: () => number;
  readonly isClosed: () => boolean;
}

export class LogWriter {
  private queue: PendingAppend[] = [];
  private draining = false;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private fsyncInFlight: Promise<void> | null = null;
  private fsyncWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** Random per-log reduction of segment.ms (segment.jitter.ms), fixed at open like Kafka's. */
  readonly rollJitterMs: number;
  private readonly state: LogState;

  constructor(private readonly host: WriterHost) {
    this.state = host.state;
    this.lastFlushMs = host.now();
    const jitter = host.config.segmentJitterMs;
    this.rollJitterMs = jitter > 0 ? Math.floor(Math.random() * jitter) : 0;
  }

  get unflushedMessageCount(): number {
    return this.unflushedMessages;
  }
  get millisSinceLastFlush(): number {
    return this.host.now() - this.lastFlushMs;
  }
  /** Appends are queued or being written. */
  get busy(): boolean {
    return this.draining || this.queue.length > 0;
  }

  /** Validates and queues; resolves once written (and fsynced when durable or due). */
  enqueue(batches: Buffer, assignOffsets: boolean, options: AppendOptions): Promise<AppendResult> {
    try {
      if (this.host.isClosed()) throw storageError(`log ${this.host.name} is closed`);
      const failure = this.state.failure;
      if (failure) throw storageError(`log ${this.host.name} failed earlier: ${failure.message}`, failure);
      const validated = validateBatches(batches, this.host.config, this.host.now(), options.crcVerified === true);
      return new Promise<AppendResult>((resolve, reject) => {
        this.queue.push({ ...validated, assignOffsets, leaderEpoch: options.leaderEpoch ?? -1, durable: options.durable ?? false, resolve, reject });
        if (!this.draining) {
          this.draining = true;
          void this.drain();
        }
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, Math.min(this.queue.length, MAX_GROUP_BUFFERS));
      await this.host.lock.run(() => this.writeGroup(group)).catch((e: unknown) => {
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
  shouldRoll(seg: LogSegment, pendingBytes: number, addBytes: number, lastOffset: bigint, maxTimestamp: number): boolean {
    const size = seg.size + pendingBytes;
    if (size === 0) return lastOffset - seg.baseOffset > INT32_MAX;
    if (size + addBytes > this.host.config.segmentBytes) return true;
    if (lastOffset - seg.baseOffset > INT32_MAX) return true;
    if (seg.indexFull) return true;
    const first = seg.rollingBasedTimestamp;
    const waited = first !== null && first >= 0 && maxTimestamp >= 0 ? maxTimestamp - first : this.host.now() - seg.createdMs;
    return waited > this.host.config.segmentMs - this.rollJitterMs;
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
      const seg = this.host.segments.active;
      const startPos = seg.size;
      let placed = items;
      const writing = seg.writeAt(placed.map((x) => x.p.buf), startPos);
      // CRCs are computed here, on this thread, while the write runs on the I/O pool.
      const corrupt = new Set<PendingAppend>();
      for (const { p } of placed) {
        if (!p.crcVerified) {
          if (crcMismatch(p)) corrupt.add(p);
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
          let next = this.state.endOffset;
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
          if (!p.assignOffsets && this.host.leaderEpochCache.assign(p.buf.readInt32BE(at + BatchOffsets.partitionLeaderEpoch), batchBase)) {
            epochsChanged = true;
          }
        }
        if (p.assignOffsets && p.leaderEpoch >= 0 && this.host.leaderEpochCache.assign(p.leaderEpoch, base)) epochsChanged = true;
      }
      seg.size = pos;
      if (placed.length > 0) seg.dirty = true;
      this.state.endOffset = seg.nextOffset;
      done.push(...placed);
      items = [];
      bytes = 0;
    };

    const pendingEnd = () => (items.length > 0 ? items[items.length - 1].last + 1n : this.state.endOffset);
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
        if (this.shouldRoll(this.host.segments.active, bytes, p.buf.length, x.last, p.maxTimestamp)) {
          await writeOut();
          const after = this.state.endOffset;
          if (!p.assignOffsets) {
            const err = followerOrderError(p, after);
            if (err) {
              p.reject(err);
              continue;
            }
          }
          x = place(p, after);
          await this.host.segments.roll(x.base);
        }
        items.push(x);
        bytes += p.buf.length;
      }
      await writeOut();
    } catch (e) {
      this.state.failure = e instanceof Error ? e : new Error(String(e));
      this.state.endOffset = this.host.segments.active.nextOffset;
      for (const p of group) if (!done.some((d) => d.p === p)) p.reject(e);
    }
    if (epochsChanged) await this.host.leaderEpochCache.persist();
    if (done.length === 0) return;

    let messages = 0;
    let needsFlush = false;
    for (const { p, base, last } of done) {
      messages += Number(last - base) + 1;
      if (p.durable) needsFlush = true;
    }
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.host.config.flushMessages) needsFlush = true;
    const settle = () => {
      for (const { p, base, last } of done) {
        p.resolve({ baseOffset: base, lastOffset: last, logAppendTime: p.logAppendTime, logStartOffset: this.state.startOffset, batchCount: p.batchCount });
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

  // ---------------------------------------------------------------- group fsync

  /** fsyncs everything written so far; concurrent callers share one fsync. */
  requestFlush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.fsyncWaiters.push({ resolve, reject });
      if (!this.fsyncInFlight) this.startFsync();
    });
  }

  private startFsync(): void {
    const waiters = this.fsyncWaiters;
    this.fsyncWaiters = [];
    const upTo = this.state.endOffset;
    const dirty = this.host.segments.dirty();
    this.unflushedMessages = 0;
    const run = async () => {
      for (const seg of dirty) await seg.flush();
    };
    this.fsyncInFlight = run().then(
      () => {
        if (upTo > this.state.recoveryPoint) this.state.recoveryPoint = upTo;
        this.lastFlushMs = this.host.now();
        for (const w of waiters) w.resolve();
      },
      (e: unknown) => {
        this.state.failure = e instanceof Error ? e : new Error(String(e));
        for (const w of waiters) w.reject(e);
      },
    );
    void this.fsyncInFlight.finally(() => {
      this.fsyncInFlight = null;
      if (this.fsyncWaiters.length > 0) this.startFsync();
    });
  }

  /** Waits until no fsync is running (before truncating or deleting files). */
  async settleFsync(): Promise<void> {
    while (this.fsyncInFlight) await this.fsyncInFlight.catch(() => undefined);
  }
}
