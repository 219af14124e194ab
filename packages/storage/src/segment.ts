/**
 * One log segment: `<base>.log` holding record batches exactly as on the wire (offsets assigned),
 * with its `.index` and `.timeindex`. The segment never decodes records: it walks batch headers.
 *
 * `size` is the number of bytes readers may see; the partition log advances it only after the
 * bytes are written, so a concurrent reader never sees a half-written batch.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, BatchIterator, BatchOffsets, computeBatchCrc, CURRENT_MAGIC } from '@sluice/protocol';
import { OffsetIndex, TimeIndex, OFFSET_ENTRY_SIZE, TIME_ENTRY_SIZE, readIndexFile } from './indexes.js';
import { TXN_INDEX_SUFFIX, TransactionIndex } from './transaction-index.js';

/** A source of read buffers, e.g. a pool of recycled ones. */
export interface ReadBuffers {
  /** A buffer of exactly `size` bytes, contents undefined. */
  acquire(size: number): Buffer;
  /** Gives back a buffer from acquire() (any view of it); others are ignored. */
  release(buf: Buffer): void;
}

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/** Header bytes needed to know a batch's size and offsets (through lastOffsetDelta). */
const OFFSET_PREFIX = BatchOffsets.lastOffsetDelta + 4;
const RECOVERY_CHUNK = 8 * 1024 * 1024;
/** Header-only walks read this much at a time (a few index intervals). */
const HEADER_WALK_CHUNK = 64 * 1024;

export function segmentFileName(baseOffset: bigint, suffix: string): string {
  return baseOffset.toString().padStart(20, '0') + suffix;
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  maxIndexBytes: number;
}

/** What the log tells a segment about each batch it has just written. */
export interface AppendedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  position: number;
  size: number;
}

export interface BatchLocation {
  baseOffset: bigint;
  lastOffset: bigint;
  position: number;
  size: number;
  maxTimestamp: bigint;
}

export interface SegmentRead {
  /** Whole batches, straight from the file. */
  data: Buffer;
  firstOffset: bigint;
  /** Offset after the last batch returned. */
  nextOffset: bigint;
}

export class LogSegment {
  /** Bytes visible to readers (and, after close, the file length). */
  size = 0;
  /** Offset after the last batch in the segment (baseOffset when empty). */
  nextOffset: bigint;
  maxTimestamp = -1n;
  offsetOfMaxTimestamp: bigint;
  /** Timestamp that segment.ms counts from: the first batch's max timestamp, else creation time. */
  rollingBasedTimestamp: number | null = null;
  readonly createdMs = Date.now();
  /** Written since the last fsync. */
  dirty = false;
  private bytesSinceLastIndexEntry = 0;
  private offsetIdx: OffsetIndex | null = null;
  private timeIdx: TimeIndex | null = null;
  private readers = 0;
  private deleted = false;
  private closed = false;
  private preallocated = false;
  private indexLoad: Promise<void> | null = null;
  /**
   * Where recent reads stopped: next offset → file position of the first batch that can hold it.
   * A sequential reader (a consumer, a follower) then starts exactly there, instead of at the index
   * entry for the batch it already has (the offset index maps a batch's last offset to its start).
   * Positions only move on truncation, which clears this.
   */
  private readonly readEnds = new Map<bigint, number>();
  /** Transactions whose abort marker is in this segment (`.txnindex`). */
  readonly txnIndex: TransactionIndex;

