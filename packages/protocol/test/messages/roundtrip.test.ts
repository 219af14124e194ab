import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allDeclarations } from '../../src/messages/declarations/all.js';
import { buildModel } from '../../src/messages/codegen/model.js';
import {
  apiInfo,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
  DETACH_MIN,
  requestHeaderVersion,
  encodeConsumerProtocolAssignment,
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  decodeConsumerProtocolSubscription,
  type RequestBodies,
  type ResponseBodies,
  type RequestHeader,
} from '../../src/messages/index.js';
import type { TaggedField } from '../../src/messages/runtime.js';
import { makeRng, ValueGenerator } from './random-values.js';

const SAMPLES = 4;
const models = new Map(allDeclarations.map((d) => [d.name, buildModel(d)]));

function apiModels(key: number) {
  const req = allDeclarations.find((d) => d.apiKey === key && d.kind === 'request');
  const res = allDeclarations.find((d) => d.apiKey === key && d.kind === 'response');
  assert.ok(req && res, `API ${key} has a request and a response declaration`);
  return { req: buildModel(req), res: buildModel(res) };
}

test('every API key has request and response codecs for every valid version', () => {
  assert.equal(apiInfo.size, 72);
  for (const [key, info] of apiInfo) {
    const { req, res } = apiModels(key);
    assert.equal(req.valid.min, info.minVersion);
    assert.equal(req.valid.max, info.maxVersion);
    assert.equal(res.valid.max, info.maxVersion, `${info.name} response versions match the request's`);
  }
});

test('requests round-trip for every API × version (decode equals value, re-encode is byte-exact)', () => {
  const gen = new ValueGenerator(makeRng(0x5eed));
  let cases = 0;
  for (const [key, info] of apiInfo) {
    const { req } = apiModels(key);
    for (let v = info.minVersion; v <= info.maxVersion; v++) {
      for (let i = 0; i < SAMPLES; i++) {
        const body = gen.message(req, v) as unknown as RequestBodies[keyof RequestBodies];
        const header: RequestHeader = { apiKey: key, apiVersion: v, correlationId: gen.int(2 ** 31), clientId: i === 0 ? null : `client-${i}` };
        if (requestHeaderVersion(key, v) === 2 && i === 2) header.unknownTaggedFields = [{ tag: 3, data: Buffer.from([1, 2]) }];
        const frame = encodeRequest(header as RequestHeader & { apiKey: keyof RequestBodies }, body);
        assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
        const decoded = decodeRequest(frame.subarray(4));
        assert.deepEqual(decoded.header, header, `${info.name} v${v} header`);
        assert.deepEqual(decoded.body, body, `${info.name} v${v} request body`);
        const again = encodeRequest(decoded.header, decoded.body);
        assert.ok(again.equals(frame), `${info.name} v${v} request re-encodes byte-exact`);
        cases++;
      }
    }
  }
  assert.ok(cases > 1000);
});

test('responses round-trip for every API × version', () => {
  const gen = new ValueGenerator(makeRng(0xbeef));
  for (const [key, info] of apiInfo) {
    const { res } = apiModels(key);
    const k = key as keyof ResponseBodies;
    for (let v = info.minVersion; v <= info.maxVersion; v++) {
      for (let i = 0; i < SAMPLES; i++) {
        const body = gen.message(res, v) as unknown as ResponseBodies[typeof k];
        const correlationId = gen.int(2 ** 31);
        const frame = encodeResponse(k, v, correlationId, body);
        assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
        const decoded = decodeResponse(k, v, frame.subarray(4));
        assert.equal(decoded.correlationId, correlationId);
        assert.deepEqual(decoded.body, body, `${info.name} v${v} response body`);
        assert.ok(encodeResponse(k, v, correlationId, decoded.body).equals(frame), `${info.name} v${v} response re-encodes byte-exact`);
      }
    }
  }
});

