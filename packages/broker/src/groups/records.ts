/**
 * The records of `__consumer_offsets`, in Kafka's own key and value schemas, so that tools reading
 * that topic (offsets formatters, Burrow) understand what we write:
 *
 *   key   = int16 key version, then the key struct
 *           0/1 OffsetCommitKey   { group: string, topic: string, partition: int32 }
 *           2   GroupMetadataKey  { group: string }
 *   value = int16 value version, then the value struct; null is a tombstone.
 *           OffsetCommitValue v0–4: offset int64, leaderEpoch int32 (v3+), metadata string,
 *             commitTimestamp int64, expireTimestamp int64 (v1 only); v4 is flexible.
 *           GroupMetadataValue v0–4: protocolType string, generation int32, protocol string?,
 *             leader string?, currentStateTimestamp int64 (v2+), members [memberId string,
 *             groupInstanceId string? (v3+), clientId string, clientHost string,
 *             rebalanceTimeout int32 (v1+), sessionTimeout int32, subscription bytes,
 *             assignment bytes]; v4 is flexible.
 *
 * We write what Kafka writes: key version 1 / 2, OffsetCommitValue v3 (v1 when the commit carries
 * an explicit expiry, as OffsetCommit v2–v4 retention_time_ms asks) and GroupMetadataValue v3.
 */
import { ProtocolError, Reader } from '@sluice/protocol';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;

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

/** A growable big-endian writer for these small records. */
class RecordWriter {
  private buf = Buffer.allocUnsafe(128);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }
  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }
  int64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }
  uvarint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  raw(data: Buffer): void {
    this.ensure(data.length);
    data.copy(this.buf, this.pos);
    this.pos += data.length;
  }
  /** A non-flexible string (int16 length, -1 for null). */
  string(v: string | null): void {
    if (v === null) return this.int16(-1);
    const bytes = Buffer.from(v, 'utf8');
    if (bytes.length > 0x7fff) throw new RangeError(`string of ${bytes.length} bytes is too long for an int16 length`);
    this.int16(bytes.length);
    this.raw(bytes);
  }
  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new RecordWriter();
  w.int16(OFFSET_COMMIT_KEY_VERSION);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return w.finish();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new RecordWriter();
  w.int16(GROUP_METADATA_KEY_VERSION);
  w.string(group);
  return w.finish();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  const w = new RecordWriter();
  if (v.expireTimestamp >= 0n) {
    w.int16(1);
    w.int64(v.offset);
    w.string(v.metadata);
    w.int64(v.commitTimestamp);
    w.int64(v.expireTimestamp);
  } else {
    w.int16(3);
    w.int64(v.offset);
    w.int32(v.leaderEpoch);
    w.string(v.metadata);
    w.int64(v.commitTimestamp);
  }
  return w.finish();
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new RecordWriter();
  w.int16(3);
  w.string(v.protocolType);
  w.int32(v.generation);
  w.string(v.protocol);
  w.string(v.leader);
  w.int64(v.currentStateTimestamp);
  w.int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId);
    w.string(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeout);
    w.int32(m.sessionTimeout);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.finish();
}

/** Decodes a record key; null for key versions this coordinator does not own (e.g. KIP-848 records). */
export function decodeCoordinatorKey(key: Buffer): CoordinatorKey | null {
  const r = new Reader(key);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  }
  if (version === 2) return { kind: 'group', group: r.string() };
  return null;
}

function flexString(r: Reader, flexible: boolean): string {
  return flexible ? r.compactString() : r.string();
}
function flexNullableString(r: Reader, flexible: boolean): string | null {
  return flexible ? r.compactNullableString() : r.nullableString();
}
/** Skips a flexible struct's tagged fields (none of them are ones we use). */
function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.raw(r.uvarint());
  }
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw new ProtocolError('unsupported', `OffsetCommitValue version ${version}`);
  const flexible = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = flexString(r, flexible);
  const commitTimestamp = r.int64();
  const expireTimestamp = version === 1 ? r.int64() : -1n;
  if (flexible) skipTaggedFields(r);
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw new ProtocolError('unsupported', `GroupMetadataValue version ${version}`);
  const flexible = version >= 4;
  const protocolType = flexString(r, flexible);
  const generation = r.int32();
  const protocol = flexNullableString(r, flexible);
  const leader = flexNullableString(r, flexible);
  const currentStateTimestamp = version >= 2 ? r.int64() : -1n;
  const count = flexible ? r.compactArrayLength() : r.arrayLength();
  const members: StoredMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = flexString(r, flexible);
    const groupInstanceId = version >= 3 ? flexNullableString(r, flexible) : null;
    const clientId = flexString(r, flexible);
    const clientHost = flexString(r, flexible);
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = flexible ? r.compactBytes() : r.bytes();
    const assignment = flexible ? r.compactBytes() : r.bytes();
    if (flexible) skipTaggedFields(r);
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeout: rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout,
      sessionTimeout,
      subscription: Buffer.from(subscription),
      assignment: Buffer.from(assignment),
    });
  }
  if (flexible) skipTaggedFields(r);
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
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
