/**
 * Window definitions with Kafka Streams' semantics. Time windows are [start, end) aligned to the
 * epoch; a record belongs to every window whose range holds its timestamp. Grace is how long
 * after a window's end (in stream time) late records are still accepted.
 */
import type { TimeWindow } from '../state/window-store.js';

function checkDuration(name: string, ms: number, min = 0): void {
  if (!Number.isFinite(ms) || ms < min) throw new RangeError(`${name} must be ${min === 0 ? 'non-negative' : `at least ${min} ms`}, got ${ms}`);
}

export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    checkDuration('window size', sizeMs, 1);
    return new TimeWindows(sizeMs, sizeMs, 0);
  }

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    checkDuration('window size', sizeMs, 1);
    checkDuration('grace period', graceMs);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  /** Hopping windows: a new window every `advanceMs`. */
  advanceBy(advanceMs: number): TimeWindows {
    if (!(advanceMs > 0 && advanceMs <= this.sizeMs)) throw new RangeError(`window advance must be in (0, ${this.sizeMs}], got ${advanceMs}`);
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** The windows holding a timestamp, oldest first. */
  windowsFor(timestamp: number): TimeWindow[] {
    let start = Math.max(0, timestamp - this.sizeMs + this.advanceMs);
    start -= start % this.advanceMs;
    const out: TimeWindow[] = [];
    for (; start <= timestamp; start += this.advanceMs) out.push({ start, end: start + this.sizeMs });
    return out;
  }

  size(): number {
    return this.sizeMs;
  }

  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/** Windows of a fixed size defined by record timestamps: [t - timeDifference, t], inclusive. */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    checkDuration('time difference', timeDifferenceMs, 1);
    return new SlidingWindows(timeDifferenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    checkDuration('time difference', timeDifferenceMs, 1);
    checkDuration('grace period', graceMs);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/** Sessions: records of a key closer than the inactivity gap belong to one session [first, last]. */
export class SessionWindows {
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    checkDuration('inactivity gap', gapMs, 1);
    return new SessionWindows(gapMs, 0);
  }

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    checkDuration('inactivity gap', gapMs, 1);
    checkDuration('grace period', graceMs);
    return new SessionWindows(gapMs, graceMs);
  }

  inactivityGap(): number {
    return this.gapMs;
  }

  gracePeriodMs(): number {
    return this.graceMs;
  }
}

/** Stream-stream join windows: records join when `other.ts` is in [ts - before, ts + after]. */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    checkDuration('time difference', timeDifferenceMs);
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    checkDuration('time difference', timeDifferenceMs);
    checkDuration('grace period', graceMs);
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, graceMs);
  }

  before(ms: number): JoinWindows {
    checkDuration('before', ms);
    return new JoinWindows(ms, this.afterMs, this.graceMs);
  }

  after(ms: number): JoinWindows {
    checkDuration('after', ms);
    return new JoinWindows(this.beforeMs, ms, this.graceMs);
  }

  size(): number {
    return this.beforeMs + this.afterMs;
  }

  gracePeriodMs(): number {
    return this.graceMs;
  }
}
