/**
 * RecordBatch v2 at the record level: build a batch from records (clients, compaction, tests) and
 * read one back into records (clients, compaction, the broker's validation of compressed input).
 *
 * Record layout inside the (possibly compressed) records section:
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint |
 *   [headerKeyLength varint | headerKey utf8 | headerValueLength varint | headerValue]
 * Lengths of -1 mean null (keys, values, header values).
 */
import { compress, compressionTypeOf, decompress } from '../compression/index.js';
import { ProtocolError } from '../protocol-error.js';
import {
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  BatchIterator,
  BatchOffsets,
  CURRENT_MAGIC,
  type BatchAttributes,
  type CompressionName,
  type CompressionType,
  type RecordBatchHeader,
  computeBatchCrc,
  decodeAttributes,
  encodeAttributes,
  readBatchHeader,
} from './batch-header.js';
import { type VarintCursor, readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch; defaults to the time the batch is built. */
  timestamp?: bigint;
  /**
   * Offset relative to the batch's baseOffset. Defaults to the record's index; compaction passes
   * the surviving records' original deltas (strictly increasing).
   */
  offsetDelta?: number;
}

export interface KafkaRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  offsetDelta: number;
  timestampDelta: bigint;
  attributes: number;
}

export interface BatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: CompressionType | CompressionName;
  timestampType?: 0 | 1;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /**
   * Last offset delta to record in the header. Defaults to the last record's offsetDelta;
   * compaction keeps the original batch's value so the batch still spans its original offsets,
   * and an empty batch (all records cleaned, kept for producer state) must give it.
   */
  lastOffsetDelta?: number;
  /** Header baseTimestamp; defaults to the first record's timestamp. */
  baseTimestamp?: bigint;
  /** Header maxTimestamp; defaults to the largest record timestamp (-1 for an empty batch). */
  maxTimestamp?: bigint;
  /**
   * Compaction's tombstone delete horizon (KIP-534): stored as baseTimestamp with the
   * hasDeleteHorizon attribute; record timestamp deltas are then relative to it.
   */
  deleteHorizon?: bigint;
}

export interface ReadBatchOptions {
  /** Cap on the decompressed records section (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxDecompressedBytes?: number;
  /** Check the CRC32C before decoding (default true). */
  verifyCrc?: boolean;
}

export interface RecordBatch {
  header: RecordBatchHeader;
  attributes: BatchAttributes;
  records: KafkaRecord[];
  /** Total bytes of the batch in the buffer it was read from. */
  size: number;
}

/** Smallest possible record: a 1-byte length and six 1-byte fields. */
const MIN_RECORD_SIZE = 7;
const NULL_LENGTH = -1;

interface EncodedSizes {
  bodySizes: Int32Array;
  headerKeyBytes: number[];
  total: number;
}

function measureRecords(records: RecordInput[], timestampDeltas: Array<bigint | number>, offsetDeltas: Int32Array): EncodedSizes {
  const bodySizes = new Int32Array(records.length);
  const headerKeyBytes: number[] = [];
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const keyLength = r.key ? r.key.length : NULL_LENGTH;
    const valueLength = r.value ? r.value.length : NULL_LENGTH;
    let size =
      1 +
      sizeOfVarlong(timestampDeltas[i]) +
      sizeOfVarint(offsetDeltas[i]) +
      sizeOfVarint(keyLength) +
      Math.max(keyLength, 0) +
      sizeOfVarint(valueLength) +
      Math.max(valueLength, 0);
    const headers = r.headers ?? [];
    size += sizeOfVarint(headers.length);
    for (const h of headers) {
      const keyBytes = Buffer.byteLength(h.key, 'utf8');
      headerKeyBytes.push(keyBytes);
      const headerValueLength = h.value ? h.value.length : NULL_LENGTH;
      size += sizeOfVarint(keyBytes) + keyBytes + sizeOfVarint(headerValueLength) + Math.max(headerValueLength, 0);
    }
    bodySizes[i] = size;
    total += sizeOfVarint(size) + size;
  }
  return { bodySizes, headerKeyBytes, total };
}

