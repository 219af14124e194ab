/**
 * Display form of `__consumer_offsets` records for `dump-log --offsets-decoder` and the offsets
 * formatter. The layouts are decoded by `@sluice/protocol`'s generated codecs, following Kafka's
 * on-disk layouts: key version 0/1 is an offset commit (group, topic, partition), key version 2
 * is group metadata (group); values carry their own version (offset commit 0–4, group metadata
 * 0–4, versions 4 being flexible with compact strings and tagged fields). A null value is a
 * tombstone. Consumer-protocol member subscriptions and assignments are decoded too.
 */
import {
  decodeGroupMetadataValue as decodeMetadataValue,
  decodeOffsetCommitValue as decodeCommitValue,
  decodeOffsetsTopicKey,
  ProtocolError,
  Reader,
  readConsumerProtocolAssignment,
  readConsumerProtocolSubscription,
} from '@sluice/protocol';

export type OffsetsKey =
  | { type: 'offset_commit'; version: number; group: string; topic: string; partition: number }
  | { type: 'group_metadata'; version: number; group: string };

export interface OffsetCommitValue {
  version: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: bigint;
  expireTimestamp: bigint;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: unknown;
  assignment: unknown;
}

export interface GroupMetadataValue {
  version: number;
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: bigint;
  members: GroupMember[];
}

export function decodeOffsetsKey(key: Buffer): OffsetsKey {
  const k = decodeOffsetsTopicKey(key);
  if (k.type === 'offset-commit') return { type: 'offset_commit', version: k.version, ...k.key };
  if (k.type === 'group-metadata') return { type: 'group_metadata', version: k.version, group: k.key.group };
  throw new ProtocolError('unsupported', `__consumer_offsets key version ${k.version} is not an offset commit or group metadata key`);
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const { version, value: v } = decodeCommitValue(value);
  return { version, offset: v.offset, leaderEpoch: v.leaderEpoch ?? -1, metadata: v.metadata, commitTimestamp: v.commitTimestamp, expireTimestamp: v.expireTimestamp ?? -1n };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const { version, value: v } = decodeMetadataValue(value);
  const consumer = v.protocolType === 'consumer';
  return {
    version,
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
      rebalanceTimeout: m.rebalanceTimeout ?? -1,
      sessionTimeout: m.sessionTimeout,
      subscription: consumer ? decodeConsumerPayload(m.subscription, 'subscription') : m.subscription.toString('base64'),
      assignment: consumer ? decodeConsumerPayload(m.assignment, 'assignment') : m.assignment.toString('base64'),
    })),
  };
}

/** Consumer-protocol payloads start with their own int16 version; undecodable ones stay base64. */
function decodeConsumerPayload(bytes: Buffer, kind: 'subscription' | 'assignment'): unknown {
  if (bytes.length === 0) return null;
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    // Newer versions only append fields, so they read as the newest version known here.
    const v = Math.min(version, 3);
    if (v < 0) return bytes.toString('base64');
    return kind === 'subscription' ? readConsumerProtocolSubscription(r, v) : readConsumerProtocolAssignment(r, v);
  } catch (err) {
    if (err instanceof ProtocolError) return bytes.toString('base64');
    throw err;
  }
}
