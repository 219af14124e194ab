/**
 * Streams the record batches of a segment file without loading it whole: a window of the file
 * is kept in memory and grown only for a batch larger than it. Stops at the first bytes that are
 * not a well-formed batch and reports how many bytes were left over and why.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { BATCH_HEADER_SIZE, BatchIterator } from '@sluice/protocol';

const WINDOW_BYTES = 1 << 20;

export interface SegmentBatch {
  /** File position of the batch. */
  position: number;
  /** A buffer holding the batch at `offsetInBuffer` (valid until the next batch is read). */
  buffer: Buffer;
  offsetInBuffer: number;
  size: number;
}

export interface SegmentTail {
  /** Bytes after the last well-formed batch. */
  invalidBytes: number;
  position: number;
  reason: 'truncated' | 'invalid' | 'too-large' | null;
}

export class SegmentReader {
  private window = Buffer.allocUnsafe(WINDOW_BYTES);
  private windowStart = 0;
  private windowLength = 0;
  tail: SegmentTail = { invalidBytes: 0, position: 0, reason: null };

  private constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
    private readonly maxBatchBytes: number,
  ) {}

  static async open(path: string, maxBatchBytes: number): Promise<SegmentReader> {
    const fh = await open(path, 'r');
    const { size } = await fh.stat();
    return new SegmentReader(fh, size, maxBatchBytes);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Makes file bytes [position, position+length) available in the window; false past EOF. */
  private async ensure(position: number, length: number): Promise<boolean> {
    if (position + length > this.fileSize) return false;
    if (position >= this.windowStart && position + length <= this.windowStart + this.windowLength) return true;
    if (length > this.window.length) this.window = Buffer.allocUnsafe(length);
    const want = Math.min(this.window.length, this.fileSize - position);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(this.window, got, want - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.windowStart = position;
    this.windowLength = got;
    return got >= length;
  }

  /** Reads the batch at `position`, or null when none starts there (see `tail`). */
  async batchAt(position: number): Promise<SegmentBatch | null> {
    const fail = (reason: SegmentTail['reason']): null => {
      this.tail = { invalidBytes: this.fileSize - position, position, reason };
      return null;
    };
    if (position >= this.fileSize) {
      this.tail = { invalidBytes: 0, position, reason: null };
      return null;
    }
    if (!(await this.ensure(position, BATCH_HEADER_SIZE))) return fail('truncated');
    const at = position - this.windowStart;
    // The shared header walk judges the header; the body may lie beyond the window for now.
    const it = new BatchIterator(this.window, { start: at, end: this.windowLength, allowPartial: true });
    if (!it.next()) return fail('invalid');
    const size = it.size;
    if (size > this.maxBatchBytes) return fail('too-large');
    if (!(await this.ensure(position, size))) return fail('truncated');
    return { position, buffer: this.window, offsetInBuffer: position - this.windowStart, size };
  }

  async *batches(): AsyncGenerator<SegmentBatch, void, void> {
    let position = 0;
    for (;;) {
      const batch = await this.batchAt(position);
      if (!batch) return;
      yield batch;
      position += batch.size;
    }
  }
}