function writeRecords(
  out: Buffer,
  pos: number,
  records: RecordInput[],
  timestampDeltas: Array<bigint | number>,
  offsetDeltas: Int32Array,
  sizes: EncodedSizes,
): number {
  let headerIndex = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    pos = writeVarint(out, pos, sizes.bodySizes[i]);
    out[pos++] = 0; // record attributes: unused
    pos = writeVarlong(out, pos, timestampDeltas[i]);
    pos = writeVarint(out, pos, offsetDeltas[i]);
    if (r.key) {
      pos = writeVarint(out, pos, r.key.length);
      pos += r.key.copy(out, pos);
    } else {
      pos = writeVarint(out, pos, NULL_LENGTH);
    }
    if (r.value) {
      pos = writeVarint(out, pos, r.value.length);
      pos += r.value.copy(out, pos);
    } else {
      pos = writeVarint(out, pos, NULL_LENGTH);
    }
    const headers = r.headers ?? [];
    pos = writeVarint(out, pos, headers.length);
    for (const h of headers) {
      const keyBytes = sizes.headerKeyBytes[headerIndex++];
      pos = writeVarint(out, pos, keyBytes);
      pos += out.write(h.key, pos, keyBytes, 'utf8');
      if (h.value) {
        pos = writeVarint(out, pos, h.value.length);
        pos += h.value.copy(out, pos);
      } else {
        pos = writeVarint(out, pos, NULL_LENGTH);
      }
    }
  }
  return pos;
}

function toTimestampDelta(timestamp: bigint, base: bigint): bigint | number {
  const delta = timestamp - base;
  if (BigInt.asIntN(64, delta) !== delta) throw new RangeError(`timestamp ${timestamp} is too far from the base timestamp ${base}`);
  return delta >= -0x1fffffffffffffn && delta <= 0x1fffffffffffffn ? Number(delta) : delta;
}

/**
 * Builds a complete magic-2 record batch with its CRC filled in. Throws RangeError for inputs no
 * valid batch can hold (offset deltas not increasing, counts past int32).
 */
