/**
 * Splits a TCP byte stream into Kafka frames (int32 size prefix + body): requests on the broker,
 * responses in the client. The size is
 * checked against the limit as soon as the prefix arrives, before any buffer for the body is
 * allocated. Every frame gets a buffer of its own, sized from its prefix (large ones from the
 * frame pool), so a handler may keep the bytes it decoded for as long as it likes.
 *
 * Two ways in. With `readBuffer()`/`received()` (a socket created with net.Socket's `onread`),
 * the socket reads straight into the body of a large frame once its prefix is known: the kernel's
 * copy is the only one, and no per-read buffer is allocated for the garbage collector to chase.
 * Small frames and prefixes land in a shared scratch buffer and are copied out at once. With
 * `push()`, received chunks are copied into the frames (for sockets that cannot read into a
 * buffer of ours, such as TLS).
 */
import { BufferPool } from './buffer-pool.js';

export class FrameTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number, limitName = 'socket.request.max.bytes') {
    super(size < 0 ? `negative frame size ${size}` : `frame of ${size} bytes exceeds ${limitName} (${limit})`);
    this.name = 'FrameTooLargeError';
  }
}

const EMPTY = Buffer.alloc(0);
/** Reads go straight into a frame while at least this much of it is missing; less comes via the scratch. */
const DIRECT_READ_MIN = 16 * 1024;
/**
 * One scratch buffer for every connection: a read callback copies everything out of it before it
 * returns, and reads of different sockets never overlap (one thread).
 */
const SHARED_SCRATCH = Buffer.allocUnsafeSlow(256 * 1024);
/**
 * After a large frame, the next is likely large too: read only a little into the scratch (its
 * prefix and a first piece), so the bulk of it goes straight into its own buffer, not via a copy.
 */
const BOUNDARY_READ_AFTER_LARGE = 4 * 1024;

export class FrameReader {
  /** Complete frames not yet taken by next(). */
  private ready: Buffer[] = [];
  private readyHead = 0;
  /** The frame being filled (its prefix is known), and how much of it has arrived. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** A size prefix split across reads. */
  private readonly prefix = Buffer.alloc(4);
  private prefixFilled = 0;
  private lastFrameLarge = false;

  constructor(
    private maxFrameSize: number,
    private readonly pool: BufferPool = new BufferPool(0),
    private readonly scratch: Buffer = SHARED_SCRATCH,
    /** How errors name the limit: the broker's setting, or the client's. */
    private readonly limitName = 'socket.request.max.bytes',
  ) {}

  setMaxFrameSize(limit: number): void {
    this.maxFrameSize = limit;
  }

  /** True when next() has a frame to return. */
  get hasFrame(): boolean {
    return this.readyHead < this.ready.length;
  }

  /** Bytes received and not yet handed out as frames. */
  get bufferedBytes(): number {
    let n = this.prefixFilled + this.filled;
    for (let i = this.readyHead; i < this.ready.length; i++) n += this.ready[i].length;
    return n;
  }

  /** Where the next socket read should land: the rest of a large frame being filled, else the scratch. */
  readBuffer(): Buffer {
    const f = this.frame;
    if (f !== null && f.length - this.filled >= DIRECT_READ_MIN) return f.subarray(this.filled);
    if (f === null && this.lastFrameLarge && this.scratch.length > BOUNDARY_READ_AFTER_LARGE) return this.scratch.subarray(0, BOUNDARY_READ_AFTER_LARGE);
    return this.scratch;
  }

  /** `n` bytes were read into `into`, the buffer readBuffer() last returned. Throws FrameTooLargeError. */
  received(n: number, into: Buffer): void {
    const f = this.frame;
    if (f !== null && into.buffer === f.buffer && into.byteOffset === f.byteOffset + this.filled) {
      this.filled += n;
      if (this.filled === f.length) this.complete();
      return;
    }
    this.ingest(into, 0, n);
  }

  /** A received chunk (copied; the caller may reuse it). Throws FrameTooLargeError. */
  push(chunk: Buffer): void {
    this.ingest(chunk, 0, chunk.length);
  }

  /** The next complete frame body (without its prefix), or null when more bytes are needed. */
  next(): Buffer | null {
    if (this.readyHead === this.ready.length) return null;
    const frame = this.ready[this.readyHead++];
    if (this.readyHead === this.ready.length) {
      this.ready.length = 0;
      this.readyHead = 0;
    }
    return frame;
  }

  private ingest(src: Buffer, pos: number, end: number): void {
    while (pos < end) {
      const f = this.frame;
      if (f !== null) {
        const n = Math.min(f.length - this.filled, end - pos);
        src.copy(f, this.filled, pos, pos + n);
        this.filled += n;
        pos += n;
        if (this.filled === f.length) this.complete();
        continue;
      }
      let size: number;
      if (this.prefixFilled === 0 && end - pos >= 4) {
        size = src.readInt32BE(pos);
        pos += 4;
      } else {
        const n = Math.min(4 - this.prefixFilled, end - pos);
        src.copy(this.prefix, this.prefixFilled, pos, pos + n);
        this.prefixFilled += n;
        pos += n;
        if (this.prefixFilled < 4) return;
        this.prefixFilled = 0;
        size = this.prefix.readInt32BE(0);
      }
      if (size < 0 || size > this.maxFrameSize) throw new FrameTooLargeError(size, this.maxFrameSize, this.limitName);
      this.frame = size === 0 ? EMPTY : this.pool.acquire(size);
      this.filled = 0;
      if (size === 0) this.complete();
    }
  }

  private complete(): void {
    this.lastFrameLarge = this.frame!.length >= DIRECT_READ_MIN;
    this.ready.push(this.frame!);
    this.frame = null;
    this.filled = 0;
  }
}
