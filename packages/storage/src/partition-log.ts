/**
 * One partition's log (Kafka's UnifiedLog, local part): the facade over its parts.
 *
 *   log-loader.ts    open and recovery, completing interrupted swaps
 *   log-segments.ts  the ordered segment list, private to the log (others get snapshots)
 *   log-validator.ts the structural checks of an append
 *   log-writer.ts    the writer task with group commit and the group fsync
 *   log-time-lookup.ts  ListOffsets by timestamp
 *   idempotent-appends.ts, producer-state.ts  the producer check of leader appends (ProducerStateManager)
 *
 * Write path: appendAsLeader (assigns offsets, stamps the leader epoch) and appendAsFollower
 * (keeps the leader's offsets) validate and queue to the writer. Logs never share a lock, so
 * partitions append independently.
 *
 * Read path: read() locates the batch containing the offset through the sparse index and returns
 * whole batches exactly as stored, sliced from the one buffer they were read into.
 */
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, BatchIterator, BatchOffsets } from '@sluice/protocol';
import { AsyncLock } from './async-lock.js';
import type { TopicConfig } from './config.js';
import { offsetOutOfRange } from './errors.js';
import { fsyncDirectory } from './checkpoint.js';
import { LeaderEpochCache, type EpochEndOffset } from './leader-epoch-cache.js';
import { loadLog } from './log-loader.js';
import { LogSegments } from './log-segments.js';
import { LogState } from './log-state.js';
import { offsetForTimestamp, type TimestampAndOffset } from './log-time-lookup.js';
import { LogWriter, type AppendOptions, type AppendResult, type FollowerAppendOptions } from './log-writer.js';
import { IdempotentAppends, producerBatchOf, type LeaderAppendResult } from './idempotent-appends.js';
import type { ProducerStateManager } from './producer-state.js';
import { deleteProducerSnapshotsAbove, readLatestProducerSnapshot, writeProducerSnapshot, type ProducerSnapshot } from './producer-snapshot.js';
import { TransactionState } from './transaction-state.js';
import { TXN_INDEX_SUFFIX, type AbortedTxn } from './transaction-index.js';
import { CLEANED_SUFFIX, LOG_SUFFIX, LogSegment, SWAP_SUFFIX, segmentFileName, type ReadBuffers } from './segment.js';

export type { AppendOptions, AppendResult, FollowerAppendOptions } from './log-writer.js';
export type { LeaderAppendResult } from './idempotent-appends.js';

/** Kafka's default producer.id.expiration.ms (one day). */
const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
/** Ended transactions remembered before a producer snapshot is taken without waiting for a roll. */
const ENDED_TRANSACTIONS_PER_SNAPSHOT = 4096;

export interface LeaderAppendOptions extends AppendOptions {
  /**
   * The bytes to store for records that passed the producer check (e.g. recompressed to the
   * topic's compression.type); called once, before the write. A result other than the given
   * buffer is taken as CRC-checked (it carries a CRC just computed).
   */
  prepare?: (records: Buffer) => Promise<Buffer>;
  /**
   * A coordinator's own write (Kafka's AppendOrigin.COORDINATOR): a transactional batch it writes
   * for a producer (TxnOffsetCommit) carries no client sequence, so none is checked.
   */
  fromCoordinator?: boolean;
}

export { LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP, type TimestampAndOffset } from './log-time-lookup.js';

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
  /** producer.id.expiration.ms, read at each use (it changes live). Default one day. */
  producerIdExpirationMs?: () => number;
}

export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const part = name.slice(dash + 1);
  if (!/^\d+$/.test(part)) return null;
  return { topic: name.slice(0, dash), partition: Number(part) };
}

/** Attributes bit of a transactional batch. */
const TRANSACTIONAL_ATTRIBUTE = 0x10;
const CONTROL_ATTRIBUTE = 0x20;

