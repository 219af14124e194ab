/**
 * One hosted replica of a partition, as Kafka's Partition: its role, leader and partition epochs,
 * ISR and the high watermark. The only owner of partition state in the broker: handlers and
 * coordinators read and append through it, never through the storage log directly.
 *
 * As leader it tracks every follower's fetch state (Kafka's Replica: log end offset, last
 * caught-up time), derives the high watermark from the ISR, and says when the ISR should shrink or
 * grow; the change itself goes through the metadata store (AlterPartitionManager) and comes back
 * as a new state. While a change is in flight the high watermark is computed over the "maximal"
 * ISR (the current one plus any replica being added), so it never runs ahead of a replica that
 * may yet count.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { PartitionLog, ReadOptions } from '@sluice/storage';

export type ReplicaRole = 'leader' | 'follower';

/** What the metadata says of a partition, as this broker applies it. */
export interface PartitionState {
  leader: number;
  leaderEpoch: number;
  /** Bumped on every change of the partition's state (ISR, replicas, leader). */
  partitionEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
}

/** A follower as the leader sees it through its fetches (Kafka's Replica state). */
export interface FollowerState {
  logEndOffset: bigint;
  /** The last time its fetch showed it had everything the leader had (caught up). */
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  /** The leader's log end offset when that last fetch arrived. */
  lastFetchLeaderLogEndOffset: bigint;
  /** The HW last sent to it: a fetch is answered at once while it is behind (followers serve consumers up to it, KIP-392). */
  lastSentHighWatermark?: bigint;
}

