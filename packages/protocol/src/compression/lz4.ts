/**
 * LZ4 in the frame format (lz4 spec "LZ4 Frame Format"), which magic-2 Kafka batches carry: Java's
 * KafkaLZ4BlockOutputStream and librdkafka both write standard frames with independent blocks.
 * (The header-checksum quirk of old Java clients applies to magic 0/1 message sets only.)
 *
 * We write what Java writes: version 01, independent 64 KiB blocks, no block or content
 * checksums, no content size (the batch CRC already covers the bytes). We read any valid frame,
 * verifying its header, block and content checksums when present.
 *
 * Before inflating, the frame's header and block headers are walked to bound the output size, so a
 * frame that would expand past `maxBytes` is refused without allocating its output.
 */
import { ProtocolError } from '../protocol-error.js';
import { checkMaxBytes, corrupt, requireInput, tooLarge } from './limits.js';
import { lz4BlockBound, lz4CompressBlock, lz4DecompressBlock, xxhash32 } from './lz4-block.js';

const LZ4_FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/**
 * Size facts of the one LZ4 frame filling `data`, from its headers alone: `bound` counts stored
 * blocks exactly and compressed ones as full blocks (`exact` when all were stored), `contentSize`
 * is the optional header field (-1 when absent).
 * Throws ProtocolError when the framing is malformed or cut short.
 */
export function lz4FrameSizeBound(data: Uint8Array): { bound: number; blockMax: number; exact: boolean; contentSize: number } {
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (view.length < 7) throw new ProtocolError('truncated', 'lz4 frame header is cut short');
  if (view.readUInt32LE(0) !== LZ4_FRAME_MAGIC) throw new ProtocolError('corrupt', 'not an lz4 frame (bad magic)');
  const flg = view[4];
  const bd = view[5];
  if (flg >> 6 !== 1) throw new ProtocolError('corrupt', `unsupported lz4 frame version ${flg >> 6}`);
  const blockMax = BLOCK_MAX_SIZES[(bd >> 4) & 0x07];
  if (blockMax === undefined || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0) {
    throw new ProtocolError('corrupt', 'lz4 frame descriptor has reserved bits set or an unknown block size');
  }
  const hasBlockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const hasContentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  let pos = 6;
  let contentSize = -1;
  if (hasContentSize) {
    if (view.length < pos + 8) throw new ProtocolError('truncated', 'lz4 frame header is cut short');
    const size = view.readBigUInt64LE(pos);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    pos += 8;
  }
  if (hasDictId) pos += 4;
  pos += 1; // header checksum byte, verified by the decoder
  let bound = 0;
  let exact = true;
  for (;;) {
    if (view.length - pos < 4) throw new ProtocolError('truncated', 'lz4 block header is cut short');
    const word = view.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const stored = (word & 0x80000000) !== 0;
    if (size > blockMax) throw new ProtocolError('corrupt', `lz4 block of ${size} bytes exceeds the frame's ${blockMax}-byte block size`);
    bound += stored ? size : blockMax;
    if (!stored) exact = false;
    pos += size + (hasBlockChecksum ? 4 : 0);
    if (pos > view.length) throw new ProtocolError('truncated', 'lz4 block runs past the payload');
  }
  if (hasContentChecksum) pos += 4;
  if (pos > view.length) throw new ProtocolError('truncated', 'lz4 content checksum is cut short');
  if (pos !== view.length) throw new ProtocolError('corrupt', `${view.length - pos} bytes follow the lz4 frame`);
  return { bound, blockMax, exact, contentSize };
}

/** Block size we write, matching Kafka's Java producer. */
const WRITE_BLOCK_SIZE = 64 * 1024;
/** FLG: version 01, independent blocks, no checksums, no content size; BD: 64 KiB blocks. */
const WRITE_FLG = 0x60;
const WRITE_BD = 0x40;

