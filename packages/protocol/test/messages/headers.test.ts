import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol-error.js';
import {
  ApiKey,
  apiInfo,
  decodeRequest,
  decodeRequestHeader,
  encodeRequest,
  encodeResponse,
  peekRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/messages/index.js';

const isReason = (reason: string) => (e: unknown) => e instanceof ProtocolError && e.reason === reason;

test('header versions follow each API’s flexible versions; ApiVersions responses always use v0', () => {
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(responseHeaderVersion(ApiKey.Produce, 8), 0);
  assert.equal(responseHeaderVersion(ApiKey.Produce, 9), 1);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  for (let v = 0; v <= 4; v++) assert.equal(responseHeaderVersion(ApiKey.ApiVersions, v), 0);
  assert.equal(requestHeaderVersion(7, 0), 0, 'ControlledShutdown v0 is the one user of request header v0');
  for (const info of apiInfo.values()) {
    for (let v = info.minVersion; v <= info.maxVersion; v++) {
      const flexible = info.flexibleMinVersion !== null && v >= info.flexibleMinVersion;
      assert.equal(requestHeaderVersion(info.key, v), flexible ? 2 : 1);
      if (info.key !== ApiKey.ApiVersions) assert.equal(responseHeaderVersion(info.key, v), flexible ? 1 : 0);
    }
  }
});

test('request header v2 carries tagged fields after a non-compact client id', () => {
  const frame = encodeRequest(
    { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 3, clientId: 'kcat', unknownTaggedFields: [{ tag: 0, data: Buffer.from([9]) }] },
    { topics: null },
  );
  // size, key, version, correlation id, int16 length + "kcat", 1 tagged field: tag 0, size 1, 0x09
  assert.equal(frame.subarray(4, 22).toString('hex'), '0003000c000000030004' + Buffer.from('kcat').toString('hex') + '01000109');
  const { header, bodyOffset } = decodeRequestHeader(frame.subarray(4));
  assert.equal(bodyOffset, 18);
  assert.deepEqual(header.unknownTaggedFields, [{ tag: 0, data: Buffer.from([9]) }]);
});

test('response header v1 adds an empty tagged-field section; v0 is the correlation id alone', () => {
  const v1 = encodeResponse(ApiKey.Heartbeat, 4, 0x01020304, { errorCode: 0 });
  assert.equal(v1.toString('hex'), '0000000c' + '01020304' + '00' + '00000000' + '0000' + '00');
  const v0 = encodeResponse(ApiKey.Heartbeat, 0, 0x01020304, { errorCode: 0 });
  assert.equal(v0.toString('hex'), '00000006' + '01020304' + '0000');
});

test('unknown API keys and versions are rejected as unsupported; peek still reads the header', () => {
  const unknownKey = Buffer.from('00630000000000070003616263', 'hex');
  assert.throws(() => decodeRequest(unknownKey), isReason('unsupported'));
  assert.deepEqual(peekRequestHeader(unknownKey), { apiKey: 99, apiVersion: 0, correlationId: 7 });
  // ApiVersions v99: a client newer than us; the broker must still answer with UNSUPPORTED_VERSION.
  const tooNew = Buffer.from('00120063000000080003616263000000', 'hex');
  assert.throws(() => decodeRequestHeader(tooNew), isReason('unsupported'));
  assert.deepEqual(peekRequestHeader(tooNew), { apiKey: 18, apiVersion: 99, correlationId: 8 });
  assert.throws(() => peekRequestHeader(Buffer.alloc(7)), isReason('truncated'));
  assert.throws(() => decodeRequest(Buffer.from('0012000000000007000561', 'hex')), isReason('invalid'));
  assert.throws(() => encodeResponse(ApiKey.Fetch, 99, 1, { responses: [] }), isReason('unsupported'));
});

test('trailing bytes after a body are ignored, as Kafka’s parsers ignore them', () => {
  const frame = encodeRequest({ apiKey: ApiKey.Heartbeat, apiVersion: 0, correlationId: 1, clientId: 'c' }, { groupId: 'g', generationId: 1, memberId: 'm' });
  const padded = Buffer.concat([frame.subarray(4), Buffer.from([1, 2, 3])]);
  const req = decodeRequest(padded);
  assert.equal(req.apiKey, ApiKey.Heartbeat);
  if (req.apiKey === ApiKey.Heartbeat) assert.equal(req.body.memberId, 'm');
});
