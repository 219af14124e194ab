/** __consumer_offsets record codecs (Kafka's key/value layouts) and the group → partition mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  partitionForGroup,
} from '../../src/groups/records.js';

/** Java's String.hashCode computed the long way (sum of c·31^(n-1-i), wrapped to int32). */
function slowJavaHash(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h += BigInt(s.charCodeAt(i)) * 31n ** BigInt(s.length - 1 - i);
  return Number(BigInt.asIntN(32, h));
}

test('javaStringHashCode matches Java, and partitionForGroup follows Utils.abs(hash) % n', () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('hello'), 99162322);
  // The classic string whose hash is Integer.MIN_VALUE: Utils.abs maps it to 0.
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  assert.equal(partitionForGroup('polygenelubricants', 50), 0);
  for (const s of ['my-group', 'console-consumer-12345', 'ünïcødé-grüppe', 'a'.repeat(300), '𝄞 clef']) {
    assert.equal(javaStringHashCode(s), slowJavaHash(s), s);
    const h = slowJavaHash(s);
    assert.equal(partitionForGroup(s, 50), Math.abs(h) % 50);
  }
  // Both signs are covered, so the abs() path is exercised.
  assert.ok(['my-group', 'console-consumer-12345', 'ünïcødé-grüppe', 'a'.repeat(300), '𝄞 clef'].some((s) => javaStringHashCode(s) < 0));
});

test('keys: OffsetCommitKey v1 and GroupMetadataKey v2 byte layouts; older key version 0 decodes too', () => {
  const key = encodeOffsetCommitKey('g', 't', 3);
  assert.deepEqual([...key], [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 3]);
  assert.deepEqual(decodeCoordinatorKey(key), { kind: 'offset', group: 'g', topic: 't', partition: 3 });
  const v0 = Buffer.from(key);
  v0.writeInt16BE(0, 0);
  assert.deepEqual(decodeCoordinatorKey(v0), { kind: 'offset', group: 'g', topic: 't', partition: 3 });
  const groupKey = encodeGroupMetadataKey('grp');
  assert.deepEqual([...groupKey], [0, 2, 0, 3, 0x67, 0x72, 0x70]);
  assert.deepEqual(decodeCoordinatorKey(groupKey), { kind: 'group', group: 'grp' });
  // KIP-848 record types (key versions 3+) are not ours: skipped, not misread.
  assert.equal(decodeCoordinatorKey(Buffer.from([0, 5, 0, 1, 0x67])), null);
});

test('OffsetCommitValue: v3 layout written, v1 when an expiry is given; v0, v2 and flexible v4 decode', () => {
  const v3 = encodeOffsetCommitValue({ offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000n, expireTimestamp: -1n });
  const expected = Buffer.alloc(2 + 8 + 4 + 3 + 8);
  expected.writeInt16BE(3, 0);
  expected.writeBigInt64BE(42n, 2);
  expected.writeInt32BE(7, 10);
  expected.writeInt16BE(1, 14);
  expected.write('m', 16);
  expected.writeBigInt64BE(1000n, 17);
  assert.deepEqual(v3, expected);
  assert.deepEqual(decodeOffsetCommitValue(v3), { offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000n, expireTimestamp: -1n });

  const v1 = encodeOffsetCommitValue({ offset: 5n, leaderEpoch: 3, metadata: '', commitTimestamp: 10n, expireTimestamp: 99n });
  assert.equal(v1.readInt16BE(0), 1);
  assert.deepEqual(decodeOffsetCommitValue(v1), { offset: 5n, leaderEpoch: -1, metadata: '', commitTimestamp: 10n, expireTimestamp: 99n });

  const v0 = Buffer.concat([Buffer.from([0, 0]), Buffer.from('000000000000000b', 'hex'), Buffer.from([0, 2, 0x68, 0x69]), Buffer.from('0000000000000064', 'hex')]);
  assert.deepEqual(decodeOffsetCommitValue(v0), { offset: 11n, leaderEpoch: -1, metadata: 'hi', commitTimestamp: 100n, expireTimestamp: -1n });
  const v2 = Buffer.from(v0);
  v2.writeInt16BE(2, 0);
  assert.equal(decodeOffsetCommitValue(v2).offset, 11n);

  // v4: compact string (length+1 varint) and an empty tagged-field section.
  const v4 = Buffer.concat([Buffer.from([0, 4]), Buffer.from('000000000000000c', 'hex'), Buffer.from('00000002', 'hex'), Buffer.from([3, 0x6f, 0x6b]), Buffer.from('00000000000000c8', 'hex'), Buffer.from([0])]);
  assert.deepEqual(decodeOffsetCommitValue(v4), { offset: 12n, leaderEpoch: 2, metadata: 'ok', commitTimestamp: 200n, expireTimestamp: -1n });
});

test('GroupMetadataValue v3 round-trips members, static ids, subscriptions and assignments', () => {
  const value = {
    protocolType: 'consumer',
    generation: 9,
    protocol: 'range',
    leader: 'm-1',
    currentStateTimestamp: 123456789n,
    members: [
      { memberId: 'm-1', groupInstanceId: null, clientId: 'c1', clientHost: '/127.0.0.1', rebalanceTimeout: 60000, sessionTimeout: 10000, subscription: Buffer.from([1, 2]), assignment: Buffer.from([3]) },
      { memberId: 'm-2', groupInstanceId: 'inst-2', clientId: 'c2', clientHost: '/::1', rebalanceTimeout: 30000, sessionTimeout: 6000, subscription: Buffer.alloc(0), assignment: Buffer.alloc(0) },
    ],
  };
  const bytes = encodeGroupMetadataValue(value);
  assert.equal(bytes.readInt16BE(0), 3);
  assert.deepEqual(decodeGroupMetadataValue(bytes), value);
  const empty = encodeGroupMetadataValue({ protocolType: '', generation: 1, protocol: null, leader: null, currentStateTimestamp: 5n, members: [] });
  assert.deepEqual(decodeGroupMetadataValue(empty), { protocolType: '', generation: 1, protocol: null, leader: null, currentStateTimestamp: 5n, members: [] });
});