export class Partition {
  private role_: ReplicaRole = 'follower';
  private state_: PartitionState;
  private readonly followers = new Map<number, FollowerState>();
  /** An ISR change sent to the metadata store and not yet back as state (Kafka's pending ISR). */
  private pendingIsr: readonly number[] | null = null;
  /** Where this leader's current epoch began: a follower below it cannot join the ISR. */
  private leaderEpochStartOffset = 0n;
  private readonly hwListeners = new Set<(highWatermark: bigint) => void>();
  private readonly logEndListeners = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly index: number,
    log: PartitionLog,
    private readonly localBrokerId: number,
    state: PartitionState,
  ) {
    this.log_ = log;
    this.state_ = state;
  }

  private log_: PartitionLog;
  /** Writes in progress (appends, truncations), and the gate an exclusive section closes. */
  private writesInFlight = 0;
  private gate: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  /** The replica's log; replaced when AlterReplicaLogDirs moves it to another directory. */
  get log(): PartitionLog {
    return this.log_;
  }

  /** Runs a write to the log (append, truncation) outside any exclusive section (a log swap, a role change). */
  async write<T>(fn: (log: PartitionLog) => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    this.writesInFlight++;
    try {
      return await fn(this.log_);
    } finally {
      if (--this.writesInFlight === 0) this.drained?.();
    }
  }

  /**
   * A write as the leader at `leaderEpoch` (Kafka's appendRecordsToLeader under the leader-ISR
   * lock): refused with NOT_LEADER_OR_FOLLOWER when leadership moved since the caller looked, so
   * a batch never lands in a log that has become a follower's.
   */
  writeAsLeader<T>(leaderEpoch: number, fn: (log: PartitionLog) => Promise<T>): Promise<T> {
    return this.write((log) => {
      if (this.role_ !== 'leader' || this.state_.leaderEpoch !== leaderEpoch) {
        throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${this.topic}-${this.index} is no longer led here at epoch ${leaderEpoch}.`);
      }
      return fn(log);
    });
  }

  /**
   * A replica fetcher's write for the leadership at `leaderEpoch` (an append of the leader's
   * batches, a truncation): skipped, returning false, when this replica has since become the
   * leader or follows a newer leadership. A fetch answered by the old leader must not land after
   * the new epoch began here: the log would hold old-epoch batches past the epoch's start, and
   * followers comparing epochs would truncate and refetch them forever.
   */
  async writeAsFollower(leaderEpoch: number, fn: (log: PartitionLog) => Promise<unknown>): Promise<boolean> {
    return this.write(async (log) => {
      if (this.role_ !== 'follower' || this.state_.leaderEpoch !== leaderEpoch || log.isClosed) return false;
      await fn(log);
      return true;
    });
  }

  /**
   * Runs `fn` with no write in progress and none starting until it ends (writes wait), then
   * installs the log it returns (the same one, or its replacement in another log directory).
   */
  async exclusive(fn: (log: PartitionLog) => Promise<PartitionLog>): Promise<void> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    try {
      if (this.writesInFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = null;
      this.log_ = await fn(this.log_);
    } finally {
      this.gate = null;
      open();
    }
  }

  get role(): ReplicaRole {
    return this.role_;
  }

  get state(): Readonly<PartitionState> {
    return this.state_;
  }

  get leaderEpoch(): number {
    return this.state_.leaderEpoch;
  }

  get isr(): readonly number[] {
    return this.state_.isr;
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  get logStartOffset(): bigint {
    return this.log.logStartOffset;
  }

  get logEndOffset(): bigint {
    return this.log.logEndOffset;
  }

  get sizeInBytes(): number {
    return this.log.sizeInBytes;
  }

  get config(): PartitionLog['config'] {
    return this.log.config;
  }

  /** The ISR the high watermark is computed over: the current one plus replicas being added. */
  get maximalIsr(): readonly number[] {
    if (!this.pendingIsr) return this.state_.isr;
    return [...new Set([...this.state_.isr, ...this.pendingIsr])];
  }

  get isrChangePending(): boolean {
    return this.pendingIsr !== null;
  }

  /**
   * Kafka's makeLeader: record the new state and epoch in the log, reset the followers' state
   * (those in the ISR count as caught up now, so they are not dropped at once), then raise the high
   * watermark if the ISR allows (with ISR = {self}, everything the log recovered becomes visible).
   */
  async makeLeader(state: PartitionState, nowMs = Date.now()): Promise<void> {
    // As Kafka's leader-ISR lock: no append or truncation is half-way while the role changes.
    await this.exclusive(async (log) => {
      await this.applyLeaderState(state, nowMs);
      return log;
    });
  }

  private async applyLeaderState(state: PartitionState, nowMs: number): Promise<void> {
    const wasLeaderAtEpoch = this.role_ === 'leader' && this.state_.leaderEpoch === state.leaderEpoch;
    this.state_ = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
    this.role_ = 'leader';
    this.pendingIsr = null;
    if (!wasLeaderAtEpoch) {
      this.followers.clear();
      this.leaderEpochStartOffset = this.log.logEndOffset;
    }
    for (const id of state.replicas) {
      if (id === this.localBrokerId || this.followers.has(id)) continue;
      // Unknown until it fetches; an ISR member is given the benefit of the doubt for one lag period.
      this.followers.set(id, { logEndOffset: -1n, lastCaughtUpTimeMs: state.isr.includes(id) ? nowMs : 0, lastFetchTimeMs: 0, lastFetchLeaderLogEndOffset: -1n });
    }
    for (const id of [...this.followers.keys()]) if (!state.replicas.includes(id)) this.followers.delete(id);
    await this.log.assignLeaderEpoch(state.leaderEpoch);
    this.maybeIncrementLeaderHW();
  }

  /**
   * Kafka's makeFollower: no writes here any more; the replica fetcher brings the leader's records.
   * Appends in progress (as leader, or fetched from an older leader) finish first.
   */
  async makeFollower(state: PartitionState): Promise<void> {
    await this.exclusive(async (log) => {
      this.state_ = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
      this.role_ = 'follower';
      this.followers.clear();
      this.pendingIsr = null;
      return log;
    });
  }

  /** A new ISR or replica set (and partition epoch) from the metadata, same leadership; the HW may move. */
  updateState(state: PartitionState): void {
    this.state_ = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
    this.pendingIsr = null;
    if (this.role_ !== 'leader') return;
    for (const id of state.replicas) {
      if (id !== this.localBrokerId && !this.followers.has(id)) this.followers.set(id, { logEndOffset: -1n, lastCaughtUpTimeMs: 0, lastFetchTimeMs: 0, lastFetchLeaderLogEndOffset: -1n });
    }
    for (const id of [...this.followers.keys()]) if (!state.replicas.includes(id)) this.followers.delete(id);
    this.maybeIncrementLeaderHW();
  }

  /** Marks an ISR change as sent to the metadata store (until the store's answer arrives or fails). */
  setPendingIsr(isr: readonly number[] | null): void {
    this.pendingIsr = isr ? [...isr] : null;
  }

  follower(brokerId: number): Readonly<FollowerState> | undefined {
    return this.followers.get(brokerId);
  }

  /**
   * A follower's fetch at `fetchOffset` (its log end offset), as Kafka's updateFollowerFetchState:
   * it is caught up now if it asked for the leader's log end, or as of its previous fetch if it
   * asked for at least what the leader had then. Then the HW may move.
   */
  updateFollowerFetchState(brokerId: number, fetchOffset: bigint, nowMs = Date.now()): void {
    const leaderEnd = this.log.logEndOffset;
    const prev = this.followers.get(brokerId) ?? { logEndOffset: -1n, lastCaughtUpTimeMs: 0, lastFetchTimeMs: 0, lastFetchLeaderLogEndOffset: -1n };
    let caughtUp = prev.lastCaughtUpTimeMs;
    if (fetchOffset >= leaderEnd) caughtUp = nowMs;
    else if (prev.lastFetchLeaderLogEndOffset >= 0n && fetchOffset >= prev.lastFetchLeaderLogEndOffset) caughtUp = Math.max(caughtUp, prev.lastFetchTimeMs);
    this.followers.set(brokerId, { logEndOffset: fetchOffset, lastCaughtUpTimeMs: caughtUp, lastFetchTimeMs: nowMs, lastFetchLeaderLogEndOffset: leaderEnd, lastSentHighWatermark: prev.lastSentHighWatermark });
    if (this.role_ === 'leader') this.maybeIncrementLeaderHW();
  }

  /**
   * Kafka's Replica.lastSentHighWatermark: records that `brokerId` is being sent `highWatermark`;
   * true when that is news to it (its fetch is then answered at once, so followers serving
   * consumers learn the HW without waiting for the next append).
   */
  sendHighWatermark(brokerId: number, highWatermark: bigint): boolean {
    const f = this.followers.get(brokerId);
    if (!f || (f.lastSentHighWatermark !== undefined && f.lastSentHighWatermark >= highWatermark)) return false;
    f.lastSentHighWatermark = highWatermark;
    return true;
  }

  /** Tests and tools: a follower's log end offset as if it had fetched there. */
  updateFollowerEndOffset(brokerId: number, logEndOffset: bigint): void {
    this.updateFollowerFetchState(brokerId, logEndOffset);
  }

  /**
   * A follower outside the ISR that may join it (Kafka's isFollowerInSync): it has everything up to
   * the high watermark and at least the start of this leader's epoch.
   */
  isrCandidate(brokerId: number): boolean {
    if (this.role_ !== 'leader' || this.state_.isr.includes(brokerId) || !this.state_.replicas.includes(brokerId)) return false;
    const f = this.followers.get(brokerId);
    return f !== undefined && f.logEndOffset >= this.log.highWatermark && f.logEndOffset >= this.leaderEpochStartOffset;
  }

  /** ISR members (not this broker) that have not caught up within `maxLagMs` (Kafka's getOutOfSyncReplicas). */
  outOfSyncReplicas(maxLagMs: number, nowMs = Date.now()): number[] {
    if (this.role_ !== 'leader') return [];
    return this.state_.isr.filter((id) => {
      if (id === this.localBrokerId) return false;
      const f = this.followers.get(id);
      return !f || nowMs - f.lastCaughtUpTimeMs > maxLagMs;
    });
  }

  /**
   * HW = the smallest log end offset over the (maximal) ISR, and it only moves forward. A replica
   * of the ISR whose offset is unknown holds it where it is. Returns whether it moved.
   */
  maybeIncrementLeaderHW(): boolean {
    let candidate = this.log.logEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.localBrokerId) continue;
      const end = this.followers.get(id)?.logEndOffset;
      if (end === undefined || end < 0n) return false;
      if (end < candidate) candidate = end;
    }
    if (candidate <= this.log.highWatermark) return false;
    this.log.highWatermark = candidate;
    for (const listener of [...this.hwListeners]) listener(candidate);
    return true;
  }

  /** A follower's HW: the leader's, bounded by what this replica has. */
  updateFollowerHighWatermark(leaderHighWatermark: bigint): void {
    const hw = leaderHighWatermark < this.log.logEndOffset ? leaderHighWatermark : this.log.logEndOffset;
    if (hw <= this.log.highWatermark) return;
    this.log.highWatermark = hw;
    for (const listener of [...this.hwListeners]) listener(hw);
  }

  /** Calls `listener` whenever the high watermark moves; returns the unsubscribe function. */
  onHighWatermark(listener: (highWatermark: bigint) => void): () => void {
    this.hwListeners.add(listener);
    return () => this.hwListeners.delete(listener);
  }

  /** Calls `listener` after every append to this leader's log (replica fetches wait on it). */
  onLogEnd(listener: () => void): () => void {
    this.logEndListeners.add(listener);
    return () => this.logEndListeners.delete(listener);
  }

  /** The leader appended: wake replica fetches waiting for new data. */
  logEndChanged(): void {
    for (const listener of [...this.logEndListeners]) listener();
  }

  /**
   * The leader-epoch fence, in one place: a client's epoch older than ours is fenced, a newer one
   * is unknown to us yet; -1 (or absent) skips the check.
   */
  checkLeaderEpoch(currentLeaderEpoch: number | undefined): number {
    if (currentLeaderEpoch === undefined || currentLeaderEpoch < 0 || currentLeaderEpoch === this.state_.leaderEpoch) return ErrorCode.NONE;
    return currentLeaderEpoch < this.state_.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
  }

  read(offset: bigint, maxBytes: number, options: ReadOptions): ReturnType<PartitionLog['read']> {
    return this.log.read(offset, maxBytes, options);
  }

  offsetForTimestamp(timestamp: bigint): ReturnType<PartitionLog['offsetForTimestamp']> {
    return this.log.offsetForTimestamp(timestamp);
  }

  endOffsetForEpoch(leaderEpoch: number): ReturnType<PartitionLog['endOffsetForEpoch']> {
    return this.log.endOffsetForEpoch(leaderEpoch);
  }

  /**
   * KIP-320, as Kafka's Partition.readRecords: a fetch at `fetchOffset` whose last fetched batch
   * had `lastFetchedEpoch` diverged from this log when that epoch is unknown here (we end at an
   * older one) or ends here before the fetch offset. Returns where our log ends that epoch (the
   * fetcher truncates there) or null when the fetch is consistent with this log.
   */
  divergingEpoch(fetchOffset: bigint, lastFetchedEpoch: number): { epoch: number; endOffset: bigint } | null {
    if (lastFetchedEpoch < 0) return null;
    const end = this.log.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch < 0) {
      // No epoch that old here. A log without epochs cannot contradict the fetcher; one whose
      // epochs all came later (Kafka answers the fetcher's epoch ending where ours begin) can.
      return this.log.latestEpoch < 0 ? null : { epoch: lastFetchedEpoch, endOffset: this.log.logStartOffset };
    }
    if (end.epoch < lastFetchedEpoch || end.endOffset < fetchOffset) return { epoch: end.epoch, endOffset: end.endOffset };
    return null;
  }

  deleteRecordsBefore(offset: bigint): ReturnType<PartitionLog['deleteRecordsBefore']> {
    return this.log.deleteRecordsBefore(offset);
  }
}