export function lz4Compress(input: Uint8Array): Buffer {
  const blocks = Math.ceil(input.length / WRITE_BLOCK_SIZE);
  const out = Buffer.allocUnsafe(7 + blocks * (4 + lz4BlockBound(WRITE_BLOCK_SIZE)) + 4);
  out.writeUInt32LE(LZ4_FRAME_MAGIC, 0);
  out[4] = WRITE_FLG;
  out[5] = WRITE_BD;
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let op = 7;
  for (let start = 0; start < input.length; start += WRITE_BLOCK_SIZE) {
    const end = Math.min(start + WRITE_BLOCK_SIZE, input.length);
    const blockEnd = lz4CompressBlock(input, start, end, out, op + 4);
    const compressedSize = blockEnd - op - 4;
    if (compressedSize < end - start) {
      out.writeUInt32LE(compressedSize, op);
      op = blockEnd;
    } else {
      // Incompressible: store the block as is, flagged by the size's high bit.
      out.writeUInt32LE((end - start + 0x80000000) >>> 0, op);
      out.set(input.subarray(start, end), op + 4);
      op += 4 + end - start;
    }
  }
  out.writeUInt32LE(0, op);
  return out.subarray(0, op + 4);
}

export function lz4Decompress(input: Uint8Array, maxBytes?: number): Buffer {
  const max = checkMaxBytes(maxBytes);
  requireInput('lz4', input);
  try {
    return decodeFrame(input, max);
  } catch (err) {
    throw corrupt('lz4', err);
  }
}

function decodeFrame(data: Uint8Array, max: number): Buffer {
  const { bound, blockMax, exact, contentSize } = lz4FrameSizeBound(data);
  if (contentSize > max) throw tooLarge('lz4', contentSize, max);
  if (exact ? bound > max : bound - blockMax >= max) throw tooLarge('lz4', bound, max);
  const flg = data[4];
  const headerEnd = 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  if (((xxhash32(data, 4, headerEnd - 1) >>> 8) & 0xff) !== data[headerEnd - 1]) {
    throw new ProtocolError('corrupt', 'lz4 frame header checksum mismatch');
  }
  const independent = (flg & 0x20) !== 0;
  const blockChecksums = (flg & 0x10) !== 0;
  const capacity = contentSize >= 0 ? contentSize : bound;
  const out = Buffer.allocUnsafe(capacity);
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  let ip = headerEnd;
  let op = 0;
  for (;;) {
    const word = view.readUInt32LE(ip);
    ip += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (blockChecksums && xxhash32(data, ip, ip + size) !== view.readUInt32LE(ip + size)) {
      throw new ProtocolError('corrupt', 'lz4 block checksum mismatch');
    }
    if (word & 0x80000000) {
      if (size > capacity - op) throw new ProtocolError('corrupt', 'lz4 frame inflates past its stated size');
      out.set(data.subarray(ip, ip + size), op);
      op += size;
    } else {
      op = lz4DecompressBlock(data, ip, ip + size, out, op, Math.min(op + blockMax, capacity), independent ? op : 0);
    }
    ip += size + (blockChecksums ? 4 : 0);
  }
  if (contentSize >= 0 && op !== contentSize) throw new ProtocolError('corrupt', `lz4 frame inflated to ${op} bytes, its header says ${contentSize}`);
  if (op > max) throw tooLarge('lz4', op, max);
  if (flg & 0x04 && xxhash32(out, 0, op) !== view.readUInt32LE(ip)) throw new ProtocolError('corrupt', 'lz4 content checksum mismatch');
  return out.subarray(0, op);
}

/** LZ4 here is pure computation on the calling thread; these exist so callers treat every codec alike. */
export async function lz4CompressAsync(data: Uint8Array): Promise<Buffer> {
  await Promise.resolve();
  return lz4Compress(data);
}

export async function lz4DecompressAsync(data: Uint8Array, maxBytes?: number): Promise<Buffer> {
  await Promise.resolve();
  return lz4Decompress(data, maxBytes);
}
