/**
 * Zig-zag varints (protobuf `sint32`/`sint64`) as used inside magic-2 records: record length,
 * offset delta, key/value/header lengths (varint) and timestamp delta (varlong).
 *
 * Readers are bounds-checked and throw only ProtocolError. Varlongs travel as plain numbers while
 * they fit in 53 bits (every realistic timestamp delta) and fall back to bigint beyond, so the hot
 * path never allocates a BigInt per byte.
 */
import { ProtocolError } from '../protocol-error.js';

/** A decoded value plus the position just after it; reused by callers to avoid allocation. */
export interface VarintCursor {
  pos: number;
}

const TWO_POW_31 = 2 ** 31;
const MAX_SAFE_ZIGZAG = 2 ** 53;

/** Encoded size of a zig-zag int32. */
export function sizeOfVarint(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Writes a zig-zag int32 at `pos`; returns the position after it. The caller sized the buffer. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Reads a zig-zag int32 at `cursor.pos`, advancing it. At most 5 bytes; upper bits must be clear. */
export function readVarint(buf: Uint8Array, cursor: VarintCursor, end: number = buf.length): number {
  let pos = cursor.pos;
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end) throw new ProtocolError('truncated', 'varint runs past the end of its buffer');
    const byte = buf[pos++];
    if (shift === 28) {
      if (byte > 0x0f) throw new ProtocolError('invalid', 'varint longer than 32 bits');
      result |= byte << 28;
      break;
    }
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  cursor.pos = pos;
  return (result >>> 1) ^ -(result & 1);
}

function zigzagNumber(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Encoded size of a zig-zag int64. */
export function sizeOfVarlong(value: bigint | number): number {
  if (typeof value === 'number' && Math.abs(value) < TWO_POW_31) return sizeOfVarint(value);
  let v = toZigzag(value);
  if (typeof v === 'number') {
    let n = 1;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    return n;
  }
  let n = 1;
  while (v >= 128n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function toZigzag(value: bigint | number): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`varlong value ${value} is not an integer`);
    if (Math.abs(value) < MAX_SAFE_ZIGZAG / 2) return zigzagNumber(value);
    value = BigInt(value);
  }
  if (value > -(2n ** 51n) && value < 2n ** 51n) return zigzagNumber(Number(value));
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}

/** Writes a zig-zag int64 at `pos`; returns the position after it. */
export function writeVarlong(buf: Buffer, pos: number, value: bigint | number): number {
  if (typeof value === 'number' && value < TWO_POW_31 && value >= -TWO_POW_31 && Number.isInteger(value)) {
    return writeVarint(buf, pos, value);
  }
  let v = toZigzag(value);
  if (typeof v === 'number') {
    while (v >= 128) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    return pos;
  }
  while (v >= 128n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/**
 * Reads a zig-zag int64 at `cursor.pos`, advancing it. Returns a number when the value is a safe
 * integer and a bigint otherwise. At most 10 bytes; the 10th may carry only the top bit.
 */
export function readVarlong(buf: Uint8Array, cursor: VarintCursor, end: number = buf.length): number | bigint {
  let pos = cursor.pos;
  // Up to 7 bytes (49 bits) accumulate exactly in a double.
  let low = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) throw new ProtocolError('truncated', 'varlong runs past the end of its buffer');
    const byte = buf[pos++];
    low += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor.pos = pos;
      // low < 2^49: zig-zag decode in double arithmetic.
      return low % 2 === 0 ? low / 2 : -(low + 1) / 2;
    }
    scale *= 128;
  }
  let big = BigInt(low);
  let shift = 49n;
  for (;;) {
    if (pos >= end) throw new ProtocolError('truncated', 'varlong runs past the end of its buffer');
    const byte = buf[pos++];
    if (shift === 63n) {
      if (byte > 0x01) throw new ProtocolError('invalid', 'varlong longer than 64 bits');
      big |= BigInt(byte) << 63n;
      break;
    }
    big |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7n;
  }
  cursor.pos = pos;
  const decoded = (big >> 1n) ^ -(big & 1n);
  const asNumber = Number(decoded);
  return Number.isSafeInteger(asNumber) ? asNumber : decoded;
}
