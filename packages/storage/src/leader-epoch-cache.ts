/**
 * The leader-epoch cache: for each leader epoch, the first offset written in it. Replication uses
 * it to answer OffsetForLeaderEpoch and to find where a follower's log diverges. Persisted as
 * `leader-epoch-checkpoint` in the partition directory whenever it changes.
 */
import { join } from 'node:path';
import { LEADER_EPOCH_CHECKPOINT, readLeaderEpochCheckpoint, writeLeaderEpochCheckpoint, type EpochEntry } from './checkpoint.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export interface EpochEndOffset {
  epoch: number;
  endOffset: bigint;
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async load(partitionDir: string): Promise<LeaderEpochCache> {
    const cache = new LeaderEpochCache(join(partitionDir, LEADER_EPOCH_CHECKPOINT));
    cache.entries = await readLeaderEpochCheckpoint(cache.path);
    return cache;
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number {
    return this.entries.length ? this.entries[this.entries.length - 1].epoch : UNDEFINED_EPOCH;
  }

  /** Records that `epoch` starts at `startOffset`; ignores epochs not newer than the latest. */
  assign(epoch: number, startOffset: bigint): boolean {
    if (epoch < 0) return false;
    const last = this.entries[this.entries.length - 1];
    if (last && epoch <= last.epoch) return false;
    // A newer epoch starting at or before older entries supersedes them (no data was kept there).
    this.entries = this.entries.filter((e) => e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `requested` and the offset where the next epoch
   * starts (the log end offset when it is the latest epoch); undefined when the log has no epoch
   * that old.
   */
  endOffsetFor(requested: number, logEndOffset: bigint): EpochEndOffset {
    if (requested === this.latestEpoch && requested !== UNDEFINED_EPOCH) return { epoch: requested, endOffset: logEndOffset };
    let floor = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i].epoch <= requested) floor = i;
    if (floor < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const next = this.entries[floor + 1];
    return { epoch: this.entries[floor].epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  /** Drops epochs starting at or after `endOffset` (the log was truncated to it). */
  truncateFromEnd(endOffset: bigint): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /** The log now starts at `startOffset`: the epoch covering it starts there, older ones go. */
  truncateFromStart(startOffset: bigint): boolean {
    let covering = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i].startOffset <= startOffset) covering = i;
    if (covering < 0) return false;
    const kept = this.entries.slice(covering);
    const changed = covering > 0 || kept[0].startOffset !== startOffset;
    kept[0] = { epoch: kept[0].epoch, startOffset };
    this.entries = kept;
    return changed;
  }

  /** Persists the current entries; writes are serialised so the file ends with the newest state. */
  persist(): Promise<void> {
    const snapshot = this.entries.slice();
    this.writing = this.writing.then(() => writeLeaderEpochCheckpoint(this.path, snapshot));
    return this.writing;
  }
}
