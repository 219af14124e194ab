/**
 * Snappy as Kafka clients send it.
 *
 * Java's producer wraps payloads in snappy-java's SnappyOutputStream ("xerial" framing): an 8-byte
 * magic `\x82SNAPPY\0`, two int32 version fields, then blocks of [int32 length][raw snappy] each
 * holding up to 32 KiB of input. librdkafka produces bare raw snappy and reads both. We write the
 * Java form (so every client, including old Java and kafkajs-era ones, can read it) and read both.
 *
 * The codec is napi-rs `snappy` with `copyOutputData`: results are copied into V8-owned buffers
 * and the native allocation is freed at once. Without it, native memory is released only when V8
 * gets round to collecting the external buffers, and a busy process's RSS was measured climbing by
 * GBs while throughput fell tenfold.
 */
import { compress as snappyCompressNative, compressSync, uncompress as snappyUncompressNative, uncompressSync } from 'snappy';
import { ProtocolError } from '../protocol-error.js';
import { checkMaxBytes, corrupt, requireInput, tooLarge } from './limits.js';

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const NATIVE_ENCODE = { copyOutputData: true };
const NATIVE_DECODE = { asBuffer: true, copyOutputData: true };
/** snappy-java's default block size, which Kafka's Java producer uses. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Uncompressed length stated by a raw snappy block's preamble (an unsigned varint, 32 bits max). */
export function rawSnappyLength(data: Uint8Array, start = 0, end = data.length): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) throw new ProtocolError('truncated', 'snappy length preamble is cut short');
    const byte = data[start + i];
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (result > 0xffffffff) break;
      return result;
    }
    scale *= 128;
  }
  throw new ProtocolError('corrupt', 'snappy length preamble is longer than 32 bits');
}

interface XerialBlock {
  start: number;
  end: number;
  length: number;
}

/** Walks the xerial blocks, checking framing and the total stated size before anything inflates. */
function xerialBlocks(data: Buffer, maxBytes: number): { blocks: XerialBlock[]; total: number } {
  const blocks: XerialBlock[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new ProtocolError('truncated', 'xerial snappy block length is cut short');
    const size = data.readInt32BE(pos);
    pos += 4;
    if (size < 0 || size > data.length - pos) throw new ProtocolError('truncated', `xerial snappy block of ${size} bytes runs past the payload`);
    const length = size === 0 ? 0 : rawSnappyLength(data, pos, pos + size);
    total += length;
    if (total > maxBytes) throw tooLarge('snappy', total, maxBytes);
    if (size > 0) blocks.push({ start: pos, end: pos + size, length });
    pos += size;
  }
  return { blocks, total };
}

function inflateRaw(block: Uint8Array, expected: number): Buffer {
  const out = uncompressSync(block, NATIVE_DECODE) as Buffer;
  if (out.length !== expected) throw new ProtocolError('corrupt', `snappy block inflated to ${out.length} bytes, preamble said ${expected}`);
  return out;
}

export function snappyCompress(data: Uint8Array): Buffer {
  const blockCount = Math.ceil(data.length / XERIAL_BLOCK_SIZE);
  const parts: Buffer[] = [xerialHeader()];
  for (let i = 0; i < blockCount; i++) {
    const compressed = compressSync(data.subarray(i * XERIAL_BLOCK_SIZE, (i + 1) * XERIAL_BLOCK_SIZE), NATIVE_ENCODE);
    parts.push(blockLength(compressed.length), compressed);
  }
  return Buffer.concat(parts);
}

function xerialHeader(): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  return header;
}

function blockLength(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

export function snappyDecompress(input: Uint8Array, maxBytes?: number): Buffer {
  const max = checkMaxBytes(maxBytes);
  requireInput('snappy', input);
  const data = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  try {
    if (!isXerialFramed(data)) {
      const length = rawSnappyLength(data);
      if (length > max) throw tooLarge('snappy', length, max);
      return inflateRaw(data, length);
    }
    const { blocks, total } = xerialBlocks(data, max);
    if (blocks.length === 1) return inflateRaw(data.subarray(blocks[0].start, blocks[0].end), blocks[0].length);
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const block of blocks) {
      pos += inflateRaw(data.subarray(block.start, block.end), block.length).copy(out, pos);
    }
    return out;
  } catch (err) {
    throw corrupt('snappy', err);
  }
}

export async function snappyCompressAsync(data: Uint8Array): Promise<Buffer> {
  const blockCount = Math.ceil(data.length / XERIAL_BLOCK_SIZE);
  const jobs: Promise<Buffer>[] = [];
  for (let i = 0; i < blockCount; i++) jobs.push(snappyCompressNative(data.subarray(i * XERIAL_BLOCK_SIZE, (i + 1) * XERIAL_BLOCK_SIZE), NATIVE_ENCODE));
  const parts: Buffer[] = [xerialHeader()];
  for (const compressed of await Promise.all(jobs)) parts.push(blockLength(compressed.length), compressed);
  return Buffer.concat(parts);
}

export async function snappyDecompressAsync(input: Uint8Array, maxBytes?: number): Promise<Buffer> {
  const max = checkMaxBytes(maxBytes);
  requireInput('snappy', input);
  const data = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  const inflate = async (block: Uint8Array, expected: number): Promise<Buffer> => {
    const out = (await snappyUncompressNative(block, NATIVE_DECODE)) as Buffer;
    if (out.length !== expected) throw new ProtocolError('corrupt', `snappy block inflated to ${out.length} bytes, preamble said ${expected}`);
    return out;
  };
  try {
    if (!isXerialFramed(data)) {
      const length = rawSnappyLength(data);
      if (length > max) throw tooLarge('snappy', length, max);
      return await inflate(data, length);
    }
    const { blocks, total } = xerialBlocks(data, max);
    const parts = await Promise.all(blocks.map((b) => inflate(data.subarray(b.start, b.end), b.length)));
    return Buffer.concat(parts, total);
  } catch (err) {
    throw corrupt('snappy', err);
  }
}
