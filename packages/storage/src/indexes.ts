/**
 * Kafka's sparse segment indexes, byte-compatible with the files Kafka writes:
 *   .index      8-byte entries: int32 offset relative to the segment base, int32 file position
 *   .timeindex 12-byte entries: int64 max timestamp so far, int32 relative offset
 *
 * Node has no mmap, so entries live in a growable in-memory buffer laid out exactly like the file
 * and are written out when the segment is rolled, flushed for a checkpoint, or closed. The active
 * segment is always re-indexed by recovery after a crash, so it never depends on its index files.
 */
import { open, writeFile } from 'node:fs/promises';

export const OFFSET_ENTRY_SIZE = 8;
export const TIME_ENTRY_SIZE = 12;

abstract class SparseIndex {
  protected buf: Buffer;
  protected count = 0;
  readonly maxEntries: number;

  constructor(
    readonly path: string,
    readonly baseOffset: bigint,
    maxIndexBytes: number,
    protected readonly entrySize: number,
    initial?: Buffer,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / entrySize));
    if (initial) {
      this.buf = initial;
      this.count = Math.floor(initial.length / entrySize);
    } else {
      this.buf = Buffer.allocUnsafe(entrySize * 64);
    }
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.count * this.entrySize;
  }

  protected reserve(): number {
    const at = this.count * this.entrySize;
    if (at + this.entrySize > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, at + this.entrySize));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    this.count++;
    return at;
  }

  /** Largest entry index whose key is <= target (keys are non-decreasing), or -1. */
  protected floorEntry(keyAt: (i: number) => bigint | number, target: bigint | number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Drops entries from `fromEntry` on. */
  protected truncateEntries(fromEntry: number): void {
    this.count = Math.min(this.count, Math.max(0, fromEntry));
  }

  reset(): void {
    this.count = 0;
  }

  /** Writes the entries and trims the file to exactly their size (Kafka's trimToValidSize). */
  async persist(fsync: boolean): Promise<void> {
    const fh = await open(this.path, 'w');
    try {
      if (this.count > 0) await fh.write(this.buf, 0, this.sizeInBytes, 0);
      if (fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /** Creates the file preallocated (sparse) to the maximum index size, as Kafka does. */
  async createPreallocated(maxIndexBytes: number): Promise<void> {
    const roundedBytes = this.maxEntries * this.entrySize;
    const fh = await open(this.path, 'w');
    try {
      await fh.truncate(Math.min(roundedBytes, maxIndexBytes));
    } finally {
      await fh.close();
    }
  }
}

export interface OffsetPosition {
  offset: bigint;
  position: number;
}

export class OffsetIndex extends SparseIndex {
  constructor(path: string, baseOffset: bigint, maxIndexBytes: number, initial?: Buffer) {
    super(path, baseOffset, maxIndexBytes, OFFSET_ENTRY_SIZE, initial);
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_ENTRY_SIZE);
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_ENTRY_SIZE + 4);
  }

  get lastEntry(): OffsetPosition {
    if (this.count === 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + BigInt(this.relativeOffsetAt(this.count - 1)), position: this.positionAt(this.count - 1) };
  }

  append(offset: bigint, position: number): void {
    const rel = Number(offset - this.baseOffset);
    if (this.count > 0 && rel <= this.relativeOffsetAt(this.count - 1)) return;
    const at = this.reserve();
    this.buf.writeInt32BE(rel, at);
    this.buf.writeInt32BE(position, at + 4);
  }

  /** The indexed batch start at or before `offset` (the segment start when none). */
  lookup(offset: bigint): OffsetPosition {
    const rel = Number(offset - this.baseOffset);
    const i = this.floorEntry((k) => this.relativeOffsetAt(k), rel);
    if (i < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + BigInt(this.relativeOffsetAt(i)), position: this.positionAt(i) };
  }

  /**
   * Like lookup, plus the position of the following entry: the batch holding `offset` starts no
   * later than that, which bounds how far a reader must scan (null past the last entry).
   */
  lookupBounded(offset: bigint): OffsetPosition & { nextPosition: number | null } {
    const rel = Number(offset - this.baseOffset);
    const i = this.floorEntry((k) => this.relativeOffsetAt(k), rel);
    const nextPosition = i + 1 < this.count ? this.positionAt(i + 1) : null;
    if (i < 0) return { offset: this.baseOffset, position: 0, nextPosition };
    return { offset: this.baseOffset + BigInt(this.relativeOffsetAt(i)), position: this.positionAt(i), nextPosition };
  }

  /** Removes entries for offsets >= `offset`. */
  truncateTo(offset: bigint): void {
    const rel = Number(offset - this.baseOffset);
    const i = this.floorEntry((k) => this.relativeOffsetAt(k), rel - 1);
    this.truncateEntries(i + 1);
  }

  /**
   * Kafka-style sanity check of a loaded file: relative offsets strictly increasing, positions
   * non-decreasing and inside the log. A preallocated file left by a crash fails it (zero entries).
   */
  isSane(logSize: number): boolean {
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = this.relativeOffsetAt(i);
      const pos = this.positionAt(i);
      if (rel <= prevRel || pos < prevPos || pos >= Math.max(logSize, 1)) return false;
      prevRel = rel;
      prevPos = pos;
    }
    return true;
  }
}