export function buildRecordBatch(records: RecordInput[], options: BatchOptions = {}): Buffer {
  const now = BigInt(Date.now());
  const count = records.length;
  const offsetDeltas = new Int32Array(count);
  let previousDelta = -1;
  for (let i = 0; i < count; i++) {
    const delta = records[i].offsetDelta ?? i;
    if (!Number.isInteger(delta) || delta <= previousDelta || delta > 0x7fffffff) {
      throw new RangeError(`record ${i}: offsetDelta ${delta} must be an int32 greater than the previous one`);
    }
    offsetDeltas[i] = delta;
    previousDelta = delta;
  }
  const lastOffsetDelta = options.lastOffsetDelta ?? (count > 0 ? offsetDeltas[count - 1] : 0);
  if (count > 0 && lastOffsetDelta < offsetDeltas[count - 1]) {
    throw new RangeError(`lastOffsetDelta ${lastOffsetDelta} is below the last record's offsetDelta ${offsetDeltas[count - 1]}`);
  }

  let maxTimestamp = -1n;
  const timestamps: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const ts = records[i].timestamp ?? now;
    timestamps[i] = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  const hasDeleteHorizon = options.deleteHorizon !== undefined;
  const baseTimestamp = options.deleteHorizon ?? options.baseTimestamp ?? (count > 0 ? timestamps[0] : -1n);
  if (options.maxTimestamp !== undefined) maxTimestamp = options.maxTimestamp;
  const timestampDeltas: Array<bigint | number> = new Array(count);
  for (let i = 0; i < count; i++) timestampDeltas[i] = toTimestampDelta(timestamps[i], baseTimestamp);

  const sizes = measureRecords(records, timestampDeltas, offsetDeltas);
  const compression = compressionTypeOf(options.compression ?? 'none');

  let out: Buffer;
  if (compression === 0) {
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + sizes.total);
    writeRecords(out, BATCH_HEADER_SIZE, records, timestampDeltas, offsetDeltas, sizes);
  } else {
    const raw = Buffer.allocUnsafe(sizes.total);
    writeRecords(raw, 0, records, timestampDeltas, offsetDeltas, sizes);
    const packed = compress(compression, raw);
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
    packed.copy(out, BATCH_HEADER_SIZE);
  }

  out.writeBigInt64BE(options.baseOffset ?? 0n, BatchOffsets.baseOffset);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, BatchOffsets.batchLength);
  out.writeInt32BE(options.partitionLeaderEpoch ?? -1, BatchOffsets.partitionLeaderEpoch);
  out.writeInt8(CURRENT_MAGIC, BatchOffsets.magic);
  out.writeInt16BE(
    encodeAttributes({
      compression,
      timestampType: options.timestampType ?? 0,
      isTransactional: options.isTransactional ?? false,
      isControl: options.isControl ?? false,
      hasDeleteHorizon,
    }),
    BatchOffsets.attributes,
  );
  out.writeInt32BE(lastOffsetDelta, BatchOffsets.lastOffsetDelta);
  out.writeBigInt64BE(baseTimestamp, BatchOffsets.baseTimestamp);
  out.writeBigInt64BE(maxTimestamp, BatchOffsets.maxTimestamp);
  out.writeBigInt64BE(options.producerId ?? -1n, BatchOffsets.producerId);
  out.writeInt16BE(options.producerEpoch ?? -1, BatchOffsets.producerEpoch);
  out.writeInt32BE(options.baseSequence ?? -1, BatchOffsets.baseSequence);
  out.writeInt32BE(count, BatchOffsets.recordCount);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), BatchOffsets.crc);
  return out;
}

function readLength(data: Buffer, cursor: VarintCursor, end: number, what: string): number {
  const length = readVarint(data, cursor, end);
  if (length < NULL_LENGTH) throw new ProtocolError('invalid', `${what} length ${length} is negative`);
  if (length > end - cursor.pos) throw new ProtocolError('invalid', `${what} of ${length} bytes overruns its record`);
  return length;
}

/**
 * Decodes `count` records from `data` (an uncompressed records section). Keys, values and header
 * values are views into `data`, not copies.
 */
function decodeRecords(data: Buffer, count: number, header: RecordBatchHeader, attributes: BatchAttributes): KafkaRecord[] {
  if (count > data.length / MIN_RECORD_SIZE) {
    throw new ProtocolError('invalid', `batch claims ${count} records but its ${data.length}-byte records section cannot hold them`);
  }
  const records: KafkaRecord[] = new Array(count);
  const cursor: VarintCursor = { pos: 0 };
  const end = data.length;
  const logAppendTime = attributes.timestampType === 1;
  for (let i = 0; i < count; i++) {
    const length = readVarint(data, cursor, end);
    const recordStart = cursor.pos;
    if (length < MIN_RECORD_SIZE - 1) throw new ProtocolError('invalid', `record ${i} length ${length} is impossible`);
    if (length > end - recordStart) throw new ProtocolError('truncated', `record ${i} of ${length} bytes runs past the batch`);
    const recordEnd = recordStart + length;
    const recordAttributes = data.readInt8(cursor.pos++);
    const rawTimestampDelta = readVarlong(data, cursor, recordEnd);
    const timestampDelta = typeof rawTimestampDelta === 'bigint' ? rawTimestampDelta : BigInt(rawTimestampDelta);
    const offsetDelta = readVarint(data, cursor, recordEnd);
    const keyLength = readLength(data, cursor, recordEnd, 'key');
    const key = keyLength === NULL_LENGTH ? null : data.subarray(cursor.pos, (cursor.pos += keyLength));
    const valueLength = readLength(data, cursor, recordEnd, 'value');
    const value = valueLength === NULL_LENGTH ? null : data.subarray(cursor.pos, (cursor.pos += valueLength));
    const headerCount = readVarint(data, cursor, recordEnd);
    if (headerCount < 0) throw new ProtocolError('invalid', `record ${i} header count ${headerCount} is negative`);
    if (headerCount > (recordEnd - cursor.pos) / 2) throw new ProtocolError('invalid', `record ${i} header count ${headerCount} overruns its record`);
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = readLength(data, cursor, recordEnd, 'header key');
      if (headerKeyLength === NULL_LENGTH) throw new ProtocolError('invalid', `record ${i} has a null header key`);
      const headerKey = data.toString('utf8', cursor.pos, (cursor.pos += headerKeyLength));
      const headerValueLength = readLength(data, cursor, recordEnd, 'header value');
      const headerValue = headerValueLength === NULL_LENGTH ? null : data.subarray(cursor.pos, (cursor.pos += headerValueLength));
      headers[h] = { key: headerKey, value: headerValue };
    }
    if (cursor.pos !== recordEnd) throw new ProtocolError('invalid', `record ${i} has ${recordEnd - cursor.pos} bytes past its fields`);
    records[i] = {
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      offsetDelta,
      timestampDelta,
      attributes: recordAttributes,
    };
  }
  if (cursor.pos !== end) throw new ProtocolError('invalid', `${end - cursor.pos} bytes follow the batch's last record`);
  return records;
}

