/**
 * One hosted replica of a partition, as Kafka's Partition: its role, leader and partition epochs,
 * ISR and the high watermark. The only owner of partition state in the broker: handlers and
 * coordinators read and append through it, never through the storage log directly.
 */
import { ErrorCode } from '@sluice/protocol';
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

export class Partition {
  private role_: ReplicaRole = 'follower';
  private state_: PartitionState;
  /** Log end offsets of the other replicas, as their fetches report them (replication, later). */
  private readonly replicaEndOffsets = new Map<number, bigint>();
  private readonly hwListeners = new Set<(highWatermark: bigint) => void>();

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    private readonly localBrokerId: number,
    state: PartitionState,
  ) {
    this.state_ = state;
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

  /**
   * Kafka's makeLeader: record the new state and epoch in the log, then raise the high watermark
   * (with ISR = {self} everything the log recovered becomes visible).
   */
  async makeLeader(state: PartitionState): Promise<void> {
    this.state_ = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
    this.role_ = 'leader';
    for (const id of this.replicaEndOffsets.keys()) if (!state.replicas.includes(id)) this.replicaEndOffsets.delete(id);
    await this.log.assignLeaderEpoch(state.leaderEpoch);
    this.maybeIncrementLeaderHW();
  }

  /** Kafka's makeFollower: no writes here any more; fetching from the leader is replication's job. */
  makeFollower(state: PartitionState): void {
    this.state_ = { ...state, replicas: [...state.replicas], isr: [...state.isr] };
    this.role_ = 'follower';
    this.replicaEndOffsets.clear();
  }

  /** A new ISR (and partition epoch) from the metadata; the HW may move since the ISR shrank. */
  updateIsr(isr: readonly number[], partitionEpoch: number): void {
    this.state_ = { ...this.state_, isr: [...isr], partitionEpoch };
    if (this.role_ === 'leader') this.maybeIncrementLeaderHW();
  }

  /** A follower's fetch reported its log end offset. */
  updateFollowerEndOffset(brokerId: number, logEndOffset: bigint): void {
    this.replicaEndOffsets.set(brokerId, logEndOffset);
    if (this.role_ === 'leader') this.maybeIncrementLeaderHW();
  }

  /**
   * HW = the smallest log end offset over the ISR, and it only moves forward. A replica of the
   * ISR whose offset is unknown holds it where it is. Returns whether it moved.
   */
  maybeIncrementLeaderHW(): boolean {
    let candidate = this.log.logEndOffset;
    for (const id of this.state_.isr) {
      if (id === this.localBrokerId) continue;
      const end = this.replicaEndOffsets.get(id);
      if (end === undefined) return false;
      if (end < candidate) candidate = end;
    }
    if (candidate <= this.log.highWatermark) return false;
    this.log.highWatermark = candidate;
    for (const listener of [...this.hwListeners]) listener(candidate);
    return true;
  }

  /** Calls `listener` whenever the high watermark moves; returns the unsubscribe function. */
  onHighWatermark(listener: (highWatermark: bigint) => void): () => void {
    this.hwListeners.add(listener);
    return () => this.hwListeners.delete(listener);
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

  deleteRecordsBefore(offset: bigint): ReturnType<PartitionLog['deleteRecordsBefore']> {
    return this.log.deleteRecordsBefore(offset);
  }
}
