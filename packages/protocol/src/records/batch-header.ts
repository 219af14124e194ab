/**
 * RecordBatch v2 (magic 2) at the batch level: the fixed 61-byte header, read and patched in
 * place, without touching the records. This is what the broker's produce/fetch/replication paths
 * and the storage layer use; record-level work lives in record-batch.ts.
 *
 * Layout (big-endian):
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8
 *   17 crc uint32 (CRC32C of bytes 21..end) | 21 attributes int16 | 23 lastOffsetDelta int32
 *   27 baseTimestamp int64 | 35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16
 *   53 baseSequence int32 | 57 recordCount int32 | 61 records...
 */
import { crc32c } from '../crc32c.js';
import { ProtocolError } from '../protocol-error.js';

export const BATCH_HEADER_SIZE = 61;
/** Bytes before `batchLength` counts: baseOffset + batchLength itself. */
export const BATCH_LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const BatchOffsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionType = (typeof Compression)[keyof typeof Compression];
export type CompressionName = keyof typeof Compression;

export const TimestampType = { createTime: 0, logAppendTime: 1 } as const;

const ATTR_COMPRESSION_MASK = 0x07;
const ATTR_TIMESTAMP_TYPE = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const ATTR_DELETE_HORIZON = 0x40;

export interface BatchAttributes {
  compression: CompressionType;
  timestampType: 0 | 1;
  isTransactional: boolean;
  isControl: boolean;
  /** Set by compaction when baseTimestamp holds the tombstone delete horizon (KIP-534). */
  hasDeleteHorizon: boolean;
}

export function decodeAttributes(attributes: number): BatchAttributes {
  const compression = attributes & ATTR_COMPRESSION_MASK;
  if (compression > 4) throw new ProtocolError('invalid', `unknown compression type ${compression}`);
  return {
    compression: compression as CompressionType,
    timestampType: attributes & ATTR_TIMESTAMP_TYPE ? 1 : 0,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
  };
}

export function encodeAttributes(a: Partial<BatchAttributes>): number {
  return (
    ((a.compression ?? 0) & ATTR_COMPRESSION_MASK) |
    (a.timestampType ? ATTR_TIMESTAMP_TYPE : 0) |
    (a.isTransactional ? ATTR_TRANSACTIONAL : 0) |
    (a.isControl ? ATTR_CONTROL : 0) |
    (a.hasDeleteHorizon ? ATTR_DELETE_HORIZON : 0)
  );
}

export interface RecordBatchHeader {
  baseOffset: bigint;
  /** Bytes after the batchLength field; the whole batch is batchLength + 12 bytes. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Total size in bytes of the batch starting at `pos` (reads only batchLength). */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  if (buf.length - pos < BATCH_LOG_OVERHEAD) {
    throw new ProtocolError('truncated', 'record batch shorter than its length prefix');
  }
  return buf.readInt32BE(pos + BatchOffsets.batchLength) + BATCH_LOG_OVERHEAD;
}

/**
 * Reads the 61-byte header at `pos`. Throws ProtocolError when the header is cut short, the magic
 * is not 2, or the length is impossible; it does not check the CRC (see verifyBatchCrc).
 */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (buf.length - pos < BATCH_HEADER_SIZE) {
    throw new ProtocolError('truncated', `record batch header needs ${BATCH_HEADER_SIZE} bytes, ${buf.length - pos} left`);
  }
  const magic = buf.readInt8(pos + BatchOffsets.magic);
  if (magic !== CURRENT_MAGIC) {
    throw new ProtocolError('invalid', `unsupported record batch magic ${magic} (only magic 2 is supported)`);
  }
  const batchLength = buf.readInt32BE(pos + BatchOffsets.batchLength);
  if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD) {
    throw new ProtocolError('invalid', `record batch length ${batchLength} is smaller than its header`);
  }
  return {
    baseOffset: buf.readBigInt64BE(pos + BatchOffsets.baseOffset),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + BatchOffsets.partitionLeaderEpoch),
    magic,
    crc: buf.readUInt32BE(pos + BatchOffsets.crc),
    attributes: buf.readInt16BE(pos + BatchOffsets.attributes),
    lastOffsetDelta: buf.readInt32BE(pos + BatchOffsets.lastOffsetDelta),
    baseTimestamp: buf.readBigInt64BE(pos + BatchOffsets.baseTimestamp),
    maxTimestamp: buf.readBigInt64BE(pos + BatchOffsets.maxTimestamp),
    producerId: buf.readBigInt64BE(pos + BatchOffsets.producerId),
    producerEpoch: buf.readInt16BE(pos + BatchOffsets.producerEpoch),
    baseSequence: buf.readInt32BE(pos + BatchOffsets.baseSequence),
    recordCount: buf.readInt32BE(pos + BatchOffsets.recordCount),
  };
}

