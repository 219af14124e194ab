/** Limits and newer-version paths: message.max.bytes, Fetch by topic id (v13+), many idle connections. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { ApiKey, ErrorCode, buildRecordBatch, readRecordBatch } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

test('a batch above message.max.bytes is refused with MESSAGE_TOO_LARGE; a dynamic raise lets it in', async (t) => {
  const tb = await startTestBroker({ 'message.max.bytes': 10_000 });
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'big', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const produce = async () => {
    const records = buildRecordBatch([{ key: null, value: Buffer.alloc(20_000, 1) }]);
    const r = await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'big', partitionData: [{ index: 0, records }] }] });
    return r.responses[0].partitionResponses[0];
  };
  assert.equal((await produce()).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  const altered = await c.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'message.max.bytes', configOperation: 0, value: '100000' }] }], validateOnly: false });
  assert.equal(altered.responses[0].errorCode, ErrorCode.NONE);
  assert.equal((await produce()).errorCode, ErrorCode.NONE);
});

test('Fetch v13+ addresses topics by id; an unknown id is UNKNOWN_TOPIC_ID', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const created = await c.send(ApiKey.CreateTopics, 7, { topics: [{ name: 'ids', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const topicId = created.topics[0].topicId!;
  const records = buildRecordBatch([{ key: null, value: Buffer.from('by-id') }]);
  await c.send(ApiKey.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'ids', partitionData: [{ index: 0, records }] }] });
  const fetch = (id: string) =>
    c.send(ApiKey.Fetch, 17, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
      topics: [{ topicId: id, partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
  const found = await fetch(topicId);
  assert.equal(found.responses[0].topicId, topicId);
  assert.equal(readRecordBatch(found.responses[0].partitions[0].records!, 0).records[0].value!.toString(), 'by-id');
  const missing = await fetch('AAAAAAAAAAAAAAAAAAAAAQ');
  assert.equal(missing.responses[0].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  const session = await c.send(ApiKey.Fetch, 17, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, sessionId: 42, sessionEpoch: 1, topics: [], forgottenTopicsData: [], rackId: '' });
  assert.equal(session.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
});

/** Idle connections to open: 2,000, fewer when the open-file limit could not hold both ends of them. */
function idleConnectionCount(): number {
  const soft = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  const limit = soft === 'unlimited' ? Infinity : Number(soft);
  return Math.max(100, Math.min(2000, Math.floor((limit - 300) / 2 / 100) * 100));
}

test('thousands of idle connections do not stop the broker from serving', { timeout: 120_000 }, async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const idle: Socket[] = [];
  t.after(() => idle.forEach((s) => s.destroy()));
  const count = idleConnectionCount();
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: 100 }, () => connect(tb.broker.port, '127.0.0.1'));
    await Promise.all(batch.map((s) => once(s, 'connect')));
    idle.push(...batch);
  }
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const started = performance.now();
  const r = await c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.ok(performance.now() - started < 10_000, "a request is still answered with thousands of idle connections open");
});
