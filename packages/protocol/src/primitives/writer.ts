/**
 * Encoding is two-pass: a size pass computes the exact frame length and records, in order, every
 * value it had to measure (UTF-8 byte lengths, tagged-field sizes and masks) in a `SizeQueue`;
 * the write pass then fills one `Buffer.allocUnsafe` of that size and consumes the queue in the
 * same order, so no string is measured twice and nothing is copied or grown.
 */
export type SizeQueue = number[];

/**
 * `bytes`/`records` fields at least this long are passed by reference, not copied, by the gather
 * encoders (`encodeResponseChunks`…); below it one more iovec costs more than the copy.
 */
export const DETACH_MIN = 4096;

/** A fresh size queue. Slot 0 sums the bytes of detachable fields (see `DETACH_MIN`). */
export function newSizeQueue(): SizeQueue {
  return [0];
}

/** Bytes taken by `n` as an unsigned varint. */
export function uvarintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

/** Bytes taken by a UTF-8 string; ASCII strings are measured without calling into C++. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** URL-safe base64 character code → 6-bit value; 64 marks an invalid character. */
const SEXTET: Uint8Array = (() => {
  const t = new Uint8Array(128).fill(64);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

const sextet = (code: number): number => (code < 128 ? SEXTET[code] : 64);

export class Writer {
  readonly buf: Buffer;
  pos: number;
  /** Measurements recorded by the size pass, consumed in order by the write pass. */
  readonly queue: SizeQueue;
  qi = 1;
  /** Gather mode: finished segments and detached field buffers, in frame order. */
  private readonly chunks: Buffer[] | null;
  private segmentStart = 0;
  private dataView: DataView | undefined;

  /**
   * A writer over `size` bytes. In gather mode (`gather` true) the buffer holds everything except
   * the detachable fields, which are emitted as references between the segments.
   */
  constructor(size: number, queue: SizeQueue = newSizeQueue(), gather = false) {
    this.queue = queue;
    this.chunks = gather ? [] : null;
    this.buf = Buffer.allocUnsafe(gather ? size - queue[0] : size);
    this.pos = 0;
  }

  /** Gather mode: the frame as buffers to write in order (e.g. with `socket.cork` or writev). */
  finishChunks(): Buffer[] {
    const chunks = this.chunks ?? [];
    if (this.pos > this.segmentStart) chunks.push(this.buf.subarray(this.segmentStart, this.pos));
    return chunks;
  }

  /** Next recorded measurement. */
  next(): number {
    return this.queue[this.qi++];
  }

  int8(v: number): void {
    this.buf[this.pos++] = v & 0xff;
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  /** The int16 length of a non-compact string, which cannot exceed 32767 bytes. */
  stringLength16(n: number): void {
    if (n > 0x7fff) throw new RangeError(`string of ${n} UTF-8 bytes is too long for an int16 length`);
    this.int16(n);
  }

  uint16(v: number): void {
    this.int16(v);
  }

  int32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  uint32(v: number): void {
    this.int32(v >>> 0);
  }

  /** DataView's 64-bit accessors are several times faster than Buffer's in optimized code. */
  private view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  int64(v: bigint): void {
    this.view().setBigInt64(this.pos, v);
    this.pos += 8;
  }

  float64(v: number): void {
    this.view().setFloat64(this.pos, v);
    this.pos += 8;
  }

  uvarint(v: number): void {
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80) {
      b[p] = v;
      this.pos = p + 1;
      return;
    }
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.pos = p;
  }

  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Writes the UTF-8 bytes of `s`, whose byte length `len` the size pass measured. */
  utf8(s: string, len: number): void {
    const b = this.buf;
    let p = this.pos;
    if (len === s.length && len <= 64) {
      for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    } else {
      b.write(s, p, len, 'utf8');
      p += len;
    }
    this.pos = p;
  }

  /** A `bytes`/`records` value: copied, or in gather mode referenced when long enough. */
  blob(data: Buffer): void {
    const chunks = this.chunks;
    if (chunks !== null && data.length >= DETACH_MIN) {
      if (this.pos > this.segmentStart) chunks.push(this.buf.subarray(this.segmentStart, this.pos));
      chunks.push(data);
      this.segmentStart = this.pos;
    } else {
      this.buf.set(data, this.pos);
      this.pos += data.length;
    }
  }

  raw(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** An unknown tagged field, re-emitted verbatim. */
  rawTag(tag: number, data: Uint8Array): void {
    this.uvarint(tag);
    this.uvarint(data.length);
    this.raw(data);
  }

  /** A 16-byte UUID from Kafka's display form (22 URL-safe base64 characters). */
  uuid(s: string): void {
    if (s.length !== 22) throw new TypeError(`not a Kafka UUID: ${JSON.stringify(s)}`);
    const b = this.buf;
    let p = this.pos;
    let bad = 0;
    for (let i = 0; i < 20; i += 4) {
      const c0 = sextet(s.charCodeAt(i));
      const c1 = sextet(s.charCodeAt(i + 1));
      const c2 = sextet(s.charCodeAt(i + 2));
      const c3 = sextet(s.charCodeAt(i + 3));
      bad |= c0 | c1 | c2 | c3;
      const n = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = n & 0xff;
    }
    const c20 = sextet(s.charCodeAt(20));
    const c21 = sextet(s.charCodeAt(21));
    bad |= c20 | c21;
    // The last character carries 2 bits; its low 4 bits must be zero in a canonical encoding.
    if ((bad & 64) !== 0 || (c21 & 15) !== 0) throw new TypeError(`not a Kafka UUID: ${JSON.stringify(s)}`);
    b[p++] = ((c20 << 2) | (c21 >>> 4)) & 0xff;
    this.pos = p;
  }
}
