/**
 * Zstandard (RFC 8878) frames, as Kafka's Java client (zstd-jni streaming, no content size in the
 * header) and librdkafka (content size present) write them.
 *
 * The codec is the reference C library compiled to WebAssembly (@bokuweb/zstd-wasm): it ships in
 * the npm package (no install-time download), runs on any platform, and its memory is one linear
 * heap reused across calls, so a busy broker's RSS stays flat (native bindings that hand Rust
 * allocations to V8 as external buffers were measured growing RSS by GBs per minute).
 *
 * Before inflating, the frames' headers and block headers are walked: the content size when a
 * frame states it, otherwise the sum of block bounds (raw and RLE blocks state their size exactly,
 * a compressed block inflates to at most 128 KiB). That bound refuses bombs before any allocation
 * and sizes the output buffer for frames that do not state their size.
 */
import { compress as wasmCompress, decompress as wasmDecompress, init as initWasm } from '@bokuweb/zstd-wasm';
import { ProtocolError } from '../protocol-error.js';
import { checkMaxBytes, corrupt, requireInput, tooLarge } from './limits.js';

// Instantiating the module is asynchronous; doing it at load time keeps every call synchronous.
await initWasm();

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_SIZE = 128 * 1024;
/** Kafka's default compression.zstd.level. */
export const ZSTD_DEFAULT_LEVEL = 3;

/**
 * Size facts of the zstd frames filling `data`, from headers alone: `bound` counts raw and RLE
 * blocks exactly and each compressed block as 128 KiB; `statedSize` sums the frames' optional
 * content-size fields.
 */
export function zstdSizeBound(data: Uint8Array): { bound: number; statedSize: number } {
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  let pos = 0;
  let bound = 0;
  let statedSize = 0;
  while (pos < view.length) {
    if (view.length - pos < 4) throw new ProtocolError('truncated', 'zstd frame magic is cut short');
    const magic = view.readUInt32LE(pos);
    pos += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (view.length - pos < 4) throw new ProtocolError('truncated', 'zstd skippable frame is cut short');
      pos += 4 + view.readUInt32LE(pos);
      if (pos > view.length) throw new ProtocolError('truncated', 'zstd skippable frame is cut short');
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new ProtocolError('corrupt', 'not a zstd frame (bad magic)');
    if (pos >= view.length) throw new ProtocolError('truncated', 'zstd frame header is cut short');
    const fhd = view[pos++];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if (fhd & 0x08) throw new ProtocolError('corrupt', 'zstd frame header has its reserved bit set');
    const hasChecksum = (fhd & 0x04) !== 0;
    const dictIdSize = [0, 1, 2, 4][fhd & 0x03];
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    pos += (singleSegment ? 0 : 1) + dictIdSize;
    if (view.length - pos < fcsSize) throw new ProtocolError('truncated', 'zstd frame header is cut short');
    let contentSize = -1;
    if (fcsSize === 1) contentSize = view[pos];
    else if (fcsSize === 2) contentSize = view.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = view.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = Number(view.readBigUInt64LE(pos));
    pos += fcsSize;
    let blocksBound = 0;
    for (;;) {
      if (view.length - pos < 3) throw new ProtocolError('truncated', 'zstd block header is cut short');
      const header = view[pos] | (view[pos + 1] << 8) | (view[pos + 2] << 16);
      pos += 3;
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new ProtocolError('corrupt', 'zstd block has the reserved type');
      if (size > MAX_BLOCK_SIZE) throw new ProtocolError('corrupt', `zstd block of ${size} bytes is over the 128 KiB limit`);
      if (type === 0) {
        blocksBound += size;
        pos += size;
      } else if (type === 1) {
        blocksBound += size;
        pos += 1;
      } else {
        blocksBound += MAX_BLOCK_SIZE;
        pos += size;
      }
      if (pos > view.length) throw new ProtocolError('truncated', 'zstd block runs past the payload');
      if (last) break;
    }
    if (hasChecksum) pos += 4;
    if (pos > view.length) throw new ProtocolError('truncated', 'zstd frame checksum is cut short');
    bound += blocksBound;
    if (contentSize >= 0) statedSize += contentSize;
  }
  return { bound, statedSize };
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

/**
 * Refuses payloads whose headers prove the output exceeds `max` and returns the output capacity
 * to give the decoder. Compressed blocks count as 128 KiB each; encoders fill every block but the
 * last, so only a frame exceeding the limit by more than one block is refused up front; the exact
 * check follows decoding.
 */
function outputCapacity(data: Uint8Array, max: number): number {
  const { bound, statedSize } = zstdSizeBound(data);
  if (statedSize > max) throw tooLarge('zstd', statedSize, max);
  if (bound - MAX_BLOCK_SIZE >= max) throw tooLarge('zstd', bound, max);
  return Math.max(bound, 1);
}

export function zstdCompress(data: Uint8Array): Buffer {
  return toBuffer(wasmCompress(toBuffer(data), ZSTD_DEFAULT_LEVEL));
}

export function zstdDecompress(data: Uint8Array, maxBytes?: number): Buffer {
  const max = checkMaxBytes(maxBytes);
  requireInput('zstd', data);
  try {
    const capacity = outputCapacity(data, max);
    const out = toBuffer(wasmDecompress(toBuffer(data), { defaultHeapSize: capacity }));
    if (out.length > max) throw tooLarge('zstd', out.length, max);
    return out;
  } catch (err) {
    throw corrupt('zstd', err);
  }
}

/**
 * The WebAssembly codec is synchronous: these run it on the calling thread after yielding once,
 * and exist so callers can treat every codec alike.
 */
export async function zstdCompressAsync(data: Uint8Array): Promise<Buffer> {
  await Promise.resolve();
  return zstdCompress(data);
}

export async function zstdDecompressAsync(data: Uint8Array, maxBytes?: number): Promise<Buffer> {
  await Promise.resolve();
  return zstdDecompress(data, maxBytes);
}
