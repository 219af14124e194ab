/**
 * Decoding of `__consumer_offsets` records for `dump-log --offsets-decoder`, following Kafka's
 * on-disk layouts: key version 0/1 is an offset commit (group, topic, partition), key version 2
 * is group metadata (group); values carry their own version (offset commit 0–4, group metadata
 * 0–4, versions 4 being flexible with compact strings and tagged fields). A null value is a
 * tombstone. Consumer-protocol member subscriptions and assignments are decoded too.
 */
import { ProtocolError, Reader, readConsumerProtocolAssignment, readConsumerProtocolSubscription } from '@sluice/protocol';

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
  const r = new Reader(key);
  const version = r.int16();
  if (version === 0 || version === 1) return { type: 'offset_commit', version, group: r.string(), topic: r.string(), partition: r.int32() };
  if (version === 2) return { type: 'group_metadata', version, group: r.string() };
  throw new ProtocolError('unsupported', `__consumer_offsets key version ${version} is not an offset commit or group metadata key`);
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw new ProtocolError('unsupported', `offset commit value version ${version}`);
  const flexible = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = flexible ? r.compactString() : r.string();
  const commitTimestamp = r.int64();
  const expireTimestamp = version === 1 ? r.int64() : -1n;
  if (flexible) skipTaggedFields(r);
  return { version, offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw new ProtocolError('unsupported', `group metadata value version ${version}`);
  const flexible = version >= 4;
  const str = (): string => (flexible ? r.compactString() : r.string());
  const nullableStr = (): string | null => (flexible ? r.compactNullableString() : r.nullableString());
  const bytes = (): Buffer => (flexible ? r.compactBytes() : r.bytes());
  const protocolType = str();
  const generation = r.int32();
  const protocol = nullableStr();
  const leader = nullableStr();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1n;
  const count = flexible ? r.compactArrayLength() : r.arrayLength();
  const members: GroupMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nullableStr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscriptionBytes = bytes();
    const assignmentBytes = bytes();
    if (flexible) skipTaggedFields(r);
    const consumer = protocolType === 'consumer';
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeout,
      sessionTimeout,
      subscription: consumer ? decodeConsumerPayload(subscriptionBytes, 'subscription') : subscriptionBytes.toString('base64'),
      assignment: consumer ? decodeConsumerPayload(assignmentBytes, 'assignment') : assignmentBytes.toString('base64'),
    });
  }
  if (flexible) skipTaggedFields(r);
  return { version, protocolType, generation, protocol, leader, currentStateTimestamp, members };
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

function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.raw(r.uvarint());
  }
}
