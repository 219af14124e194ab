/**
 * Recycled buffers for large request frames. A fresh multi-megabyte Buffer costs page faults on
 * first touch and external-memory pressure that drives garbage collection; on the produce path
 * (a 1 MB frame per request) that was a third of the broker's time. Frames are carved from
 * power-of-two buffers kept on free lists, and given back only by whoever knows nothing still
 * refers to them (the connection, once the request's response is ready and its handler declared
 * that it keeps no reference to the request's bytes).
 */
const MIN_CLASS_BITS = 15; // 32 KiB: smaller frames are cheap to allocate and usually sit inside one socket read
const MAX_CLASS_BITS = 27; // 128 MiB

export class BufferPool {
  private readonly free: Buffer[][] = Array.from({ length: MAX_CLASS_BITS + 1 }, () => []);
  /** Backing stores handed out and not yet released, so a double release cannot duplicate a buffer. */
  private readonly lent = new WeakMap<ArrayBuffer, Buffer>();
  private retainedBytes = 0;

  /** @param maxRetainedBytes bytes kept on the free lists at most; the rest goes to the garbage collector. */
  constructor(private readonly maxRetainedBytes = 64 << 20) {}

  static readonly minPooledSize = 1 << MIN_CLASS_BITS;

  /** A buffer of exactly `size` bytes (contents undefined), pooled when the size is in range. */
  acquire(size: number): Buffer {
    const bits = classBits(size);
    if (bits === null) return Buffer.allocUnsafe(size);
    let whole = this.free[bits].pop();
    if (whole === undefined) whole = Buffer.allocUnsafeSlow(1 << bits);
    else this.retainedBytes -= whole.length;
    this.lent.set(whole.buffer as ArrayBuffer, whole);
    return whole.subarray(0, size);
  }

  /** True when `frame` came from acquire() and has not been released since. */
  isLent(frame: Buffer): boolean {
    return this.lent.has(frame.buffer as ArrayBuffer);
  }

  /** Gives a frame back; anything not lent by this pool (or already released) is ignored. */
  release(frame: Buffer): void {
    const backing = frame.buffer as ArrayBuffer;
    const whole = this.lent.get(backing);
    if (whole === undefined) return;
    this.lent.delete(backing);
    if (this.retainedBytes + whole.length > this.maxRetainedBytes) return;
    this.retainedBytes += whole.length;
    this.free[Math.log2(whole.length)].push(whole);
  }

  /** Bytes currently kept on the free lists. */
  get retained(): number {
    return this.retainedBytes;
  }
}

function classBits(size: number): number | null {
  if (size < 1 << MIN_CLASS_BITS) return null;
  const bits = Math.ceil(Math.log2(size));
  return bits > MAX_CLASS_BITS ? null : bits;
}
