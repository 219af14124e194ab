/**
 * The ordered segments of one log (Kafka's LogSegments/LocalLog). Owned by the log and changed only
 * under its lock; everyone else gets snapshots (`all`, `from`, `sealed`), so a segment list is
 * never mutated from outside.
 */
import { fsyncDirectory } from './checkpoint.js';
import { LogSegment, type SegmentOptions } from './segment.js';

export interface NewSegmentOptions {
  segment: SegmentOptions;
  /** Bytes to preallocate for a new segment (segment.bytes when preallocate=true). */
  preallocateBytes: number;
}

export class LogSegments {
  private list: LogSegment[] = [];

  constructor(
    readonly dir: string,
    /** Read at every roll, so a config change applies to new segments. */
    private readonly newSegmentOptions: () => NewSegmentOptions,
  ) {}

  /** A read-only view (tests, tools); changes go through the log. */
  get all(): readonly LogSegment[] {
    return this.list;
  }
  get length(): number {
    return this.list.length;
  }
  get first(): LogSegment {
    return this.list[0];
  }
  get active(): LogSegment {
    return this.list[this.list.length - 1];
  }
  get sizeInBytes(): number {
    return this.list.reduce((n, s) => n + s.size, 0);
  }
  at(i: number): LogSegment | undefined {
    return this.list[i];
  }
  indexOf(seg: LogSegment): number {
    return this.list.indexOf(seg);
  }

  /** Index of the segment that holds `offset`: the last with baseOffset <= offset (0 below all). */
  floorIndex(offset: bigint): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Snapshot from the segment holding `offset` to the end. */
  from(offset: bigint): LogSegment[] {
    return this.list.slice(this.floorIndex(offset));
  }
  /** Snapshot of every segment but the active one. */
  sealed(): LogSegment[] {
    return this.list.slice(0, -1);
  }
  /** Segments with writes not yet fsynced. */
  dirty(): LogSegment[] {
    return this.list.filter((s) => s.dirty);
  }

  add(seg: LogSegment): void {
    this.list.push(seg);
  }
  removeFirst(): LogSegment | undefined {
    return this.list.shift();
  }
  removeLast(): LogSegment | undefined {
    return this.list.pop();
  }
  /** Removes and returns every segment after index `i`. */
  removeAfter(i: number): LogSegment[] {
    return this.list.splice(i + 1);
  }
  removeAll(): LogSegment[] {
    return this.list.splice(0);
  }
  /** Puts `replacement` where the consecutive run `sources` was; returns its index. */
  replace(sources: readonly LogSegment[], replacement: LogSegment): number {
    const at = this.list.indexOf(sources[0]);
    this.list.splice(at, sources.length, replacement);
    return at;
  }
  /** True when `run` is a consecutive run of sealed segments of this log. */
  holdsSealedRun(run: readonly LogSegment[]): boolean {
    const first = this.list.indexOf(run[0]);
    if (first < 0 || first + run.length >= this.list.length) return false;
    for (let i = 0; i < run.length; i++) if (this.list[first + i] !== run[i]) return false;
    return true;
  }

  /** Creates a new (empty) segment at `baseOffset` and appends it, durably named. */
  async create(baseOffset: bigint): Promise<LogSegment> {
    const { segment, preallocateBytes } = this.newSegmentOptions();
    const seg = await LogSegment.create(this.dir, baseOffset, segment, preallocateBytes);
    this.list.push(seg);
    await fsyncDirectory(this.dir);
    return seg;
  }

  /** Seals the active segment and starts a new one at `baseOffset`. Call under the log's lock. */
  async roll(baseOffset: bigint): Promise<void> {
    const old = this.active;
    if (old.isEmpty && old.baseOffset === baseOffset) return;
    if (old.isEmpty) {
      this.list.pop();
      await old.markDeleted();
    } else {
      await old.seal();
    }
    await this.create(baseOffset);
  }
}