/** CRC32C over attributes..end of the batch at `pos`, as stored in the crc field. */
export function computeBatchCrc(buf: Buffer, pos = 0, size = batchSizeAt(buf, pos)): number {
  return crc32c(buf.subarray(pos + BatchOffsets.attributes, pos + size));
}

/** True when the batch at `pos` is complete and its stored CRC matches its bytes. */
export function verifyBatchCrc(buf: Buffer, pos = 0): boolean {
  if (buf.length - pos < BATCH_HEADER_SIZE) return false;
  const size = batchSizeAt(buf, pos);
  if (size < BATCH_HEADER_SIZE || pos + size > buf.length) return false;
  return computeBatchCrc(buf, pos, size) === buf.readUInt32BE(pos + BatchOffsets.crc);
}

/** Rewrites baseOffset in place. Not covered by the CRC, so no re-checksum is needed. */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: bigint): void {
  buf.writeBigInt64BE(baseOffset, pos + BatchOffsets.baseOffset);
}

/** Rewrites partitionLeaderEpoch in place. Not covered by the CRC. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + BatchOffsets.partitionLeaderEpoch);
}

/**
 * Marks the batch as LogAppendTime with `timestamp` as its max timestamp (what a broker does for
 * topics with message.timestamp.type=LogAppendTime) and recomputes the CRC; records are untouched.
 */
export function stampLogAppendTime(buf: Buffer, pos: number, timestamp: bigint): void {
  const attrs = buf.readInt16BE(pos + BatchOffsets.attributes);
  buf.writeInt16BE(attrs | ATTR_TIMESTAMP_TYPE, pos + BatchOffsets.attributes);
  buf.writeBigInt64BE(timestamp, pos + BatchOffsets.maxTimestamp);
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + BatchOffsets.crc);
}

/** Last offset in the batch at `pos`: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + BatchOffsets.baseOffset) + BigInt(buf.readInt32BE(pos + BatchOffsets.lastOffsetDelta));
}

export interface BatchSpan {
  /** Byte position of the batch in the scanned buffer. */
  position: number;
  /** Total bytes of the batch, length prefix included. */
  size: number;
}

export interface BatchScan {
  batches: BatchSpan[];
  /** Bytes from `start` covered by whole, well-formed batches. */
  validBytes: number;
  /**
   * Why the scan stopped before the end: 'truncated' when the last batch is cut short (a torn
   * write, or a fetch response cut at its byte limit), 'invalid' when a header is malformed,
   * 'corrupt' when verifyCrc was asked and a CRC did not match; null when every byte was used.
   */
  stoppedBy: 'truncated' | 'invalid' | 'corrupt' | null;
}

/** Why a walk over batches stopped early (see BatchIterator.stoppedBy). */
export type BatchWalkStop = 'truncated' | 'invalid' | 'corrupt';

export interface BatchIteratorOptions {
  start?: number;
  end?: number;
  /** Also check every batch's CRC; a mismatch stops the walk with 'corrupt'. */
  verifyCrc?: boolean;
  /**
   * Also yield a last batch whose header is in range but whose body runs past `end` (a chunked
   * file walk that needs only headers reads the rest later); `complete` tells the two apart.
   */
  allowPartial?: boolean;
}

