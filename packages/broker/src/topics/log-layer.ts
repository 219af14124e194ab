/**
 * What the ReplicaManager needs from the storage layer's log manager: partition logs created
 * (or opened) and deleted as the metadata says, reconfigured live.
 */
import type { PartitionLog, TopicConfig } from '@sluice/storage';

export interface LogLayer {
  /** Absolute path of the first data directory. */
  readonly dataDir: string;
  /** Every log directory (log.dirs, JBOD), absolute; DescribeLogDirs reports each. */
  readonly logDirs: readonly string[];
  /** The log directory holding a partition's log, if this broker has it. */
  logDirOf(topic: string, partition: number): string | undefined;
  /** Creates an empty partition log, or opens the one already on disk. */
  create(topic: string, partition: number, config: TopicConfig): Promise<PartitionLog>;
  /** Deletes one partition's log (a replica moved off this broker); its files go at once. */
  deletePartition(topic: string, partition: number): Promise<void>;
  /** Takes every partition of the topic out of service; the files go in the background. */
  deleteTopic(topic: string): Promise<void>;
  updateTopicConfig(topic: string, config: TopicConfig): void;
  /** AlterReplicaLogDirs: an empty future log of the partition in log directory `dir`. */
  createFuture(topic: string, partition: number, dir: string, config: TopicConfig): Promise<PartitionLog>;
  /** Swaps a caught-up future log in: the current log (closed by the caller) goes, the future one becomes the partition's log. */
  promoteFuture(future: PartitionLog): Promise<PartitionLog>;
  /** Drops a future log whose move was cancelled. */
  abandonFuture(future: PartitionLog): Promise<void>;
  /** A partition created later goes to this directory (AlterReplicaLogDirs for a replica not hosted yet, as Kafka remembers it). */
  preferLogDir(topic: string, partition: number, dir: string): void;
  /** Flushes, writes checkpoints and the clean-shutdown marker. */
  close(): Promise<void>;
}
