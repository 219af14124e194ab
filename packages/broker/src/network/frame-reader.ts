/**
 * Splits a TCP byte stream into Kafka request frames (int32 size prefix + body). The size is
 * checked against the limit as soon as the prefix arrives, before any buffer for the body is
 * allocated. A frame that lies inside one received chunk is returned as a view, without copying.
 */
export class FrameTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(size < 0 ? `negative frame size ${size}` : `frame of ${size} bytes exceeds socket.request.max.bytes (${limit})`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameReader {
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private headOffset = 0;
  private buffered = 0;

  constructor(private maxFrameSize: number) {}

  setMaxFrameSize(limit: number): void {
    this.maxFrameSize = limit;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame body (without its prefix), or null when more bytes are needed. */
  next(): Buffer | null {
    if (this.buffered < 4) return null;
    const size = this.peekInt32();
    if (size < 0 || size > this.maxFrameSize) throw new FrameTooLargeError(size, this.maxFrameSize);
    if (this.buffered < 4 + size) return null;
    this.skip(4);
    return this.take(size);
  }

  private peekInt32(): number {
    const head = this.chunks[0];
    if (head.length - this.headOffset >= 4) return head.readInt32BE(this.headOffset);
    const bytes = Buffer.allocUnsafe(4);
    let filled = 0;
    let offset = this.headOffset;
    for (const chunk of this.chunks) {
      const n = Math.min(4 - filled, chunk.length - offset);
      chunk.copy(bytes, filled, offset, offset + n);
      filled += n;
      offset = 0;
      if (filled === 4) break;
    }
    return bytes.readInt32BE(0);
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const head = this.chunks[0];
      const available = head.length - this.headOffset;
      if (available > n) {
        this.headOffset += n;
        return;
      }
      n -= available;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  private take(n: number): Buffer {
    const head = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (head.length - this.headOffset >= n) {
      const view = head.subarray(this.headOffset, this.headOffset + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const count = Math.min(n - filled, chunk.length - this.headOffset);
      chunk.copy(out, filled, this.headOffset, this.headOffset + count);
      filled += count;
      this.skip(count);
    }
    return out;
  }
}
