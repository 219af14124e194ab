/**
 * LZ4 block format and xxHash32, in plain TypeScript.
 *
 * Why not a native binding: the napi LZ4 packages hand Rust-allocated results to V8 as external
 * buffers, and under sustained load a broker's RSS was measured climbing by GBs while throughput
 * fell tenfold. This codec writes into buffers V8 owns and allocates nothing per sequence.
 *
 * Block format (lz4 spec): sequences of
 *   token (literal length high nibble, match length - 4 low nibble) | literal length extension
 *   bytes (255, 255, ..., <255) | literals | offset uint16 LE | match length extension bytes
 * The last sequence has literals only; the last 5 bytes are always literals and the last match
 * starts at least 12 bytes before the end of the block.
 */
import { ProtocolError } from '../protocol-error.js';

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function read32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/** xxHash32 of `data[start, end)`, as the LZ4 frame format uses for its checksums. */
export function xxhash32(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  const length = end - start;
  let i = start;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + PRIME32_1 + PRIME32_2) | 0;
    let v2 = (seed + PRIME32_2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME32_1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(read32(data, i), PRIME32_2)) | 0, 13), PRIME32_1);
      v2 = Math.imul(rotl((v2 + Math.imul(read32(data, i + 4), PRIME32_2)) | 0, 13), PRIME32_1);
      v3 = Math.imul(rotl((v3 + Math.imul(read32(data, i + 8), PRIME32_2)) | 0, 13), PRIME32_1);
      v4 = Math.imul(rotl((v4 + Math.imul(read32(data, i + 12), PRIME32_2)) | 0, 13), PRIME32_1);
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME32_5) | 0;
  }
  h = (h + length) | 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(read32(data, i), PRIME32_3)) | 0, 17), PRIME32_4);
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl((h + Math.imul(data[i], PRIME32_5)) | 0, 11), PRIME32_1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME32_2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 16;
const hashTable = new Int32Array(1 << HASH_LOG);

/** Worst-case compressed size of `n` input bytes in one block. */
export function lz4BlockBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function writeLength(out: Uint8Array, op: number, length: number): number {
  while (length >= 255) {
    out[op++] = 255;
    length -= 255;
  }
  out[op++] = length;
  return op;
}

/**
 * Compresses `src[start, end)` as one independent LZ4 block into `out` at `op` (which must have
 * lz4BlockBound(end - start) bytes free); returns the position after the block.
 */
export function lz4CompressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  let anchor = start;
  if (end - start > MF_LIMIT) {
    hashTable.fill(-1);
    const matchLimit = end - LAST_LITERALS;
    const mfLimit = end - MF_LIMIT;
    let ip = start;
    while (ip < mfLimit) {
      const sequence = read32(src, ip);
      const h = Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);
      let ref = hashTable[h];
      hashTable[h] = ip;
      if (ref < start || ip - ref > MAX_OFFSET || read32(src, ref) !== sequence) {
        // No match: step further the longer we have gone without one (LZ4's acceleration).
        ip += 1 + ((ip - anchor) >>> 6);
        continue;
      }
      while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
        ip--;
        ref--;
      }
      let matchEnd = ip + MIN_MATCH;
      let refEnd = ref + MIN_MATCH;
      while (matchEnd < matchLimit && src[matchEnd] === src[refEnd]) {
        matchEnd++;
        refEnd++;
      }
      const literalLength = ip - anchor;
      const matchLength = matchEnd - ip - MIN_MATCH;
      const tokenPos = op++;
      out[tokenPos] = ((literalLength >= 15 ? 15 : literalLength) << 4) | (matchLength >= 15 ? 15 : matchLength);
      if (literalLength >= 15) op = writeLength(out, op, literalLength - 15);
      if (literalLength > 0) {
        if (literalLength < 16) for (let k = 0; k < literalLength; k++) out[op + k] = src[anchor + k];
        else out.set(src.subarray(anchor, ip), op);
        op += literalLength;
      }
      const offset = ip - ref;
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      if (matchLength >= 15) op = writeLength(out, op, matchLength - 15);
      ip = matchEnd;
      anchor = ip;
      if (ip - 2 < mfLimit && ip - 2 >= start) hashTable[Math.imul(read32(src, ip - 2), 2654435761) >>> (32 - HASH_LOG)] = ip - 2;
    }
  }
  const literalLength = end - anchor;
  out[op++] = (literalLength >= 15 ? 15 : literalLength) << 4;
  if (literalLength >= 15) op = writeLength(out, op, literalLength - 15);
  out.set(src.subarray(anchor, end), op);
  return op + literalLength;
}

/**
 * Decompresses the LZ4 block `src[start, end)` into `out` at `op`, writing no further than
 * `outEnd`; matches may reach back to `windowStart` (the block's own start for independent
 * blocks). Returns the position after the output. Throws ProtocolError for malformed blocks.
 */
export function lz4DecompressBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, op: number, outEnd: number, windowStart = op): number {
  let ip = start;
  for (;;) {
    if (ip >= end) throw new ProtocolError('corrupt', 'lz4 block ends before its last sequence');
    const token = src[ip++];
    let literalLength = token >>> 4;
    if (literalLength === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new ProtocolError('corrupt', 'lz4 literal length runs past the block');
        byte = src[ip++];
        literalLength += byte;
      } while (byte === 255);
    }
    if (literalLength > end - ip) throw new ProtocolError('corrupt', 'lz4 literals run past the block');
    if (literalLength > outEnd - op) throw new ProtocolError('corrupt', 'lz4 block inflates past its size limit');
    if (literalLength < 16) for (let k = 0; k < literalLength; k++) out[op + k] = src[ip + k];
    else out.set(src.subarray(ip, ip + literalLength), op);
    ip += literalLength;
    op += literalLength;
    if (ip === end) return op;
    if (end - ip < 2) throw new ProtocolError('corrupt', 'lz4 match offset is cut short');
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - windowStart) throw new ProtocolError('corrupt', `lz4 match offset ${offset} points outside the window`);
    let matchLength = (token & 0x0f) + MIN_MATCH;
    if (matchLength === 15 + MIN_MATCH) {
      let byte: number;
      do {
        if (ip >= end) throw new ProtocolError('corrupt', 'lz4 match length runs past the block');
        byte = src[ip++];
        matchLength += byte;
      } while (byte === 255);
    }
    if (matchLength > outEnd - op) throw new ProtocolError('corrupt', 'lz4 block inflates past its size limit');
    let from = op - offset;
    if (offset >= matchLength && matchLength >= 32) {
      out.copyWithin(op, from, from + matchLength);
      op += matchLength;
    } else {
      // Overlapping matches repeat the last `offset` bytes, so copy forwards byte by byte.
      const stop = op + matchLength;
      while (op < stop) out[op++] = out[from++];
    }
  }
}
