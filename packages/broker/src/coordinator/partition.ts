/**
 * What the coordinator runtime needs of the internal topic partition a shard lives in, and no
 * more: append, replay, and the high watermark. Kept this narrow so the adapter over today's
 * TopicManager/PartitionLog (groups/offsets-log.ts) can be re-pointed at a ReplicaManager.
 */

export interface CoordinatorRecord {
  key: Buffer;
  /** Null: a tombstone. */
  value: Buffer | null;
}

export interface ReplayedRecord extends CoordinatorRecord {
  offset: bigint;
  timestamp: bigint;
}

export interface CoordinatorPartition {
  /**
   * Appends the records as one batch (atomic in the log) as leader. Batches are written in call
   * order. Resolves once appended, which is not yet committed: see highWatermark.
   */
  append(records: readonly CoordinatorRecord[]): Promise<{ lastOffset: bigint }>;
  /** Offsets below it are committed (replicated as required); a write is acknowledged only then. */
  readonly highWatermark: bigint;
  /** Calls `listener` whenever the high watermark moves; returns the unsubscribe function. */
  onHighWatermark(listener: (highWatermark: bigint) => void): () => void;
  /** Every data record of the partition from its start, in log order (what a shard replays). */
  read(): AsyncIterable<ReplayedRecord>;
}