export class PartitionLog {
  private readonly segs: LogSegments;
  private readonly lock = new AsyncLock();
  private readonly st = new LogState();
  private readonly writer: LogWriter;
  private readonly producers: IdempotentAppends;
  /** Null until first needed (rebuilt from the log), and again after truncation. */
  private txns: TransactionState | null = null;
  /** A transactional batch was appended since the log was opened (its LSO may be below the HW). */
  private transactionalAppends = false;
  private txnsRebuild: Promise<TransactionState> | null = null;
  /** Appends that change producer or transaction state, until that state reflects them. */
  private readonly producerAppends = new Set<Promise<unknown>>();
  /** Base of the active segment when the last producer snapshot was taken (one per roll). */
  private snapshotSegmentBase = -1n;
  private snapshotting: Promise<void> | null = null;
  /** Snapshot files are written and truncated one at a time; truncations are counted. */
  private readonly snapshotFiles = new AsyncLock();
  private truncations = 0;
  private closed = false;
  private readonly now: () => number;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: TopicConfig,
    readonly leaderEpochCache: LeaderEpochCache,
    now: () => number,
    producerIdExpirationMs: () => number,
  ) {
    this.now = now;
    this.segs = new LogSegments(dir, () => ({ segment: this.segmentOptions, preallocateBytes: this.config.preallocate ? this.config.segmentBytes : 0 }));
    const log = this;
    this.writer = new LogWriter({
      name: `${topic}-${partition}`,
      get config() {
        return log.config;
      },
      segments: this.segs,
      state: this.st,
      lock: this.lock,
      leaderEpochCache,
      now,
      isClosed: () => this.closed,
    });
    this.producers = new IdempotentAppends(this, (b, o) => this.writer.enqueue(b, true, o), producerIdExpirationMs, now);
  }

  /** The segments, read-only (tests and tools inspect them; only the log changes them). */
  get segments(): readonly LogSegment[] {
    return this.segs.all;
  }
  /** Snapshot of the sealed segments (all but the active one): what the cleaner may work on. */
  sealedSegments(): LogSegment[] {
    return this.segs.sealed();
  }
  get logEndOffset(): bigint {
    return this.st.endOffset;
  }
  get logStartOffset(): bigint {
    return this.st.startOffset;
  }
  get highWatermark(): bigint {
    return this.st.highWatermark;
  }
  /** Offset below which everything is known to be fsynced. */
  get recoveryPoint(): bigint {
    return this.st.recoveryPoint;
  }
  get activeSegment(): LogSegment {
    return this.segs.active;
  }
  get sizeInBytes(): number {
    return this.segs.sizeInBytes;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get unflushedMessageCount(): number {
    return this.writer.unflushedMessageCount;
  }
  get millisSinceLastFlush(): number {
    return this.writer.millisSinceLastFlush;
  }

  /** Sets the high watermark, clamped to [logStartOffset, logEndOffset]. */
  set highWatermark(offset: bigint) {
    const st = this.st;
    st.highWatermark = offset < st.startOffset ? st.startOffset : offset > st.endOffset ? st.endOffset : offset;
  }

  private get segmentOptions() {
    return { indexIntervalBytes: this.config.indexIntervalBytes, maxIndexBytes: this.config.segmentIndexBytes };
  }

  // ---------------------------------------------------------------- open and recovery

  static async open(options: OpenLogOptions): Promise<PartitionLog> {
    const { dir } = options;
    const epochs = await LeaderEpochCache.load(dir);
    const log = new PartitionLog(dir, options.topic, options.partition, options.config, epochs, options.now ?? Date.now, options.producerIdExpirationMs ?? (() => DEFAULT_PRODUCER_ID_EXPIRATION_MS));
    await loadLog(log.segs, log.st, epochs, log.segmentOptions, options.checkpoints ?? {}, options.cleanShutdown ?? false);
    // Snapshots past the recovered end describe records a crash took away.
    await deleteProducerSnapshotsAbove(dir, log.st.endOffset);
    log.snapshotSegmentBase = log.segs.active.baseOffset;
    return log;
  }

  // ---------------------------------------------------------------- append

  /**
   * Leader append (Kafka's appendAsLeader): one or more record batches (v2) given as their wire
   * bytes get the next offsets and the leader epoch. The buffer is modified in place (offsets,
   * leader epoch, LogAppendTime) and must not be reused by the caller. A batch of an idempotent
   * producer is first checked against the producer state: a retry of one of its last five
   * batches resolves with the original offsets (`duplicate`) and is not appended; a stale epoch or
   * a sequence gap rejects (INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  appendAsLeader(batches: Buffer, options: LeaderAppendOptions = {}): Promise<LeaderAppendResult> {
    const { prepare, fromCoordinator, ...rest } = options;
    let producerBatch;
    try {
      producerBatch = fromCoordinator ? null : producerBatchOf(batches);
    } catch (e) {
      return Promise.reject(e);
    }
    // Only read after the write (offsets come from the result), never changed.
    const transactional = batches.length >= BATCH_HEADER_SIZE && (batches.readInt16BE(BatchOffsets.attributes) & TRANSACTIONAL_ATTRIBUTE) !== 0;
    let appending: Promise<LeaderAppendResult>;
    const marker = transactional && (batches.readInt16BE(BatchOffsets.attributes) & CONTROL_ATTRIBUTE) !== 0 && batches.readBigInt64BE(BatchOffsets.producerId) >= 0n;
    if (producerBatch) appending = this.producers.append(producerBatch, batches, prepare ?? (async (b) => b), rest);
    else if (marker) appending = this.producers.appendMarker(batches, rest);
    else if (!prepare) appending = this.writer.enqueue(batches, true, rest);
    else appending = prepare(batches).then((stored) => this.writer.enqueue(stored, true, { ...rest, crcVerified: rest.crcVerified === true || stored !== batches }));
    if (transactional) this.transactionalAppends = true;
    if (!producerBatch && !transactional) return appending;
    return this.trackProducerAppend(
      appending.then(async (result) => {
        if (!result.duplicate && transactional) await this.observeTransactional(batches, result.baseOffset);
        return result;
      }),
    );
  }

  /**
   * Transactional batches update the transaction state, loaded first when it is not (so every
   * abort reaches the `.txnindex` of the segment holding its marker before the append is answered).
   */
  private async observeTransactional(batches: Buffer, baseOffset: bigint): Promise<void> {
    const state = await this.transactionState();
    for (const aborted of state.observe(batches, baseOffset)) await this.indexAbortedTransaction(aborted);
  }

  private async indexAbortedTransaction(aborted: AbortedTxn): Promise<void> {
    const seg = this.segs.at(this.segs.floorIndex(aborted.lastOffset));
    if (!seg || seg.retired || aborted.lastOffset >= seg.nextOffset) return;
    await seg.txnIndex.append(aborted);
  }

  /**
   * Counts an append as in flight until the producer and transaction state reflect it (a snapshot
   * waits for those below its offset), and takes a producer snapshot after a roll.
   */
  private trackProducerAppend<T>(append: Promise<T>): Promise<T> {
    this.producerAppends.add(append);
    const settled = () => {
      this.producerAppends.delete(append);
      this.maybeSnapshotInBackground();
    };
    append.then(settled, settled);
    return append;
  }

  private maybeSnapshotInBackground(): void {
    if (this.snapshotting || this.closed) return;
    const rolled = this.segs.active.baseOffset > this.snapshotSegmentBase;
    const manyEnded = (this.txns?.endedSinceSnapshot ?? 0) >= ENDED_TRANSACTIONS_PER_SNAPSHOT;
    if (!rolled && !manyEnded) return;
    this.snapshotSegmentBase = this.segs.active.baseOffset;
    this.snapshotting = this.takeProducerSnapshot()
      .then(() => undefined)
      .catch((e: unknown) => process.emitWarning(`producer snapshot of ${this.topic}-${this.partition} failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.snapshotting = null));
  }

  /**
   * Writes a producer snapshot at the log end offset (Kafka's takeSnapshot): the producer table
   * and open transactions as of that offset, once every append below it is reflected in them and
   * every abort below it is durably indexed. Returns its offset, or null when no producer state is
   * loaded (then nothing changed since the newest snapshot plus the log describe it).
   */
  async takeProducerSnapshot(): Promise<bigint | null> {
    if (!this.producers.loaded && !this.txns) return null;
    const offset = this.st.endOffset;
    const truncationsBefore = this.truncations;
    await Promise.allSettled([...this.producerAppends]);
    const txns = await this.transactionState();
    const producers = await this.producers.loadedOrRebuilt();
    for (const seg of this.segs.all) await seg.txnIndex.settled();
    const entries = producers.snapshotEntries(offset, txns.openAt(offset));
    return this.snapshotFiles.run(async () => {
      if (this.truncations !== truncationsBefore || offset > this.st.endOffset) return null;
      await writeProducerSnapshot(this.dir, { offset, entries });
      txns.forgetEndedBefore(offset);
      return offset;
    });
  }

  /** The newest producer snapshot not past the log end (null when there is none). */
  latestProducerSnapshot(): Promise<ProducerSnapshot | null> {
    return readLatestProducerSnapshot(this.dir, this.st.endOffset);
  }

  /**
   * Aborted transactions overlapping [from, to), from the `.txnindex` of the segments at and after
   * `from` (what a read_committed fetch of that range must drop), in marker order.
   */
  async abortedTransactions(from: bigint, to: bigint): Promise<AbortedTxn[]> {
    // The rebuild indexes aborts after the newest snapshot that a crash may have left unindexed.
    await this.transactionState();
    const out: AbortedTxn[] = [];
    for (const seg of this.segs.from(from)) {
      const { aborted, complete } = await seg.txnIndex.collect(from, to);
      out.push(...aborted);
      if (complete) break;
    }
    return out;
  }

  /**
   * The transaction state (ongoing transactions, aborted ones), rebuilt from the log the first
   * time it is needed after start-up or truncation.
   */
  transactionState(): Promise<TransactionState> {
    if (this.txns) return Promise.resolve(this.txns);
    this.txnsRebuild ??= this.rebuildTransactions().finally(() => (this.txnsRebuild = null));
    return this.txnsRebuild;
  }

  /** The loaded transaction state, null before it is first needed. */
  get loadedTransactionState(): TransactionState | null {
    return this.txns;
  }

  /** True once a transactional batch was appended since the log was opened. */
  get hasTransactionalAppends(): boolean {
    return this.transactionalAppends;
  }

  /** Restores the newest producer snapshot's open transactions and replays the log after it. */
  private async rebuildTransactions(): Promise<TransactionState> {
    const snapshot = await this.latestProducerSnapshot();
    const state = snapshot
      ? TransactionState.fromSnapshot(
          snapshot.offset,
          snapshot.entries.filter((e) => e.currentTxnFirstOffset >= 0n).map((e) => [e.producerId, e.currentTxnFirstOffset]),
        )
      : new TransactionState();
    let offset = snapshot && snapshot.offset > this.st.startOffset ? snapshot.offset : this.st.startOffset;
    while (offset < this.st.endOffset) {
      const chunk = await this.read(offset, 4 << 20);
      if (chunk.records.length === 0) break;
      let at = offset;
      for (const it = new BatchIterator(chunk.records); it.next(); ) {
        if (it.lastOffset < at) continue;
        // Each batch is observed at its own stored offset; aborts a crash left unindexed are indexed.
        for (const aborted of state.observe(it.batch, it.baseOffset)) await this.indexAbortedTransaction(aborted);
        at = it.lastOffset + 1n;
      }
      if (chunk.nextOffset <= offset) break;
      offset = chunk.nextOffset;
    }
    // Appends finished while the last chunk was read are observed once the state is in place.
    this.txns = state;
    return state;
  }

  /**
   * Follower append (Kafka's appendAsFollower): batches keep the leader's offsets and epochs; they
   * must be in order and start at or above the log end offset. Their producer batches are
   * recorded in the producer state, so a follower that becomes leader checks sequences rightly.
   */
  appendAsFollower(batches: Buffer, options: FollowerAppendOptions = {}): Promise<AppendResult> {
    return this.trackProducerAppend(
      this.writer.enqueue(batches, false, options).then(async (result) => {
        let transactional = false;
        for (const it = new BatchIterator(batches); it.next(); ) if (it.isTransactional) transactional = true;
        if (transactional) this.transactionalAppends = true;
        this.producers.recordFollowerBatches(batches);
        if (transactional) await this.observeTransactional(batches, result.baseOffset);
        return result;
      }),
    );
  }

  /** The producer state (Kafka's ProducerStateManager); null until an idempotent producer wrote. */
  get producerStateManager(): ProducerStateManager | null {
    return this.producers.loaded;
  }

  /** Forgets idle producers (producer.id.expiration.ms); LogManager runs it periodically. */
  expireProducers(): void {
    this.producers.expire();
  }

  /** Rolls the active segment if it is non-empty (retention uses it to expire the active segment). */
  async roll(): Promise<void> {
    await this.lock.run(async () => {
      if (!this.segs.active.isEmpty) await this.segs.roll(this.st.endOffset);
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
    const aged = now - seg.createdMs > this.config.segmentMs - this.writer.rollJitterMs;
    // KIP-354: a compacted log's active segment is rolled once its first record passes
    // max.compaction.lag.ms, so that record becomes cleanable in time.
    const first = seg.rollingBasedTimestamp;
    const lagged = this.config.cleanupPolicy.includes('compact') && first !== null && first >= 0 && now - first > this.config.maxCompactionLagMs;
    if (aged || lagged) await this.roll();
  }

  // ---------------------------------------------------------------- flush

  /** fsyncs everything written so far; concurrent callers share one fsync. */
  flush(): Promise<void> {
    return this.writer.requestFlush();
  }

  // ---------------------------------------------------------------- read

  /** Whole batches from the one containing `offset`, up to `maxBytes` (see ReadOptions). */
  async read(offset: bigint, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    for (;;) {
      const end = this.st.endOffset;
      if (offset < this.st.startOffset || offset > end) throw offsetOutOfRange(offset, this.st.startOffset, end);
      const maxOffset = options.maxOffset !== undefined && options.maxOffset < end ? options.maxOffset : end;
      const minOneBatch = options.minOneBatch ?? true;
      const result: ReadResult = {
        records: Buffer.alloc(0),
        nextOffset: offset,
        logStartOffset: this.st.startOffset,
        logEndOffset: end,
        highWatermark: this.st.highWatermark,
      };
      if (offset >= maxOffset) return result;
      // A snapshot of the segment list; a segment retired under us (retention, compaction swap)
      // means the list changed, so wait for that change to finish and start again.
      const candidates = this.segs.from(offset);
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
  offsetForTimestamp(timestamp: bigint): Promise<TimestampAndOffset | null> {
    const st = this.st;
    // Getters: the offsets are read live, as the lookup awaits segment reads.
    const log = {
      name: `${this.topic}-${this.partition}`,
      segments: this.segs,
      epochs: this.leaderEpochCache,
      get startOffset() {
        return st.startOffset;
      },
      get endOffset() {
        return st.endOffset;
      },
    };
    return offsetForTimestamp(log, timestamp);
  }

  // ---------------------------------------------------------------- leader epochs

  /** The newest leader epoch in the log's epoch cache (-1 when it has none). */
  get latestEpoch(): number {
    return this.leaderEpochCache.latestEpoch;
  }

  /** OffsetForLeaderEpoch for this log. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.leaderEpochCache.endOffsetFor(epoch, this.st.endOffset);
  }

  /** Records a new leader epoch starting at the current log end offset (on becoming leader). */
  async assignLeaderEpoch(epoch: number, startOffset: bigint = this.st.endOffset): Promise<void> {
    if (this.leaderEpochCache.assign(epoch, startOffset)) await this.leaderEpochCache.persist();
  }

  // ---------------------------------------------------------------- log start, truncation, retention

  /** DeleteRecords: moves the log start offset forward and deletes segments wholly below it. */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return this.lock.run(async () => {
      if (offset > this.st.endOffset || offset < 0n) throw offsetOutOfRange(offset, this.st.startOffset, this.st.endOffset);
      if (offset > this.st.startOffset) {
        this.st.startOffset = offset;
        if (this.st.highWatermark < offset) this.st.highWatermark = offset;
        if (this.leaderEpochCache.truncateFromStart(offset)) await this.leaderEpochCache.persist();
      }
      await this.deleteSegmentsWhile((_seg, next) => next !== null && next.baseOffset <= this.st.startOffset);
      return this.st.startOffset;
    });
  }

  /**
   * Deletes a prefix of segments while `predicate` holds. The active segment may go only when it
   * is non-empty; a fresh one is rolled first so the log always has an active segment.
   */
  private async deleteSegmentsWhile(predicate: (seg: LogSegment, next: LogSegment | null) => boolean): Promise<number> {
    let count = 0;
    while (this.segs.length > 0) {
      const seg = this.segs.first;
      const next = this.segs.at(1) ?? null;
      if (!predicate(seg, next)) break;
      if (!next) {
        if (seg.isEmpty) break;
        await this.segs.roll(this.st.endOffset);
      }
      await this.writer.settleFsync();
      this.segs.removeFirst();
      await seg.markDeleted();
      count++;
    }
    if (count > 0 && this.segs.first.baseOffset > this.st.startOffset) {
      this.st.startOffset = this.segs.first.baseOffset;
      if (this.st.highWatermark < this.st.startOffset) this.st.highWatermark = this.st.startOffset;
      if (this.leaderEpochCache.truncateFromStart(this.st.startOffset)) await this.leaderEpochCache.persist();
    }
    return count;
  }

  /**
   * retention.ms / retention.bytes (for cleanup.policy containing delete) and segments below the
   * log start offset. Returns the number of segments deleted.
   */
  async deleteExpiredSegments(): Promise<number> {
    return this.lock.run(async () => {
      let deleted = await this.deleteSegmentsWhile((_seg, next) => next !== null && next.baseOffset <= this.st.startOffset);
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
      if (offset >= this.st.endOffset) return;
      await this.writer.settleFsync();
      if (offset <= this.segs.first.baseOffset) {
        await this.truncateFullyLocked(offset < this.st.startOffset ? this.st.startOffset : offset);
        return;
      }
      while (this.segs.length > 1 && this.segs.active.baseOffset >= offset) {
        const seg = this.segs.removeLast()!;
        await seg.markDeleted();
      }
      const active = this.segs.active;
      await active.truncateTo(offset);
      await active.flush();
      await this.afterTruncation(active.nextOffset);
    });
  }

  /** Deletes all data and restarts the log at `offset` (a follower far behind the leader's start). */
  async truncateFullyAndStartAt(offset: bigint): Promise<void> {
    await this.lock.run(async () => {
      await this.writer.settleFsync();
      await this.truncateFullyLocked(offset);
    });
  }

  private async truncateFullyLocked(offset: bigint): Promise<void> {
    for (const seg of this.segs.removeAll()) await seg.markDeleted();
    await this.segs.create(offset);
    this.st.startOffset = offset;
    // No snapshot describes the new log: all of them go, as in Kafka's truncateFullyAndStartAt.
    await this.afterTruncation(offset, -1n);
    this.st.highWatermark = offset;
    this.st.recoveryPoint = offset;
  }

  private async afterTruncation(newEnd: bigint, keepSnapshotsUpTo = newEnd): Promise<void> {
    // Retained batches may name offsets that are gone: the state is rebuilt from the log when next needed.
    this.producers.reset();
    this.txns = null;
    await this.snapshotFiles.run(async () => {
      this.truncations++;
      await deleteProducerSnapshotsAbove(this.dir, keepSnapshotsUpTo);
    });
    this.snapshotSegmentBase = this.segs.active.baseOffset;
    this.st.endOffset = newEnd;
    if (this.st.recoveryPoint > newEnd) this.st.recoveryPoint = newEnd;
    if (this.st.highWatermark > newEnd) this.st.highWatermark = newEnd;
    if (this.st.startOffset > newEnd) this.st.startOffset = newEnd;
    if (this.leaderEpochCache.truncateFromEnd(newEnd)) await this.leaderEpochCache.persist();
  }

  // ---------------------------------------------------------------- config, close, delete

  /** Applies a new config live; index settings take effect for new segments. */
  updateConfig(config: TopicConfig): void {
    this.config = config;
  }

  get state(): PartitionLogState {
    return { recoveryPoint: this.st.recoveryPoint, logStartOffset: this.st.startOffset, highWatermark: this.st.highWatermark };
  }

  /** Waits for queued appends, fsyncs, writes trimmed indexes and closes every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writer.busy) await this.lock.run(async () => undefined);
    // A snapshot at the end, as Kafka takes on clean shutdown, so the next open replays nothing.
    await this.snapshotting;
    await this.takeProducerSnapshot().catch((e: unknown) => process.emitWarning(`producer snapshot of ${this.topic}-${this.partition} at close failed: ${e instanceof Error ? e.message : String(e)}`));
    await this.lock.run(async () => {
      await this.writer.settleFsync();
      const active = this.segs.active;
      for (const seg of this.segs.all) await seg.close(seg === active || seg.dirty);
      this.st.recoveryPoint = this.st.endOffset;
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
   * Compaction swap: each output is a finished `<base>.log.cleaned` file and its
   * `<base>.txnindex.cleaned` replacing `sources` (contiguous, sealed segments). Returns false,
   * touching nothing, when the segment list changed since the cleaner read it. The index goes to
   * `.swap` before the log and takes its final name before the log does, so an interrupted swap
   * is finished by the next open (log-loader's completeSwaps).
   */
  async swapCleanedSegments(outputs: Array<{ sources: LogSegment[]; base: bigint }>): Promise<boolean> {
    return this.lock.run(async () => {
      if (this.closed) return false;
      for (const { sources } of outputs) if (!this.segs.holdsSealedRun(sources)) return false;
      for (const { sources, base } of outputs) {
        const finalLog = join(this.dir, segmentFileName(base, LOG_SUFFIX));
        const finalTxnIndex = join(this.dir, segmentFileName(base, TXN_INDEX_SUFFIX));
        await rename(finalTxnIndex + CLEANED_SUFFIX, finalTxnIndex + SWAP_SUFFIX);
        await rename(finalLog + CLEANED_SUFFIX, finalLog + SWAP_SUFFIX);
        await fsyncDirectory(this.dir);
        for (const seg of sources) await seg.markDeleted();
        await rename(finalTxnIndex + SWAP_SUFFIX, finalTxnIndex);
        await rename(finalLog + SWAP_SUFFIX, finalLog);
        await fsyncDirectory(this.dir);
        const replacement = await LogSegment.open(this.dir, base, this.segmentOptions);
        await replacement.loadIndexes();
        const at = this.segs.replace(sources, replacement);
        replacement.nextOffset = this.segs.at(at + 1)!.baseOffset;
      }
      return true;
    });
  }
}