/**
 * The one walk over a buffer of record batches, reading only headers: every walker (log append
 * validation, segment reads and recovery, the cleaner, producer-state rebuild, dump-log) uses it,
 * so "what a batch boundary is" is written once. A cursor rather than a generator: hot paths walk
 * thousands of batches per call and allocate nothing per batch.
 *
 *   for (const it = new BatchIterator(buf); it.next(); ) use(it.position, it.size, it.lastOffset);
 *
 * Never throws for bad bytes: `next()` returns false at the first batch that is cut short or
 * malformed, and `stoppedBy` says why (null when every byte in range was used).
 */
export class BatchIterator {
  /** Byte position in `buf` of the current batch. */
  position = -1;
  /** Total bytes of the current batch, length prefix included. */
  size = 0;
  stoppedBy: BatchWalkStop | null = null;
  private nextPosition: number;
  private readonly end: number;
  private readonly verifyCrc: boolean;
  private readonly allowPartial: boolean;

  constructor(
    readonly buf: Buffer,
    options: BatchIteratorOptions = {},
  ) {
    this.nextPosition = options.start ?? 0;
    // Clamped so a caller's stale `end` cannot make header reads run off the buffer.
    this.end = Math.min(options.end ?? buf.length, buf.length);
    this.verifyCrc = options.verifyCrc === true;
    this.allowPartial = options.allowPartial === true;
  }

  /** Moves to the next batch; false at the end of the range or at a bad batch. */
  next(): boolean {
    const buf = this.buf;
    const pos = this.nextPosition;
    if (pos >= this.end || this.stoppedBy !== null) return false;
    if (this.end - pos < BATCH_HEADER_SIZE) return this.stop('truncated');
    const batchLength = buf.readInt32BE(pos + BatchOffsets.batchLength);
    if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD || buf.readInt8(pos + BatchOffsets.magic) !== CURRENT_MAGIC) {
      return this.stop('invalid');
    }
    const size = batchLength + BATCH_LOG_OVERHEAD;
    if (size > this.end - pos) {
      if (!this.allowPartial) return this.stop('truncated');
    } else if (this.verifyCrc && computeBatchCrc(buf, pos, size) !== buf.readUInt32BE(pos + BatchOffsets.crc)) {
      return this.stop('corrupt');
    }
    this.position = pos;
    this.size = size;
    this.nextPosition = pos + size;
    return true;
  }

  /** Position after the last batch yielded (where a chunked walk reads next). */
  get endOfBatches(): number {
    return this.nextPosition;
  }
  /** The current batch lies wholly inside the range (always, unless allowPartial). */
  get complete(): boolean {
    return this.position + this.size <= this.end;
  }
  /** The current batch's bytes (a view, not a copy). */
  get batch(): Buffer {
    return this.buf.subarray(this.position, this.position + this.size);
  }
  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(this.position);
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.position + BatchOffsets.lastOffsetDelta);
  }
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.position + BatchOffsets.partitionLeaderEpoch);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.position + BatchOffsets.attributes);
  }
  get isControl(): boolean {
    return (this.attributes & ATTR_CONTROL) !== 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & ATTR_TRANSACTIONAL) !== 0;
  }
  get maxTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.position + BatchOffsets.maxTimestamp);
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.position + BatchOffsets.producerId);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.position + BatchOffsets.producerEpoch);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.position + BatchOffsets.baseSequence);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.position + BatchOffsets.recordCount);
  }
  /** The stored CRC matches the current batch's bytes. */
  get crcValid(): boolean {
    return computeBatchCrc(this.buf, this.position, this.size) === this.buf.readUInt32BE(this.position + BatchOffsets.crc);
  }

  private stop(reason: BatchWalkStop): false {
    this.stoppedBy = reason;
    return false;
  }
}

/**
 * Walks the batches in `buf[start, end)` reading only headers (BatchIterator, collected). Never
 * throws for bad bytes: it stops at the first batch that is cut short or malformed and says why.
 */
export function scanBatches(buf: Buffer, options: { start?: number; end?: number; verifyCrc?: boolean } = {}): BatchScan {
  const start = options.start ?? 0;
  const it = new BatchIterator(buf, options);
  const batches: BatchSpan[] = [];
  while (it.next()) batches.push({ position: it.position, size: it.size });
  return { batches, validBytes: it.endOfBatches - start, stoppedBy: it.stoppedBy };
}