export interface TimestampOffset {
  timestamp: bigint;
  offset: bigint;
}

export class TimeIndex extends SparseIndex {
  constructor(path: string, baseOffset: bigint, maxIndexBytes: number, initial?: Buffer) {
    super(path, baseOffset, maxIndexBytes, TIME_ENTRY_SIZE, initial);
  }

  timestampAt(i: number): bigint {
    return this.buf.readBigInt64BE(i * TIME_ENTRY_SIZE);
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * TIME_ENTRY_SIZE + 8);
  }

  get lastEntry(): TimestampOffset | null {
    if (this.count === 0) return null;
    return { timestamp: this.timestampAt(this.count - 1), offset: this.baseOffset + BigInt(this.relativeOffsetAt(this.count - 1)) };
  }

  /** Adds an entry only when the timestamp grows (the index maps max-timestamp-so-far). */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    if (this.count > 0 && timestamp <= this.timestampAt(this.count - 1)) return;
    const rel = Number(offset - this.baseOffset);
    if (this.count > 0 && rel < this.relativeOffsetAt(this.count - 1)) return;
    const at = this.reserve();
    this.buf.writeBigInt64BE(timestamp, at);
    this.buf.writeInt32BE(rel, at + 8);
  }

  /**
   * Where to start scanning for the first record with timestamp >= `timestamp`: the offset of the
   * last entry whose max timestamp is below it (everything before that offset is older).
   */
  lookup(timestamp: bigint): bigint {
    const i = this.floorEntry((k) => this.timestampAt(k), timestamp - 1n);
    return i < 0 ? this.baseOffset : this.baseOffset + BigInt(this.relativeOffsetAt(i));
  }

  truncateTo(offset: bigint): void {
    const rel = Number(offset - this.baseOffset);
    let keep = this.count;
    while (keep > 0 && this.relativeOffsetAt(keep - 1) >= rel) keep--;
    this.truncateEntries(keep);
  }

  isSane(): boolean {
    let prevTs = -1n << 63n;
    let prevRel = -1;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestampAt(i);
      const rel = this.relativeOffsetAt(i);
      if (ts <= prevTs || rel < prevRel) return false;
      prevTs = ts;
      prevRel = rel;
    }
    return true;
  }
}

/** Reads a whole index file, or null when it is missing or not a whole number of entries. */
export async function readIndexFile(path: string, entrySize: number): Promise<Buffer | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await fh.stat();
    if (size % entrySize !== 0) return null;
    const buf = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const r = await fh.read(buf, read, size - read, read);
      if (r.bytesRead === 0) return null;
      read += r.bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Empty index file (used when a segment is created without preallocation). */
export async function createEmptyFile(path: string): Promise<void> {
  await writeFile(path, Buffer.alloc(0));
}
