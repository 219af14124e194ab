/**
 * Consumer status by Burrow's evaluation rules (github.com/linkedin/Burrow, "Consumer Lag
 * Evaluation Rules"; core/internal/evaluator): instead of a lag threshold, each partition's last
 * few commits (a window, Burrow's storage `intervals`, 10 by default) are judged by how offsets and
 * lag moved across them. Implemented here from those rules; the tests check Burrow's worked cases.
 *
 * A partition with current lag 0 is OK. Otherwise, in order:
 *  - STOP: the time since the last commit is longer than the window spans (first to last commit),
 *    unless the log end was at the last committed offset in a recent broker-offset sample (the
 *    consumer is caught up and there was simply nothing new to commit);
 *  - if the lag was zero at some commit in the window: OK;
 *  - REWIND: an offset in the window is below the one before it;
 *  - STALL: the offset never changed across the window (and there is lag);
 *  - WARN: offsets move but the lag never decreased from one commit to the next;
 *  - else OK.
 * A group is the worst of its partitions, where STOP, STALL and REWIND count as ERR.
 */

/** NOTFOUND: the log end is not known here (no replica of the partition on this broker), so no verdict. */
export type PartitionStatus = 'NOTFOUND' | 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND';
export type GroupStatus = 'NOTFOUND' | 'OK' | 'WARN' | 'ERR';

/** Burrow's numeric status codes (its StatusConstant), used as metric values. */
export const STATUS_CODE: Readonly<Record<PartitionStatus | GroupStatus, number>> = { NOTFOUND: 0, OK: 1, WARN: 2, ERR: 3, STOP: 4, STALL: 5, REWIND: 6 };

/** One commit in a partition's window. */
export interface CommitSample {
  offset: number;
  /** When it was committed, ms since the epoch. */
  timestamp: number;
  /** The log end (high watermark) minus the offset when it was committed, floored at 0; null when the high watermark was not known then. */
  lag: number | null;
}

export function lagAlwaysNonZero(window: readonly CommitSample[]): boolean {
  return window.every((c) => c.lag === null || c.lag !== 0);
}

export function offsetsRewind(window: readonly CommitSample[]): boolean {
  for (let i = 1; i < window.length; i++) if (window[i].offset < window[i - 1].offset) return true;
  return false;
}

export function offsetsStopped(window: readonly CommitSample[], nowMs: number): boolean {
  const first = window[0].timestamp;
  const last = window[window.length - 1].timestamp;
  return nowMs - last > last - first;
}

export function offsetsStalled(window: readonly CommitSample[]): boolean {
  for (let i = 1; i < window.length; i++) if (window[i].offset !== window[i - 1].offset) return false;
  return true;
}

export function lagNotDecreasing(window: readonly CommitSample[]): boolean {
  const lags = window.filter((c) => c.lag !== null).map((c) => c.lag as number);
  for (let i = 1; i < lags.length; i++) if (lags[i] < lags[i - 1]) return false;
  return true;
}

/** The log end was at (or below) the last committed offset in one of the recent samples of it. */
export function recentlyCaughtUp(window: readonly CommitSample[], logEndSamples: readonly number[]): boolean {
  const last = window[window.length - 1].offset;
  return logEndSamples.some((end) => end <= last);
}

export function partitionStatus(window: readonly CommitSample[], logEndSamples: readonly number[], currentLag: number, nowMs: number): PartitionStatus {
  if (window.length === 0 || currentLag <= 0) return 'OK';
  if (offsetsStopped(window, nowMs) && !recentlyCaughtUp(window, logEndSamples)) return 'STOP';
  if (!lagAlwaysNonZero(window)) return 'OK';
  if (offsetsRewind(window)) return 'REWIND';
  if (offsetsStalled(window)) return 'STALL';
  if (lagNotDecreasing(window)) return 'WARN';
  return 'OK';
}

export function groupStatus(partitions: readonly PartitionStatus[]): GroupStatus {
  // Partitions without a verdict do not count; a group with none at all has no verdict either.
  if (partitions.length > 0 && partitions.every((p) => p === 'NOTFOUND')) return 'NOTFOUND';
  let worst: GroupStatus = 'OK';
  for (const p of partitions) {
    if (p === 'NOTFOUND') continue;
    const s: GroupStatus = p === 'OK' ? 'OK' : p === 'WARN' ? 'WARN' : 'ERR';
    if (STATUS_CODE[s] > STATUS_CODE[worst]) worst = s;
  }
  return worst;
}

/**
 * The windows: per group and partition the last `size` commits, per partition the last `size`
 * samples of its log end. A commit closer than `minDistanceMs` to the newest one replaces it
 * (Burrow's min-distance), so a consumer committing many times a second still spans time.
 */
export class CommitWindows {
  private readonly commits = new Map<string, CommitSample[]>();
  private readonly logEnds = new Map<string, { at: number; end: number }[]>();

  constructor(
    readonly size: number,
    readonly minDistanceMs: number,
  ) {}

  private static key(group: string, topic: string, partition: number): string {
    return `${group}\u0000${topic}\u0000${partition}`;
  }

  add(group: string, topic: string, partition: number, sample: CommitSample): void {
    const key = CommitWindows.key(group, topic, partition);
    let window = this.commits.get(key);
    if (!window) this.commits.set(key, (window = []));
    const newest = window[window.length - 1];
    if (newest !== undefined && sample.timestamp - newest.timestamp < this.minDistanceMs && sample.timestamp >= newest.timestamp) window[window.length - 1] = sample;
    else if (newest === undefined || sample.timestamp >= newest.timestamp) window.push(sample);
    if (window.length > this.size) window.splice(0, window.length - this.size);
  }

  window(group: string, topic: string, partition: number): readonly CommitSample[] {
    return this.commits.get(CommitWindows.key(group, topic, partition)) ?? [];
  }

  sampleLogEnd(topic: string, partition: number, end: number, nowMs: number): void {
    const key = `${topic}\u0000${partition}`;
    let samples = this.logEnds.get(key);
    if (!samples) this.logEnds.set(key, (samples = []));
    const newest = samples[samples.length - 1];
    if (newest !== undefined && nowMs - newest.at < this.minDistanceMs) samples[samples.length - 1] = { at: newest.at, end };
    else samples.push({ at: nowMs, end });
    if (samples.length > this.size) samples.splice(0, samples.length - this.size);
  }

  logEndSamples(topic: string, partition: number): number[] {
    return (this.logEnds.get(`${topic}\u0000${partition}`) ?? []).map((s) => s.end);
  }

  /** Drops the windows of groups no longer known (deleted, expired, moved to another coordinator). */
  retainGroups(live: ReadonlySet<string>): void {
    for (const key of this.commits.keys()) if (!live.has(key.slice(0, key.indexOf('\u0000')))) this.commits.delete(key);
  }
}
