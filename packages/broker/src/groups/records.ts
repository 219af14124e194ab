/**
 * The coordinator's view of the `__consumer_offsets` records. The byte layouts are Kafka's own
 * (OffsetCommitKey/Value, GroupMetadataKey/Value), declared and generated in `@sluice/protocol`;
 * this module adapts them to the shapes the coordinator keeps and adds the group → partition
 * mapping. We write what Kafka writes: key version 1 / 2, OffsetCommitValue v3 (v1 when the commit
 * carries an explicit expiry, as OffsetCommit v2–v4 retention_time_ms asks), GroupMetadataValue v3.
 */
import * as wire from '@sluice/protocol';

export interface OffsetCommitKey {
  kind: 'offset';
  group: string;
  topic: string;
  partition: number;
}

export interface GroupMetadataKey {
  kind: 'group';
  group: string;
}

export type CoordinatorKey = OffsetCommitKey | GroupMetadataKey;

export interface OffsetCommitValue {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: bigint;
  /** -1: none (only value version 1 stores one). */
  expireTimestamp: bigint;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: bigint;
  members: StoredMember[];
}


export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return wire.encodeOffsetCommitKey({ group, topic, partition });
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return wire.encodeGroupMetadataKey({ group });
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  return wire.encodeOffsetCommitValue(v);
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  return wire.encodeGroupMetadataValue(v);
}

/** Decodes a record key; null for key versions this coordinator does not own (e.g. KIP-848 records). */
export function decodeCoordinatorKey(key: Buffer): CoordinatorKey | null {
  const k = wire.decodeOffsetsTopicKey(key);
  if (k.type === 'offset-commit') return { kind: 'offset', group: k.key.group, topic: k.key.topic, partition: k.key.partition };
  if (k.type === 'group-metadata') return { kind: 'group', group: k.key.group };
  return null;
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const { value: v } = wire.decodeOffsetCommitValue(value);
  return { offset: v.offset, leaderEpoch: v.leaderEpoch ?? -1, metadata: v.metadata, commitTimestamp: v.commitTimestamp, expireTimestamp: v.expireTimestamp ?? -1n };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const { version, value: v } = wire.decodeGroupMetadataValue(value);
  return {
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol,
    leader: v.leader,
    currentStateTimestamp: v.currentStateTimestamp ?? -1n,
    members: v.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      // Version 0 has no rebalance timeout; Kafka uses the session timeout for it.
      rebalanceTimeout: version === 0 ? m.sessionTimeout : (m.rebalanceTimeout ?? m.sessionTimeout),
      sessionTimeout: m.sessionTimeout,
      // Copies: the decoded bytes alias the log read buffer, which should not be kept alive.
      subscription: Buffer.from(m.subscription),
      assignment: Buffer.from(m.assignment),
    })),
  };
}

/** Java's String.hashCode over UTF-16 code units, as Kafka uses to place a group. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The `__consumer_offsets` partition of a group: Kafka's `Utils.abs(hash) % partitions`. */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 (h & 0x7fffffff).
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
