import { ProtocolError } from '../protocol-error.js';

/** The all-zero UUID in Kafka's display form (URL-safe base64, no padding). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Bounds-checked big-endian cursor over a frame.
 *
 * Every read checks the bytes remaining before touching the buffer, and every length or count is
 * checked against the bytes remaining before anything is allocated, so a length field claiming
 * 2 GB fails at once instead of allocating. The only exception thrown is `ProtocolError`.
 * `bytes`/`records` values are zero-copy subarrays: they alias the frame.
 */
export class Reader {
  readonly buf: Buffer;
  pos: number;
  /** Exclusive end of the readable region; narrowed while a tagged field is decoded. */
  end: number;
  private dataView: DataView | undefined;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.end) throw new ProtocolError('truncated', `need ${n} bytes at offset ${p}, have ${this.end - p}`);
    this.pos = p + n;
    return p;
  }

  int8(): number {
    const p = this.need(1);
    return (this.buf[p] << 24) >> 24;
  }

  uint8(): number {
    return this.buf[this.need(1)];
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  int16(): number {
    const p = this.need(2);
    const b = this.buf;
    return ((b[p] << 24) | (b[p + 1] << 16)) >> 16;
  }

  uint16(): number {
    const p = this.need(2);
    const b = this.buf;
    return (b[p] << 8) | b[p + 1];
  }

  int32(): number {
    const p = this.need(4);
    const b = this.buf;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  /** DataView's 64-bit accessors are several times faster than Buffer's in optimized code. */
  private view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  int64(): bigint {
    const p = this.need(8);
    return this.view().getBigInt64(p);
  }

  float64(): number {
    const p = this.need(8);
    return this.view().getFloat64(p);
  }

  /** Unsigned LEB128 varint of at most 5 bytes (an unsigned 32-bit value). */
  uvarint(): number {
    const p = this.pos;
    if (p < this.end) {
      const first = this.buf[p];
      if (first < 0x80) {
        this.pos = p + 1;
        return first;
      }
    }
    return this.uvarintSlow();
  }

  private uvarintSlow(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= end) throw new ProtocolError('truncated', 'varint runs past the end of the frame');
      const byte = b[p++];
      if (shift === 28 && byte > 0x0f) throw new ProtocolError('invalid', 'unsigned varint exceeds 32 bits');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        this.pos = p;
        return result;
      }
    }
    throw new ProtocolError('invalid', 'unsigned varint longer than 5 bytes');
  }

  /** Zig-zag signed varint (int32). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Checks that `n` bytes of content can follow, and returns `n`. */
  private checkedLength(n: number, what: string): number {
    if (n > this.end - this.pos) {
      throw new ProtocolError('invalid', `${what} length ${n} exceeds the ${this.end - this.pos} bytes remaining`);
    }
    return n;
  }

  private utf8(len: number): string {
    const p = this.pos;
    this.pos = p + len;
    return this.buf.toString('utf8', p, p + len);
  }

  private slice(len: number): Buffer {
    const p = this.pos;
    this.pos = p + len;
    return this.buf.subarray(p, p + len);
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new ProtocolError('invalid', `negative length ${len} for a non-nullable string`);
    return this.utf8(this.checkedLength(len, 'string'));
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError('invalid', `invalid string length ${len}`);
    }
    return this.utf8(this.checkedLength(len, 'string'));
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('invalid', 'null in a non-nullable compact string');
    return this.utf8(this.checkedLength(n - 1, 'string'));
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.utf8(this.checkedLength(n - 1, 'string'));
  }

  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new ProtocolError('invalid', `negative length ${len} for non-nullable bytes`);
    return this.slice(this.checkedLength(len, 'bytes'));
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolError('invalid', `invalid bytes length ${len}`);
    }
    return this.slice(this.checkedLength(len, 'bytes'));
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('invalid', 'null in non-nullable compact bytes');
    return this.slice(this.checkedLength(n - 1, 'bytes'));
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.slice(this.checkedLength(n - 1, 'bytes'));
  }

  /** 16 bytes as Kafka shows a UUID: URL-safe base64 without padding (22 characters). */
  uuid(): string {
    const p = this.need(16);
    return this.buf.toString('base64url', p, p + 16);
  }

  /**
   * Array element count (int32). As in Kafka, a count larger than the bytes remaining is an error
   * even when elements could be empty, which bounds both allocation and loop length by the frame.
   */
  arrayLength(): number {
    const n = this.int32();
    if (n < 0) throw new ProtocolError('invalid', `negative count ${n} for a non-nullable array`);
    return this.checkedLength(n, 'array');
  }

  /** Nullable array count; -1 means null. */
  nullableArrayLength(): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return -1;
      throw new ProtocolError('invalid', `invalid array count ${n}`);
    }
    return this.checkedLength(n, 'array');
  }

  compactArrayLength(): number {
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError('invalid', 'null in a non-nullable compact array');
    return this.checkedLength(n - 1, 'array');
  }

  /** Compact nullable array count; -1 means null. */
  compactNullableArrayLength(): number {
    const n = this.uvarint();
    if (n === 0) return -1;
    return this.checkedLength(n - 1, 'array');
  }

  /** Raw bytes of a known length (tagged field payloads). */
  raw(len: number): Buffer {
    return this.slice(this.checkedLength(len, 'field'));
  }

  /** Narrows the readable region to the next `len` bytes; returns the previous end for `leave`. */
  enter(len: number): number {
    this.checkedLength(len, 'tagged field');
    const prev = this.end;
    this.end = this.pos + len;
    return prev;
  }

  /** Ends a region opened by `enter`; the region must have been consumed exactly. */
  leave(prevEnd: number): void {
    if (this.pos !== this.end) {
      throw new ProtocolError('invalid', `tagged field has ${this.end - this.pos} unread bytes`);
    }
    this.end = prevEnd;
  }
}