test('fields a version cannot carry are dropped on encode and decode as their defaults', () => {
  // Metadata v0 has no allowAutoTopicCreation (default true) and no tagged fields.
  const frame = encodeRequest(
    { apiKey: 3, apiVersion: 0, correlationId: 1, clientId: 'c' },
    { topics: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }], allowAutoTopicCreation: false, unknownTaggedFields: [{ tag: 9, data: Buffer.from([1]) }] },
  );
  const { body } = decodeRequest(frame.subarray(4));
  assert.deepEqual(body, {
    topics: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
});

test('consumer protocol subscription and assignment round-trip with their version prefix', () => {
  const gen = new ValueGenerator(makeRng(42));
  const sub = models.get('ConsumerProtocolSubscription');
  const asg = models.get('ConsumerProtocolAssignment');
  assert.ok(sub && asg);
  for (let v = sub.valid.min; v <= sub.valid.max; v++) {
    for (let i = 0; i < 20; i++) {
      const value = gen.message(sub, v) as never;
      const bytes = encodeConsumerProtocolSubscription(value, v);
      assert.equal(bytes.readInt16BE(0), v);
      assert.deepEqual(decodeConsumerProtocolSubscription(bytes), { version: v, value });
      const a = gen.message(asg, v) as never;
      assert.deepEqual(decodeConsumerProtocolAssignment(encodeConsumerProtocolAssignment(a, v)), { version: v, value: a });
    }
  }
  // A newer version than ours is read as our newest (fields are only ever appended).
  const v3 = encodeConsumerProtocolSubscription({ topics: ['a'], userData: null, ownedPartitions: [], generationId: 5, rackId: 'r' }, 3);
  v3.writeInt16BE(9, 0);
  const decoded = decodeConsumerProtocolSubscription(Buffer.concat([v3, Buffer.from([0xff])]));
  assert.equal(decoded.version, 9);
  assert.equal(decoded.value.generationId, 5);
});

test('unknown tagged fields are kept in order and re-emitted between known tags', () => {
  // Fetch response v16 partition: known tags 0..2; an unknown tag 1000 and the top-level tag 0 (nodeEndpoints).
  const unknown: TaggedField[] = [{ tag: 1000, data: Buffer.from('hi') }];
  const body = {
    responses: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10n, records: null, currentLeader: { leaderId: 1, leaderEpoch: 2 }, unknownTaggedFields: unknown }] }],
    nodeEndpoints: [{ nodeId: 1, host: 'h', port: 1, rack: null }],
  };
  const frame = encodeResponse(1, 16, 9, body);
  const { body: decoded } = decodeResponse(1, 16, frame.subarray(4));
  const p = decoded.responses[0].partitions[0];
  assert.deepEqual(p.currentLeader, { leaderId: 1, leaderEpoch: 2 });
  assert.deepEqual(p.unknownTaggedFields, unknown);
  assert.deepEqual(decoded.nodeEndpoints, body.nodeEndpoints);
});

test('gather encoders produce the same bytes, passing large records by reference', () => {
  const big = Buffer.alloc(DETACH_MIN * 3, 7);
  const small = Buffer.alloc(DETACH_MIN - 1, 9);
  const body = {
    responses: [{ topic: 't', partitions: [
      { partitionIndex: 0, errorCode: 0, highWatermark: 1n, records: big },
      { partitionIndex: 1, errorCode: 0, highWatermark: 1n, records: small },
      { partitionIndex: 2, errorCode: 0, highWatermark: 1n, records: big },
    ] }],
  };
  for (const v of [4, 12]) {
    const chunks = encodeResponseChunks(1, v, 3, body);
    assert.deepEqual(Buffer.concat(chunks), encodeResponse(1, v, 3, body));
    assert.equal(chunks.filter((c) => c === big).length, 2, 'large records are not copied');
    assert.equal(chunks.length, v >= 12 ? 5 : 4, 'segments around the two detached buffers (v4 ends with the last records)');
  }
  const produce = { acks: -1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records: big }] }] };
  const header = { apiKey: 0 as const, apiVersion: 9, correlationId: 1, clientId: 'c' };
  const chunks = encodeRequestChunks(header, produce);
  assert.deepEqual(Buffer.concat(chunks), encodeRequest(header, produce));
  assert.ok(chunks.includes(big));
});
