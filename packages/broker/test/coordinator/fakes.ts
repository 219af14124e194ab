/** Test doubles for the coordinator runtime: time that only moves when told, and a partition whose high watermark the test controls. */
import type { CoordinatorPartition, CoordinatorRecord, ReplayedMarker, ReplayedRecord, TransactionalAppend } from '../../src/coordinator/partition.js';
import type { Timer } from '../../src/coordinator/timer.js';

/** One clock shared by every MockTimer made from it; advance() runs what falls due, in time order. */
export class MockTime {
  now = 1_700_000_000_000;
  private readonly timers: MockTimer[] = [];

  timer(): MockTimer {
    const t = new MockTimer(this);
    this.timers.push(t);
    return t;
  }

  /** Moves time forward by `ms`, running every timer due on the way (timers they schedule too). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: { timer: MockTimer; key: string; at: number } | null = null;
      for (const timer of this.timers) {
        for (const [key, { at }] of timer.entries) if (at <= end && (!next || at < next.at)) next = { timer, key, at };
      }
      if (!next) break;
      this.now = next.at;
      const entry = next.timer.entries.get(next.key)!;
      next.timer.entries.delete(next.key);
      entry.fn();
    }
    this.now = end;
  }
}

export class MockTimer implements Timer {
  readonly entries = new Map<string, { at: number; fn: () => void }>();

  constructor(private readonly time: MockTime) {}

  now(): number {
    return this.time.now;
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    // Re-inserted so timers due at the same time run in scheduling order.
    this.entries.delete(key);
    this.entries.set(key, { at: this.time.now + delayMs, fn });
  }

  cancel(key: string): void {
    this.entries.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.entries.has(key);
  }

  cancelAll(): void {
    this.entries.clear();
  }
}

/**
 * An in-memory partition. With `autoCommit` the high watermark follows every append (one broker);
 * without it the test moves it with commitTo(), as followers catching up would.
 */
export class FakePartition implements CoordinatorPartition {
  readonly records: Array<ReplayedRecord | ReplayedMarker> = [];
  highWatermark = 0n;
  appends = 0;
  /** Set to make the next appends fail. */
  failAppends: Error | null = null;
  /** While set, read() waits for it before yielding anything (a slow load). */
  loadGate: Promise<void> | null = null;
  private readonly listeners = new Set<(hw: bigint) => void>();

  constructor(public autoCommit = true) {}

  get logEndOffset(): bigint {
    return BigInt(this.records.length);
  }

  async append(records: readonly CoordinatorRecord[], transactional?: TransactionalAppend): Promise<{ lastOffset: bigint }> {
    await Promise.resolve();
    if (this.failAppends) throw this.failAppends;
    this.appends++;
    for (const r of records) this.records.push({ ...r, offset: this.logEndOffset, timestamp: 0n, producerId: transactional?.producerId ?? -1n });
    if (this.autoCommit) this.commitTo(this.logEndOffset);
    return { lastOffset: this.logEndOffset - 1n };
  }

  /** A transaction marker written by a partition leader (WriteTxnMarkers), committed at once. */
  writeMarker(producerId: bigint, producerEpoch: number, commit: boolean): void {
    this.records.push({ offset: this.logEndOffset, producerId, producerEpoch, commit });
    if (this.autoCommit) this.commitTo(this.logEndOffset);
  }

  commitTo(highWatermark: bigint): void {
    this.highWatermark = highWatermark;
    for (const l of this.listeners) l(highWatermark);
  }

  onHighWatermark(listener: (hw: bigint) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async *read(): AsyncGenerator<ReplayedRecord | ReplayedMarker, void, void> {
    if (this.loadGate) await this.loadGate;
    for (const r of [...this.records]) yield r;
  }
}

/** A promise with its resolve function, to hold something open until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every already-queued promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
