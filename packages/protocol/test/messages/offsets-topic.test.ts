import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from '../../src/messages/offsets-topic.js';
import { ProtocolError } from '../../src/protocol-error.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('offset commit key: version 1, group, topic, partition (bytes by hand)', () => {
  const bytes = encodeOffsetCommitKey({ group: 'g', topic: 'tp', partition: 3 });
  assert.deepEqual(bytes, hex('0001 0001 67 0002 7470 00000003'));
  assert.deepEqual(decodeOffsetsTopicKey(bytes), { type: 'offset-commit', version: 1, key: { group: 'g', topic: 'tp', partition: 3 } });
  // Version 0 has the same layout.
  assert.deepEqual(decodeOffsetsTopicKey(hex('0000 0001 67 0002 7470 00000003')).type, 'offset-commit');
});

test('group metadata key: version 2, group; unknown record types are reported, not thrown', () => {
  const bytes = encodeGroupMetadataKey({ group: 'grp' });
  assert.deepEqual(bytes, hex('0002 0003 677270'));
  assert.deepEqual(decodeOffsetsTopicKey(bytes), { type: 'group-metadata', version: 2, key: { group: 'grp' } });
  assert.deepEqual(decodeOffsetsTopicKey(hex('0003 0001 67')), { type: 'other', version: 3 });
  assert.throws(() => decodeOffsetsTopicKey(hex('00')), ProtocolError);
});

test('offset commit value: v3 by default, v1 when it carries an expiry; v4 flexible decodes', () => {
  const v3 = encodeOffsetCommitValue({ offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000n });
  assert.deepEqual(v3, hex('0003 000000000000002a 00000007 0001 6d 00000000000003e8'));
  assert.deepEqual(decodeOffsetCommitValue(v3), {
    version: 3,
    value: { offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000n, expireTimestamp: -1n },
  });
  const v1 = encodeOffsetCommitValue({ offset: 42n, metadata: '', commitTimestamp: 1000n, expireTimestamp: 2000n });
  assert.deepEqual(v1, hex('0001 000000000000002a 0000 00000000000003e8 00000000000007d0'));
  assert.equal(decodeOffsetCommitValue(v1).value.leaderEpoch, -1);
  // Version 4: compact string (length+1) and an empty tagged-field section.
  const v4 = hex('0004 000000000000002a 00000007 02 6d 00000000000003e8 00');
  assert.deepEqual(decodeOffsetCommitValue(v4).value, { offset: 42n, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000n, expireTimestamp: -1n });
  assert.deepEqual(encodeOffsetCommitValue(decodeOffsetCommitValue(v4).value, 4), v4);
});

test('group metadata value v3 round-trips with members; v0 lacks the newer fields', () => {
  const value = {
    protocolType: 'consumer',
    generation: 5,
    protocol: 'range',
    leader: 'm1',
    currentStateTimestamp: 123n,
    members: [
      {
        memberId: 'm1',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: '/127.0.0.1',
        rebalanceTimeout: 30000,
        sessionTimeout: 10000,
        subscription: Buffer.from([0, 1]),
        assignment: Buffer.alloc(0),
      },
    ],
  };
  const bytes = encodeGroupMetadataValue(value);
  assert.equal(bytes.readInt16BE(0), 3);
  assert.deepEqual(decodeGroupMetadataValue(bytes), { version: 3, value });
  const v0 = encodeGroupMetadataValue(value, 0);
  const back = decodeGroupMetadataValue(v0).value;
  assert.equal(back.currentStateTimestamp, -1n);
  assert.equal(back.members[0].groupInstanceId, null);
  assert.equal(back.members[0].sessionTimeout, 10000);
  assert.ok(v0.length < bytes.length);
  assert.throws(() => decodeGroupMetadataValue(bytes.subarray(0, bytes.length - 1)), ProtocolError);
});