/**
 * Reads the batch at `pos` with all its records, decompressing when needed. Throws only
 * ProtocolError for bad bytes: 'truncated' (cut short), 'corrupt' (CRC or compressed data),
 * 'invalid' (impossible field, decompression limit), 'unsupported' (unknown codec).
 */
export function readRecordBatch(buf: Buffer, pos = 0, options: ReadBatchOptions = {}): RecordBatch {
  const header = readBatchHeader(buf, pos);
  const size = header.batchLength + BATCH_LOG_OVERHEAD;
  if (size > buf.length - pos) throw new ProtocolError('truncated', `record batch of ${size} bytes has only ${buf.length - pos} available`);
  if ((options.verifyCrc ?? true) && computeBatchCrc(buf, pos, size) !== header.crc) {
    throw new ProtocolError('corrupt', `record batch at offset ${header.baseOffset} fails its CRC32C check`);
  }
  const attributes = decodeAttributes(header.attributes);
  if (header.recordCount < 0) throw new ProtocolError('invalid', `record count ${header.recordCount} is negative`);
  const section = buf.subarray(pos + BATCH_HEADER_SIZE, pos + size);
  const data = attributes.compression === 0 ? section : decompress(attributes.compression, section, options.maxDecompressedBytes);
  return { header, attributes, records: decodeRecords(data, header.recordCount, header, attributes), size };
}

export interface IterateOptions extends ReadBatchOptions {
  start?: number;
  end?: number;
}

/** A batch read by iterateRecordBatches, with where it sits in the buffer. */
export interface PositionedRecordBatch extends RecordBatch {
  position: number;
}

/**
 * Reads every batch in `buf[start, end)` in order. A cut-short last batch (a fetch response cut
 * at its byte limit, a torn log write) ends the iteration quietly; a malformed or corrupt batch
 * throws ProtocolError.
 */
export function* iterateRecordBatches(buf: Buffer, options: IterateOptions = {}): Generator<PositionedRecordBatch, void, void> {
  const end = Math.min(options.end ?? buf.length, buf.length);
  const view = end === buf.length ? buf : buf.subarray(0, end);
  // A complete-looking header whose batch runs past the end is a partial batch, not an error.
  const it = new BatchIterator(view, { start: options.start ?? 0, allowPartial: true });
  while (it.next()) {
    if (!it.complete) return;
    const batch = readRecordBatch(view, it.position, options);
    yield { ...batch, position: it.position };
  }
  // A malformed header: let the decoder throw its precise ProtocolError.
  if (it.stoppedBy === 'invalid') readRecordBatch(view, it.endOfBatches, options);
}
