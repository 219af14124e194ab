/**
 * The records of `__consumer_offsets` in Kafka's own layouts, so that what our group coordinator
 * writes is what Kafka's tools (the offsets formatter, kafka-dump-log, Burrow) expect to read.
 *
 *   key   = int16 version (the record type: 0/1 offset commit, 2 group metadata, 3+ records of
 *           newer coordinators), then the key struct
 *   value = int16 version, then the value struct; a null value is a tombstone
 */
import { ProtocolError } from '../protocol-error.js';
import { Reader } from '../primitives/index.js';
import {
  readGroupMetadataKey,
  readGroupMetadataValue,
  readOffsetCommitKey,
  readOffsetCommitValue,
  sizeGroupMetadataKey,
  sizeGroupMetadataValue,
  sizeOffsetCommitKey,
  sizeOffsetCommitValue,
  writeGroupMetadataKey,
  writeGroupMetadataValue,
  writeOffsetCommitKey,
  writeOffsetCommitValue,
  type GroupMetadataKey,
  type GroupMetadataValue,
  type OffsetCommitKey,
  type OffsetCommitValue,
} from './generated/index.js';
import { decodeVersioned, encodeVersioned, type DataCodec } from './versioned-data.js';

const offsetCommitKey: DataCodec<OffsetCommitKey> = { read: readOffsetCommitKey, size: sizeOffsetCommitKey, write: writeOffsetCommitKey, maxVersion: 1 };
const groupMetadataKey: DataCodec<GroupMetadataKey> = { read: readGroupMetadataKey, size: sizeGroupMetadataKey, write: writeGroupMetadataKey, maxVersion: 2 };
const offsetCommitValue: DataCodec<OffsetCommitValue> = { read: readOffsetCommitValue, size: sizeOffsetCommitValue, write: writeOffsetCommitValue, maxVersion: 4 };
const groupMetadataValue: DataCodec<GroupMetadataValue> = { read: readGroupMetadataValue, size: sizeGroupMetadataValue, write: writeGroupMetadataValue, maxVersion: 4 };

/** The key versions Kafka writes today. */
export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;

export type OffsetsTopicKey =
  | { type: 'offset-commit'; version: number; key: OffsetCommitKey }
  | { type: 'group-metadata'; version: number; key: GroupMetadataKey }
  /** A record type this version does not know (e.g. KIP-848's consumer-group records). */
  | { type: 'other'; version: number };

export function encodeOffsetCommitKey(key: OffsetCommitKey, version = OFFSET_COMMIT_KEY_VERSION): Buffer {
  return encodeVersioned(offsetCommitKey, key, version);
}

export function encodeGroupMetadataKey(key: GroupMetadataKey): Buffer {
  return encodeVersioned(groupMetadataKey, key, GROUP_METADATA_KEY_VERSION);
}

/** Decodes a `__consumer_offsets` record key, telling the record type by the key version. */
export function decodeOffsetsTopicKey(data: Buffer): OffsetsTopicKey {
  const version = new Reader(data).int16();
  if (version === 0 || version === 1) return { type: 'offset-commit', version, key: decodeVersioned(offsetCommitKey, data).value };
  if (version === 2) return { type: 'group-metadata', version, key: decodeVersioned(groupMetadataKey, data).value };
  if (version < 0) throw new ProtocolError('invalid', `negative __consumer_offsets key version ${version}`);
  return { type: 'other', version };
}

/**
 * Kafka writes version 3, or version 1 when the commit carries its own expiry time (the
 * retention time of OffsetCommit v2–v4); only version 1 has that field.
 */
export function encodeOffsetCommitValue(value: OffsetCommitValue, version = value.expireTimestamp !== undefined && value.expireTimestamp >= 0n ? 1 : 3): Buffer {
  return encodeVersioned(offsetCommitValue, value, version);
}

export function decodeOffsetCommitValue(data: Buffer): { version: number; value: OffsetCommitValue } {
  return decodeVersioned(offsetCommitValue, data);
}

/** Kafka writes version 3 (4 only once every broker of a cluster understands it). */
export function encodeGroupMetadataValue(value: GroupMetadataValue, version = 3): Buffer {
  return encodeVersioned(groupMetadataValue, value, version);
}

export function decodeGroupMetadataValue(data: Buffer): { version: number; value: GroupMetadataValue } {
  return decodeVersioned(groupMetadataValue, data);
}
