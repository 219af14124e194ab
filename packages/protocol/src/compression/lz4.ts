/**
 * LZ4 in the frame format (lz4 spec "LZ4 Frame Format"), which magic-2 Kafka batches carry: Java's
 * KafkaLZ4BlockOutputStream and librdkafka both write standard frames with independent blocks.
 * (The header-checksum quirk of old Java clients applies to magic 0/1 message sets only.)
 *
 * Before inflating, the frame's header and block headers are walked to bound the output size, so a
 * frame that would expand past `maxBytes` is refused without allocating its output.
 */
import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from 'lz4-napi';
import { ProtocolError } from '../protocol-error.js';
import { checkMaxBytes, corrupt, requireInput, tooLarge } from './limits.js';

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

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

export function lz4Compress(data: Uint8Array): Buffer {
  return compressFrameSync(toBuffer(data));
}

/**
 * Refuses frames whose headers prove the output exceeds `max`. Without a content size each
 * compressed block counts as a full block, and encoders fill every block but the last, so a frame
 * is refused only when it exceeds the limit by a whole block; the exact check follows inflation
 * and the allocation stays under max + one block.
 */
function checkBound(data: Uint8Array, max: number): void {
  const { bound, blockMax, exact, contentSize } = lz4FrameSizeBound(data);
  if (contentSize > max) throw tooLarge('lz4', contentSize, max);
  if (exact ? bound > max : bound - blockMax >= max) throw tooLarge('lz4', bound, max);
}

export function lz4Decompress(data: Uint8Array, maxBytes?: number): Buffer {
  const max = checkMaxBytes(maxBytes);
  requireInput('lz4', data);
  try {
    checkBound(data, max);
    const out = decompressFrameSync(toBuffer(data));
    if (out.length > max) throw tooLarge('lz4', out.length, max);
    return out;
  } catch (err) {
    throw corrupt('lz4', err);
  }
}

export function lz4CompressAsync(data: Uint8Array): Promise<Buffer> {
  return compressFrame(data);
}

export async function lz4DecompressAsync(data: Uint8Array, maxBytes?: number): Promise<Buffer> {
  const max = checkMaxBytes(maxBytes);
  requireInput('lz4', data);
  try {
    checkBound(data, max);
    const out = await decompressFrame(data);
    if (out.length > max) throw tooLarge('lz4', out.length, max);
    return out;
  } catch (err) {
    throw corrupt('lz4', err);
  }
}
