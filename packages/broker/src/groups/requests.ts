/**
 * The group coordinator's version-free requests and results (handlers.ts maps each API version to
 * and from them), what a shard needs of the broker, and Kafka's mapping of failed writes.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { Logger } from '../logger.js';
import type { JoinResult, ProtocolMetadata, SyncResult } from './group.js';

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ProtocolMetadata[];
  /** JoinGroup version: v4+ gets MEMBER_ID_REQUIRED, v9+ skipAssignment. */
  apiVersion: number;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: (MemberIdentity & { errorCode: number })[];
}

export interface OffsetCommitPartition {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  /** OffsetCommit v1's per-partition timestamp; -1: now. */
  commitTimestamp: number;
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–v4 retention_time_ms; -1: the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  partitions: OffsetCommitPartition[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
}

/** What a group coordinator shard needs of the broker (tests give it plain values). */
export interface GroupCoordinatorEnvironment {
  /** Broker configuration (group.*, offsets.*, offset.metadata.max.bytes). */
  readonly config: { int(key: string): number };
  readonly log: Logger;
  /** The partition count of a topic, undefined when it does not exist (commits are checked against it). */
  partitionCount(topic: string): number | undefined;
  /** Told of rebalances and commits (broker metrics on); absent: nobody listens. */
  readonly events?: GroupEvents;
}

/** What the coordinator tells the broker's metrics: counts, and each commit for the lag evaluator. */
export interface GroupEvents {
  rebalanceStarted(groupId: string): void;
  rebalanceCompleted(groupId: string): void;
  offsetCommitted(groupId: string, topic: string, partition: number, offset: bigint, commitTimestampMs: number): void;
}

const EMPTY = Buffer.alloc(0);
export const NO_GENERATION = -1;

export function joinError(errorCode: number, memberId = ''): JoinResult {
  return { errorCode, generationId: NO_GENERATION, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** The error code of a failed operation: Kafka's own code for a KafkaError, else UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(err: unknown): number {
  return err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** Kafka's mapping of a failed coordinator write to what the client is told. */
export function writeErrorCode(err: unknown, groupId: string, log: Logger): number {
  log.warn(`group ${groupId}: writing to __consumer_offsets failed: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof KafkaError) {
    if (err.code === ErrorCode.RECORD_LIST_TOO_LARGE || err.code === ErrorCode.MESSAGE_TOO_LARGE || err.code === ErrorCode.INVALID_FETCH_SIZE) {
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    }
    if (err.code === ErrorCode.COORDINATOR_NOT_AVAILABLE || err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // The shard unloaded (or the partition moved) before the write was committed.
    if (err.code === ErrorCode.NOT_COORDINATOR || err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return ErrorCode.NOT_COORDINATOR;
  }
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}
