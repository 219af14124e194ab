/**
 * The Connector API for TypeScript, shaped like Kafka Connect's: a connector splits its job into
 * task configs; source tasks poll records carrying source partitions/offsets, sink tasks receive
 * consumed records and say which offsets are safe to commit.
 */
import type { ConfigDef } from './config-def.js';
import type { SinkRecord, SourceRecord } from '../data/schema.js';

export type ConnectorType = 'source' | 'sink';
export type TaskProps = Record<string, string>;

export interface ConnectorContext {
  /** Ask the worker to call taskConfigs again (the connector's input changed). */
  requestTaskReconfiguration(): void;
  /** Fail the connector with this error. */
  raiseError(error: Error): void;
}

export abstract class Connector {
  context!: ConnectorContext;
  abstract version(): string;
  abstract start(props: TaskProps): void | Promise<void>;
  abstract taskClass(): TaskConstructor;
  abstract taskConfigs(maxTasks: number): TaskProps[];
  abstract stop(): void | Promise<void>;
  abstract config(): ConfigDef;
  abstract readonly type: ConnectorType;
}

/** KIP-618: whether a source connector can say where its tasks' transactions end. */
export type ConnectorTransactionBoundaries = 'SUPPORTED' | 'UNSUPPORTED';
/** KIP-618: whether a source connector, so configured, delivers exactly once (null: it does not say). */
export type ExactlyOnceSupport = 'SUPPORTED' | 'UNSUPPORTED';

export abstract class SourceConnector extends Connector {
  readonly type = 'source' as const;
  /**
   * Asked when `transaction.boundary=connector` is configured: SUPPORTED when the tasks, with
   * these settings, commit and abort through their TransactionContext.
   */
  canDefineTransactionBoundaries(_props: TaskProps): ConnectorTransactionBoundaries {
    return 'UNSUPPORTED';
  }
  /**
   * Asked when `exactly.once.support=required` is configured (the preflight check): SUPPORTED when
   * these settings give exactly-once delivery with exactly-once source support; null when the
   * connector does not say.
   */
  exactlyOnceSupport(_props: TaskProps): ExactlyOnceSupport | null {
    return null;
  }
}

export abstract class SinkConnector extends Connector {
  readonly type = 'sink' as const;
}

export interface OffsetStorageReader {
  offset(partition: Record<string, unknown>): Record<string, unknown> | null;
}

/**
 * KIP-618's connector-defined transaction boundaries: a source task asks for its transaction to
 * end after a record it returns, or after the batch of its next poll(). The records of an aborted
 * transaction are not delivered and their source offsets not committed.
 */
export interface TransactionContext {
  /** Commit once `record` (returned by poll) has been sent; without one, after the next poll's batch. */
  commitTransaction(record?: SourceRecord): void;
  /** Abort once `record` has been sent, dropping it and the transaction's earlier records; without one, after the next poll's batch. */
  abortTransaction(record?: SourceRecord): void;
}

export interface SourceTaskContext {
  offsetStorageReader: OffsetStorageReader;
  configs(): TaskProps;
  /** Non-null only with exactly-once source support and `transaction.boundary=connector`. */
  transactionContext(): TransactionContext | null;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export interface SinkTaskContext {
  configs(): TaskProps;
  assignment(): TopicPartitionRef[];
  /** Rewind or skip: consume this partition from `offset` next. */
  offset(tp: TopicPartitionRef, offset: number): void;
  /** Commit offsets soon instead of waiting for offset.flush.interval.ms. */
  requestCommit(): void;
  pause(...tps: TopicPartitionRef[]): void;
  resume(...tps: TopicPartitionRef[]): void;
}

export interface RecordMetadataRef {
  topic: string;
  partition: number;
  offset: number;
}

export abstract class Task {
  abstract version(): string;
  abstract start(props: TaskProps): void | Promise<void>;
  abstract stop(): void | Promise<void>;
}

export abstract class SourceTask extends Task {
  context!: SourceTaskContext;
  /** Records ready now; null or [] when none (the worker calls again). May wait briefly. */
  abstract poll(): Promise<SourceRecord[] | null>;
  /** The worker has written the offsets of every record returned so far. */
  commit(): void | Promise<void> {}
  /** One record was acknowledged by Kafka (or filtered out, then `metadata` is null). */
  commitRecord(_record: SourceRecord, _metadata: RecordMetadataRef | null): void | Promise<void> {}
}

/** Offsets keyed `topic-partition`: the next offset to consume. */
export type PartitionOffsets = Map<string, { topic: string; partition: number; offset: number }>;

export abstract class SinkTask extends Task {
  context!: SinkTaskContext;
  abstract put(records: SinkRecord[]): void | Promise<void>;
  /** Make every record passed to put durable. */
  flush(_currentOffsets: PartitionOffsets): void | Promise<void> {}
  /** The offsets safe to commit; by default flush and commit everything put so far. */
  async preCommit(currentOffsets: PartitionOffsets): Promise<PartitionOffsets> {
    await this.flush(currentOffsets);
    return currentOffsets;
  }
  open(_partitions: TopicPartitionRef[]): void | Promise<void> {}
  close(_partitions: TopicPartitionRef[]): void | Promise<void> {}
}

export type TaskConstructor = new () => SourceTask | SinkTask;
export type ConnectorConstructor = new () => SourceConnector | SinkConnector;
