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
  /** The producer of a transactional batch (a TxnOffsetCommit's records), -1n for plain ones. */
  producerId: bigint;
}

/** A transaction marker (control batch) met while replaying: it ends `producerId`'s transaction. */
export interface ReplayedMarker {
  offset: bigint;
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
}

/** Appended as a transactional batch of this producer: its records count only once its commit marker lands. */
export interface TransactionalAppend {
  producerId: bigint;
  producerEpoch: number;
}

export interface CoordinatorPartition {
  /**
   * Appends the records as one batch (atomic in the log) as leader. Batches are written in call
   * order. Resolves once appended, which is not yet committed: see highWatermark.
   */
  append(records: readonly CoordinatorRecord[], transactional?: TransactionalAppend): Promise<{ lastOffset: bigint }>;
  /** Offsets below it are committed (replicated as required); a write is acknowledged only then. */
  readonly highWatermark: bigint;
  /** Calls `listener` whenever the high watermark moves; returns the unsubscribe function. */
  onHighWatermark(listener: (highWatermark: bigint) => void): () => void;
  /** Every keyed data record and every transaction marker of the partition from its start, in log order (what a shard replays). */
  read(): AsyncIterable<ReplayedRecord | ReplayedMarker>;
}