  private constructor(
    readonly dir: string,
    readonly baseOffset: bigint,
    private fh: FileHandle,
    private readonly options: SegmentOptions,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.txnIndex = new TransactionIndex(join(dir, segmentFileName(baseOffset, TXN_INDEX_SUFFIX)));
  }

  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, LOG_SUFFIX));
  }
  get indexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, INDEX_SUFFIX));
  }
  get timeIndexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, TIME_INDEX_SUFFIX));
  }
  get txnIndexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, TXN_INDEX_SUFFIX));
  }
  /** Deleted or closed: no longer readable. */
  get retired(): boolean {
    return this.deleted || this.closed;
  }
  get isEmpty(): boolean {
    return this.size === 0;
  }
  get fileHandle(): FileHandle {
    return this.fh;
  }

  /** Creates a new, empty segment (truncating any leftover files of the same name). */
  static async create(dir: string, baseOffset: bigint, options: SegmentOptions, preallocateBytes = 0): Promise<LogSegment> {
    const fh = await open(join(dir, segmentFileName(baseOffset, LOG_SUFFIX)), 'w+');
    const seg = new LogSegment(dir, baseOffset, fh, options);
    // A leftover index of an earlier segment at this offset describes records that are gone.
    await unlink(seg.txnIndexPath).catch(() => undefined);
    if (preallocateBytes > 0) {
      await fh.truncate(preallocateBytes);
      seg.preallocated = true;
    }
    seg.offsetIdx = new OffsetIndex(seg.indexPath, baseOffset, options.maxIndexBytes);
    seg.timeIdx = new TimeIndex(seg.timeIndexPath, baseOffset, options.maxIndexBytes);
    await Promise.all([seg.offsetIdx.createPreallocated(options.maxIndexBytes), seg.timeIdx.createPreallocated(options.maxIndexBytes)]);
    return seg;
  }

  /** Opens an existing segment without reading its data; call recover() or loadIndexes() next. */
  static async open(dir: string, baseOffset: bigint, options: SegmentOptions): Promise<LogSegment> {
    const fh = await open(join(dir, segmentFileName(baseOffset, LOG_SUFFIX)), 'r+');
    const seg = new LogSegment(dir, baseOffset, fh, options);
    seg.size = (await fh.stat()).size;
    return seg;
  }

  async offsetIndex(): Promise<OffsetIndex> {
    if (!this.offsetIdx) await this.loadIndexesOnce();
    return this.offsetIdx!;
  }

  async timeIndex(): Promise<TimeIndex> {
    if (!this.timeIdx) await this.loadIndexesOnce();
    return this.timeIdx!;
  }

  /** Lazy loading shared by concurrent readers. */
  private loadIndexesOnce(): Promise<void> {
    this.indexLoad ??= this.loadIndexes().finally(() => {
      this.indexLoad = null;
    });
    return this.indexLoad;
  }

  get indexesLoaded(): boolean {
    return this.offsetIdx !== null;
  }

  /**
   * Loads both indexes from disk; rebuilds them from the log (which also checks every CRC and
   * truncates a bad tail) when a file is missing, has a partial entry, or fails the sanity check.
   */
  async loadIndexes(): Promise<void> {
    const [ob, tb] = await Promise.all([readIndexFile(this.indexPath, OFFSET_ENTRY_SIZE), readIndexFile(this.timeIndexPath, TIME_ENTRY_SIZE)]);
    if (ob && tb) {
      const oi = new OffsetIndex(this.indexPath, this.baseOffset, this.options.maxIndexBytes, ob);
      const ti = new TimeIndex(this.timeIndexPath, this.baseOffset, this.options.maxIndexBytes, tb);
      if (oi.isSane(this.size) && ti.isSane() && (await this.tailMatches(oi))) {
        this.offsetIdx = oi;
        this.timeIdx = ti;
        await this.restoreTailState();
        return;
      }
    }
    await this.recover();
    await Promise.all([this.offsetIdx!.persist(true), this.timeIdx!.persist(true)]);
  }

  /** The last index entry must point at a real batch header whose last offset it names. */
  private async tailMatches(oi: OffsetIndex): Promise<boolean> {
    if (oi.entries === 0) return true;
    const last = oi.lastEntry;
    const head = await this.readExactly(last.position, OFFSET_PREFIX);
    if (!head || head.readInt8(BatchOffsets.magic) !== CURRENT_MAGIC) return false;
    const lastOffset = head.readBigInt64BE(0) + BigInt(head.readInt32BE(BatchOffsets.lastOffsetDelta));
    return lastOffset === last.offset;
  }

  /** After loading trusted indexes: find nextOffset and max timestamp by walking the tail batches. */
  private async restoreTailState(): Promise<void> {
    const ti = this.timeIdx!;
    const lastTime = ti.lastEntry;
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    await this.walkHeaders(this.offsetIdx!.lastEntry.position, this.size, (it, pos) => {
      const lastOffset = it.lastOffset;
      const maxTs = it.maxTimestamp;
      if (this.rollingBasedTimestamp === null && pos === 0) this.rollingBasedTimestamp = Number(maxTs);
      if (maxTs > this.maxTimestamp) {
        this.maxTimestamp = maxTs;
        this.offsetOfMaxTimestamp = lastOffset;
      }
      this.nextOffset = lastOffset + 1n;
    });
    this.bytesSinceLastIndexEntry = this.size - this.offsetIdx!.lastEntry.position;
    if (this.size > 0 && this.rollingBasedTimestamp === null) {
      const head = await this.readExactly(0, BATCH_HEADER_SIZE);
      if (head) this.rollingBasedTimestamp = Number(head.readBigInt64BE(BatchOffsets.maxTimestamp));
    }
  }

  /**
   * Cheap metadata for a segment that is not the active one after a clean shutdown: the max
   * timestamp from the last time-index entry (roll writes a final entry), without loading indexes.
   */
  async loadSummary(nextSegmentBase: bigint): Promise<void> {
    this.nextOffset = nextSegmentBase;
    const tb = await readIndexFile(this.timeIndexPath, TIME_ENTRY_SIZE);
    if (tb && tb.length >= TIME_ENTRY_SIZE) {
      const ti = new TimeIndex(this.timeIndexPath, this.baseOffset, this.options.maxIndexBytes, tb);
      if (ti.isSane()) {
        const last = ti.lastEntry!;
        this.maxTimestamp = last.timestamp;
        this.offsetOfMaxTimestamp = last.offset;
        return;
      }
    }
    await this.loadIndexes();
    this.nextOffset = nextSegmentBase > this.nextOffset ? nextSegmentBase : this.nextOffset;
  }

  /**
   * Rebuilds the indexes by reading every batch, checking sizes, offsets and CRCs. Truncates the
   * file at the first bad batch and returns the number of bytes cut off.
   */
  async recover(maxBatchBytes = Number.MAX_SAFE_INTEGER): Promise<number> {
    const fileSize = (await this.fh.stat()).size;
    this.offsetIdx = new OffsetIndex(this.indexPath, this.baseOffset, this.options.maxIndexBytes);
    this.timeIdx = new TimeIndex(this.timeIndexPath, this.baseOffset, this.options.maxIndexBytes);
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.rollingBasedTimestamp = null;
    let pos = 0;
    scan: while (pos + BATCH_HEADER_SIZE <= fileSize) {
      const chunkStart = pos;
      const chunk = await this.readExactly(chunkStart, Math.min(fileSize - chunkStart, RECOVERY_CHUNK));
      if (!chunk) break;
      // Header checks (length, magic) are the iterator's; a batch longer than the chunk is read whole.
      const it = new BatchIterator(chunk, { allowPartial: true });
      while (it.next()) {
        const size = it.size;
        const baseOffset = it.baseOffset;
        if (size > maxBatchBytes || pos + size > fileSize || baseOffset < this.nextOffset) break scan;
        let batch = it.batch;
        if (!it.complete) {
          const whole = await this.readExactly(pos, size);
          if (!whole) break scan;
          batch = whole;
        }
        if (computeBatchCrc(batch, 0, size) !== batch.readUInt32BE(BatchOffsets.crc)) break scan;
        this.indexAppended({ baseOffset, lastOffset: it.lastOffset, maxTimestamp: it.maxTimestamp, position: pos, size });
        pos += size;
      }
      if (pos === chunkStart) break;
    }
    this.readEnds.clear();
    this.size = pos;
    if (pos < fileSize) await this.fh.truncate(pos);
    return fileSize - pos;
  }

  /** Updates indexes and bookkeeping for a batch the log has just written at `b.position`. */
  indexAppended(b: AppendedBatch): void {
    if (this.rollingBasedTimestamp === null) this.rollingBasedTimestamp = Number(b.maxTimestamp);
    if (b.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = b.maxTimestamp;
      this.offsetOfMaxTimestamp = b.lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.options.indexIntervalBytes) {
      this.offsetIdx!.append(b.lastOffset, b.position);
      this.timeIdx!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += b.size;
    this.nextOffset = b.lastOffset + 1n;
  }

  /** True when the next index entry could not be stored (Kafka rolls the segment then). */
  get indexFull(): boolean {
    return (this.offsetIdx?.isFull ?? false) || (this.timeIdx?.isFull ?? false);
  }

  async writeAt(buffers: Buffer[], position: number): Promise<void> {
    let remaining = buffers;
    let pos = position;
    for (;;) {
      const total = remaining.reduce((n, b) => n + b.length, 0);
      const { bytesWritten } = remaining.length === 1 ? await this.fh.write(remaining[0], 0, remaining[0].length, pos) : await this.fh.writev(remaining, pos);
      if (bytesWritten === total) return;
      // Short write (rare; disk nearly full or a signal): continue from where it stopped.
      pos += bytesWritten;
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const b of remaining) {
        if (skip >= b.length) skip -= b.length;
        else {
          rest.push(b.subarray(skip));
          skip = 0;
        }
      }
      remaining = rest;
    }
  }

  async flush(): Promise<void> {
    this.dirty = false;
    // A segment retired while an fsync was queued for it has nothing left worth syncing.
    if (this.closed || this.deleted) return;
    await this.fh.datasync();
  }

  /** Reads exactly `length` bytes at `position`, or null when the file is shorter. */
  async readExactly(position: number, length: number, buffers?: ReadBuffers): Promise<Buffer | null> {
    const buf = buffers ? buffers.acquire(length) : Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await this.fh.read(buf, done, length - done, position + done);
        if (bytesRead === 0) {
          buffers?.release(buf);
          return null;
        }
        done += bytesRead;
      }
    } catch (err) {
      buffers?.release(buf);
      throw err;
    }
    return buf;
  }

  /**
   * Finds the first batch whose last offset is >= `offset` at or after the indexed position,
   * reading headers in windows of `window` bytes; returns the window so the caller can reuse it.
   */
  private async locate(offset: bigint, limit: number, wantAfter: number, buffers?: ReadBuffers): Promise<{ loc: BatchLocation; buf: Buffer; bufStart: number } | null> {
    const idx = await this.offsetIndex();
    let pos: number;
    let gap: number;
    const readEnd = this.readEnds.get(offset);
    if (readEnd !== undefined && readEnd <= limit) {
      pos = readEnd;
      gap = 0;
    } else {
      const entry = idx.lookupBounded(offset);
      pos = entry.position;
      // Read the scan distance and the wanted bytes in one go: the target batch starts by the next
      // index entry, or (past the last entry) within about one index interval plus a batch.
      gap = entry.nextPosition !== null ? entry.nextPosition - pos : this.options.indexIntervalBytes + 256 * 1024;
    }
    const window = gap + wantAfter;
    let buf: Buffer = Buffer.alloc(0);
    let bufStart = pos;
    while (pos + BATCH_HEADER_SIZE <= limit) {
      const len = Math.min(limit - pos, Math.max(window, BATCH_HEADER_SIZE));
      buffers?.release(buf);
      const r = await this.readExactly(pos, len, buffers);
      if (!r) return null;
      buf = r;
      bufStart = pos;
      // Headers only: the batch sought may run past the window; read() fetches the rest.
      const it = new BatchIterator(buf, { allowPartial: true });
      while (it.next()) {
        const lastOffset = it.lastOffset;
        if (lastOffset >= offset) {
          return { loc: { baseOffset: it.baseOffset, lastOffset, position: bufStart + it.position, size: it.size, maxTimestamp: it.maxTimestamp }, buf, bufStart };
        }
      }
      if (it.endOfBatches === 0) break;
      pos = bufStart + it.endOfBatches;
    }
    buffers?.release(buf);
    return null;
  }

  /**
   * Whole batches starting with the one that contains `offset` (or the first after it, across a
   * compaction gap), at most `maxBytes` unless `minOneBatch` lets the first batch exceed it, and
   * none whose last offset is >= `maxOffset`. Null when no batch at or after `offset` is in this
   * segment; empty data when one is but the limits exclude it.
   */
  async read(offset: bigint, maxBytes: number, maxOffset: bigint | null, minOneBatch: boolean, buffers?: ReadBuffers): Promise<SegmentRead | null> {
    const limit = this.size;
    const found = await this.locate(offset, limit, Math.max(maxBytes, BATCH_HEADER_SIZE), buffers);
    if (!found) return null;
    const { loc } = found;
    let { buf, bufStart } = found;
    const empty: SegmentRead = { data: Buffer.alloc(0), firstOffset: loc.baseOffset, nextOffset: offset };
    const want = Math.min(limit - loc.position, Math.max(maxBytes, minOneBatch ? loc.size : 0));
    if ((maxOffset !== null && loc.lastOffset >= maxOffset) || want < loc.size) {
      buffers?.release(buf);
      return empty;
    }
    if (loc.position + want > bufStart + buf.length) {
      buffers?.release(buf);
      const r = await this.readExactly(loc.position, want, buffers);
      if (!r) return null;
      buf = r;
      bufStart = loc.position;
    }
    const start = loc.position - bufStart;
    const end = Math.min(buf.length, start + want);
    let pos = start;
    let nextOffset = loc.baseOffset;
    for (const it = new BatchIterator(buf, { start, end }); it.next(); ) {
      const lastOffset = it.lastOffset;
      if (maxOffset !== null && lastOffset >= maxOffset) break;
      nextOffset = lastOffset + 1n;
      pos = it.endOfBatches;
    }
    if (pos === start) {
      buffers?.release(buf);
      return empty;
    }
    this.rememberReadEnd(nextOffset, loc.position + (pos - start));
    return { data: buf.subarray(start, pos), firstOffset: loc.baseOffset, nextOffset };
  }

  private rememberReadEnd(nextOffset: bigint, position: number): void {
    this.readEnds.delete(nextOffset);
    this.readEnds.set(nextOffset, position);
    // A handful of concurrent sequential readers per segment; the oldest entry goes first.
    if (this.readEnds.size > 32) this.readEnds.delete(this.readEnds.keys().next().value as bigint);
  }

  /** Location of the first batch whose last offset is >= offset. */
  async findBatch(offset: bigint): Promise<BatchLocation | null> {
    const found = await this.locate(offset, this.size, BATCH_HEADER_SIZE);
    return found ? found.loc : null;
  }

  /**
   * Header-only walk over the batches in file bytes [from, to), read in chunks; `fn` gets each
   * header (and its file position) and stops the walk by returning false.
   */
  async walkHeaders(from: number, to: number, fn: (it: BatchIterator, position: number) => boolean | void): Promise<void> {
    let pos = from;
    while (pos + BATCH_HEADER_SIZE <= to) {
      const chunk = await this.readExactly(pos, Math.min(to - pos, HEADER_WALK_CHUNK));
      if (!chunk) return;
      const it = new BatchIterator(chunk, { allowPartial: true });
      while (it.next()) if (fn(it, pos + it.position) === false) return;
      if (it.endOfBatches === 0) return;
      pos += it.endOfBatches;
    }
  }

  /** First batch whose max timestamp is >= `timestamp`, or null. */
  async findBatchByTimestamp(timestamp: bigint): Promise<BatchLocation | null> {
    if (this.maxTimestamp < timestamp) return null;
    const ti = await this.timeIndex();
    const startOffset = ti.lookup(timestamp);
    const idx = await this.offsetIndex();
    let found: BatchLocation | null = null;
    await this.walkHeaders(idx.lookup(startOffset).position, this.size, (it, position) => {
      const maxTs = it.maxTimestamp;
      if (maxTs < timestamp) return true;
      found = { baseOffset: it.baseOffset, lastOffset: it.lastOffset, position, size: it.size, maxTimestamp: maxTs };
      return false;
    });
    return found;
  }

  /**
   * Removes every batch whose last offset is >= `offset` (the batch containing it included, as
   * Kafka does). Returns the bytes removed.
   */
  async truncateTo(offset: bigint): Promise<number> {
    const loc = await this.findBatch(offset);
    if (!loc) return 0;
    const removed = this.size - loc.position;
    this.readEnds.clear();
    this.size = loc.position;
    await this.fh.truncate(loc.position);
    this.offsetIdx!.truncateTo(offset);
    this.timeIdx!.truncateTo(offset);
    await this.txnIndex.truncateTo(offset);
    // Recompute the tail state from what is left.
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.nextOffset = this.baseOffset;
    if (this.size === 0) this.rollingBasedTimestamp = null;
    await this.restoreTailState();
    if (this.offsetIdx!.entries > 0 && this.nextOffset < this.offsetIdx!.lastEntry.offset + 1n) {
      this.nextOffset = this.offsetIdx!.lastEntry.offset + 1n;
    }
    this.dirty = true;
    return removed;
  }

  /**
   * Makes the segment read-only: final time-index entry, trimmed index files, preallocated tail
   * cut off, everything fsynced (Kafka's onBecomeInactiveSegment + flush).
   */
  async seal(): Promise<void> {
    const ti = await this.timeIndex();
    if (this.maxTimestamp >= 0n) ti.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    if (this.preallocated) {
      await this.fh.truncate(this.size);
      this.preallocated = false;
    }
    await Promise.all([this.flush(), this.offsetIdx!.persist(true), ti.persist(true)]);
  }

  acquire(): void {
    this.readers++;
  }

  async release(): Promise<void> {
    this.readers--;
    if (this.deleted && this.readers === 0) await this.unlinkNow();
  }

  async close(persistIndexes: boolean): Promise<void> {
    if (this.closed) return;
    if (persistIndexes && this.offsetIdx) {
      if (this.preallocated) await this.fh.truncate(this.size);
      await Promise.all([this.offsetIdx.persist(true), this.timeIdx!.persist(true), this.fh.datasync()]);
    }
    this.closed = true;
    await this.fh.close();
  }

  /**
   * Takes the segment out of service: renames its files to `.deleted` at once (so a restart never
   * resurrects it) and unlinks them once no reader holds the segment.
   */
  async markDeleted(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await this.txnIndex.settled();
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) {
      await rename(p, p + DELETED_SUFFIX).catch(() => undefined);
    }
    if (this.readers === 0) await this.unlinkNow();
  }

  private async unlinkNow(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close();
    }
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndexPath]) {
      await unlink(p + DELETED_SUFFIX).catch(() => undefined);
    }
  }
}
