// Golden frames worked out by hand from the protocol guide (not produced by this code), so the
// generator is checked against the spec and not only against itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/messages/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('ApiVersions v0 request: header v1 (int16 client id), empty body', () => {
  const expected = hex('0000000c 0012 0000 00000001 0002 6162');
  const frame = encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'ab' }, {});
  assert.deepEqual(frame, expected);
  assert.deepEqual(decodeRequest(expected.subarray(4)).header, { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'ab' });
});

test('Metadata v1 request: null client id, int32 array count, int16 strings', () => {
  const expected = hex('00000013 0003 0001 00000007 ffff 00000001 0003 666f6f');
  const frame = encodeRequest({ apiKey: 3, apiVersion: 1, correlationId: 7, clientId: null }, { topics: [{ name: 'foo' }] });
  assert.deepEqual(frame, expected);
  const req = decodeRequest(expected.subarray(4));
  assert.equal(req.header.clientId, null);
  assert.equal(req.apiKey, 3);
  if (req.apiKey === 3) assert.deepEqual(req.body.topics?.map((t) => t.name), ['foo']);
  // Null topics (all topics) in v1 is an int32 -1.
  const all = encodeRequest({ apiKey: 3, apiVersion: 1, correlationId: 7, clientId: null }, { topics: null });
  assert.deepEqual(all, hex('0000000e 0003 0001 00000007 ffff ffffffff'));
});

test('ApiVersions v3 request: header v2 keeps a non-compact client id, then tagged fields; compact body strings', () => {
  const expected = hex('00000011 0012 0003 00000002 0001 63 00 02 6b 02 31 00');
  const frame = encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 2, clientId: 'c' }, { clientSoftwareName: 'k', clientSoftwareVersion: '1' });
  assert.deepEqual(frame, expected);
  assert.deepEqual(decodeRequest(expected.subarray(4)).body, { clientSoftwareName: 'k', clientSoftwareVersion: '1' });
});

test('ApiVersions v3 response: header v0 despite a flexible body; a known tagged field (tag 1, int64)', () => {
  const expected = hex('0000001d 00000001 0000 02 0012 0000 0004 00 00000000 01 01 08 0000000000000005');
  const body = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0, finalizedFeaturesEpoch: 5n };
  assert.deepEqual(encodeResponse(18, 3, 1, body), expected);
  const decoded = decodeResponse(18, 3, expected.subarray(4));
  assert.equal(decoded.correlationId, 1);
  assert.equal(decoded.body.finalizedFeaturesEpoch, 5n);
  assert.deepEqual(decoded.body.supportedFeatures, []);
  assert.equal(decoded.body.zkMigrationReady, false);
});

test('Metadata v9 response: header v1 (tagged-field byte), compact arrays, null compact string', () => {
  const expected = hex('00000015 00000005 00 00000000 01 00 ffffffff 01 80000000 00');
  const body = { throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: -1, topics: [], clusterAuthorizedOperations: -2147483648 };
  assert.deepEqual(encodeResponse(3, 9, 5, body), expected);
  assert.deepEqual(decodeResponse(3, 9, expected.subarray(4)).body, body);
});

test('an unknown tagged field in a request body is skipped by size and kept verbatim', () => {
  // ApiVersions v3 request body with tag 7 (3 bytes) that we do not know.
  const frame = hex('00000016 0012 0003 00000002 0001 63 00 02 6b 02 31 01 07 03 aabbcc');
  const { body } = decodeRequest(frame.subarray(4));
  assert.deepEqual(body, { clientSoftwareName: 'k', clientSoftwareVersion: '1', unknownTaggedFields: [{ tag: 7, data: hex('aabbcc') }] });
  assert.deepEqual(encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 2, clientId: 'c' }, body), frame);
});

test('UUIDs use Kafka’s display form (URL-safe base64, no padding) and reject malformed strings', () => {
  const bytes = hex('00112233445566778899aabbccddeeff');
  const display = bytes.toString('base64url');
  const body = { responses: [{ topicId: display, partitions: [] }] };
  const frame = encodeResponse(1, 13, 1, body);
  assert.ok(frame.includes(bytes), 'the 16 UUID bytes are on the wire');
  assert.equal(decodeResponse(1, 13, frame.subarray(4)).body.responses[0].topicId, display);
  for (const bad of ['', 'AAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAAB', 'AAAAAAAAAAAAAAAAAAAA+A', 'ÁAAAAAAAAAAAAAAAAAAAAA']) {
    assert.throws(() => encodeResponse(1, 13, 1, { responses: [{ topicId: bad, partitions: [] }] }), TypeError, bad);
  }
  // Every byte value survives the round trip through the hand-written base64url codec.
  for (let i = 0; i < 256; i++) {
    const u = Buffer.alloc(16, i);
    u[15] = 255 - i;
    const f = encodeResponse(1, 13, 1, { responses: [{ topicId: u.toString('base64url'), partitions: [] }] });
    assert.equal(decodeResponse(1, 13, f.subarray(4)).body.responses[0].topicId, u.toString('base64url'));
  }
});
