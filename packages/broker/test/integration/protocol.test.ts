/**
 * The broker driven with raw protocol requests: version negotiation, topic lifecycle, produce,
 * fetch (including long poll), list offsets and every bad input the issue names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode, buildRecordBatch, readRecordBatch, encodeRequest, decodeResponse } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

const api = ApiKey;

test('ApiVersions lists our ranges, and an unsupported version gets UNSUPPORTED_VERSION in v0', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const client = await RawClient.connect(tb.broker.port);
  t.after(() => client.close());
  const ok = await client.send(api.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
  assert.equal(ok.errorCode, ErrorCode.NONE);
  const ranges = new Map(ok.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  assert.deepEqual(ranges.get(api.Produce), [3, 11]);
  assert.deepEqual(ranges.get(api.Fetch), [4, 17]);
  assert.deepEqual(ranges.get(api.Metadata), [0, 12]);
  assert.deepEqual(ranges.get(api.ApiVersions), [0, 4]);

  // ApiVersions v9 (from a future client): the header is v2 but we answer in v0.
  const future = encodeRequest({ apiKey: api.ApiVersions, apiVersion: 3, correlationId: 77, clientId: 'future' }, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  future.writeInt16BE(9, 6);
  const frame = await client.sendRaw(future, 77);
  const answer = decodeResponse(api.ApiVersions, 0, frame).body;
  assert.equal(answer.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(answer.apiKeys.some((k) => k.apiKey === api.Fetch && k.maxVersion === 17));
});

test('bad input closes only the offending connection: oversized frame, garbage, unknown API key, unsupported version', async (t) => {
  const tb = await startTestBroker({ 'socket.request.max.bytes': 1024 * 1024 });
  t.after(() => tb.dispose());
  const healthy = await RawClient.connect(tb.broker.port);
  t.after(() => healthy.close());

  const oversized = await RawClient.connect(tb.broker.port);
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(200 * 1024 * 1024, 0);
  oversized.write(prefix);
  await oversized.closed;

  const garbage = await RawClient.connect(tb.broker.port);
  const junk = Buffer.alloc(64, 0xff);
  junk.writeInt32BE(60, 0);
  junk.writeInt16BE(api.Metadata, 4);
  junk.writeInt16BE(12, 6);
  garbage.write(junk);
  await garbage.closed;

  const unknownKey = await RawClient.connect(tb.broker.port);
  const unknown = encodeRequest({ apiKey: api.ApiVersions, apiVersion: 0, correlationId: 1, clientId: 'x' }, {});
  unknown.writeInt16BE(999, 4);
  unknownKey.write(unknown);
  await unknownKey.closed;

  const oldProduce = await RawClient.connect(tb.broker.port);
  await assert.rejects(oldProduce.send(api.Produce, 2, { acks: 1, timeoutMs: 1000, topicData: [] }), /connection closed/);

  const shortFrame = await RawClient.connect(tb.broker.port);
  shortFrame.write(Buffer.from([0, 0, 0, 2, 0, 1]));
  await shortFrame.closed;

  const metadata = await healthy.send(api.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(metadata.brokers[0].nodeId, 1);
  assert.equal(metadata.controllerId, 1);
});

test('topic lifecycle: create (with validation), describe, add partitions, delete, re-create empty', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const create = (name: string, numPartitions = 2, configs: { name: string; value: string }[] = [], validateOnly = false) =>
    c.send(api.CreateTopics, 7, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }], timeoutMs: 5000, validateOnly });

  const created = await create('orders', 3, [{ name: 'retention.ms', value: '3600000' }]);
  assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(created.topics[0].numPartitions, 3);
  assert.match(created.topics[0].topicId!, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(created.topics[0].configs!.find((e) => e.name === 'retention.ms')?.value, '3600000');

  assert.equal((await create('orders')).topics[0].errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal((await create('bad name')).topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal((await create('x'.repeat(250))).topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal((await create('..')).topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal((await create('a.b')).topics[0].errorCode, ErrorCode.NONE);
  const collision = await create('a_b');
  assert.equal(collision.topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.match(collision.topics[0].errorMessage!, /collides/);
  assert.equal((await create('zero', 0)).topics[0].errorCode, ErrorCode.INVALID_PARTITIONS);
  const badConfig = await create('cfg', 1, [{ name: 'retention.ms', value: 'soon' }]);
  assert.equal(badConfig.topics[0].errorCode, ErrorCode.INVALID_CONFIG);
  assert.equal((await create('cfg2', 1, [{ name: 'no.such.config', value: '1' }])).topics[0].errorCode, ErrorCode.INVALID_CONFIG);
  const rf = await c.send(api.CreateTopics, 7, { topics: [{ name: 'rf3', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(rf.topics[0].errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  const dry = await create('dry', 1, [], true);
  assert.equal(dry.topics[0].errorCode, ErrorCode.NONE);
  const explicit = await c.send(api.CreateTopics, 7, {
    topics: [{ name: 'explicit', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1] }], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(explicit.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(explicit.topics[0].numPartitions, 2);

  const md = await c.send(api.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.deepEqual(md.topics.map((x) => x.name).sort(), ['a.b', 'explicit', 'orders']);

  const more = await c.send(api.CreatePartitions, 3, { topics: [{ name: 'orders', count: 5, assignments: null }], timeoutMs: 5000, validateOnly: false });
  assert.equal(more.results[0].errorCode, ErrorCode.NONE);
  const fewer = await c.send(api.CreatePartitions, 3, { topics: [{ name: 'orders', count: 2, assignments: null }], timeoutMs: 5000, validateOnly: false });
  assert.equal(fewer.results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
  const md2 = await c.send(api.Metadata, 12, { topics: [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(md2.topics[0].partitions.length, 5);

  await produce(c, 'orders', 0, ['one', 'two']);
  const deleted = await c.send(api.DeleteTopics, 6, { topics: [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 5000 });
  assert.equal(deleted.responses[0].errorCode, ErrorCode.NONE);
  const again = await c.send(api.DeleteTopics, 6, { topics: [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 5000 });
  assert.equal(again.responses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await create('orders', 1)).topics[0].errorCode, ErrorCode.NONE);
  const fetched = await fetch(c, 'orders', 0, 0n, 0);
  assert.equal(fetched.highWatermark, 0n);
  assert.equal(fetched.records?.length ?? 0, 0);
});

async function produce(c: RawClient, topic: string, partition: number, values: string[], acks = 1) {
  const records = buildRecordBatch(values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: BigInt(Date.now()) })));
  const response = await c.send(api.Produce, 11, { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  return response.responses[0].partitionResponses[0];
}

async function fetch(c: RawClient, topic: string, partition: number, offset: bigint, maxWaitMs: number, minBytes = 1) {
  const response = await c.send(api.Fetch, 12, {
    replicaId: -1,
    maxWaitMs,
    minBytes,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  return response.responses[0].partitions[0];
}

test('produce, fetch and long poll; acks=0 gets no response but is appended', async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 1 });
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  // Metadata auto-creates.
  const md = await c.send(api.Metadata, 12, { topics: [{ name: 'events', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  assert.equal(md.topics[0].errorCode, ErrorCode.NONE);
  assert.equal(md.topics[0].partitions.length, 1);

  const first = await produce(c, 'events', 0, ['a', 'b', 'c']);
  assert.equal(first.errorCode, ErrorCode.NONE);
  assert.equal(first.baseOffset, 0n);
  const second = await produce(c, 'events', 0, ['d']);
  assert.equal(second.baseOffset, 3n);
  assert.equal((await produce(c, 'nope', 0, ['x'])).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await produce(c, 'events', 7, ['x'])).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const internal = await c.send(api.Metadata, 12, { topics: [{ name: '__consumer_offsets', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  assert.equal(internal.topics[0].isInternal, true);
  assert.equal((await produce(c, '__consumer_offsets', 0, ['forged'])).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);

  const got = await fetch(c, 'events', 0, 1n, 0);
  assert.equal(got.highWatermark, 4n);
  const batch = readRecordBatch(got.records!, 0);
  assert.equal(batch.header.baseOffset, 0n);
  assert.deepEqual(batch.records.map((r) => r.value?.toString()), ['a', 'b', 'c']);

  assert.equal((await fetch(c, 'events', 0, 99n, 0)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

  // Long poll: parked until a produce on another connection lands.
  const started = Date.now();
  const waiting = fetch(c, 'events', 0, 4n, 10_000);
  const other = await RawClient.connect(tb.broker.port);
  t.after(() => other.close());
  await new Promise((r) => setTimeout(r, 100));
  await produce(other, 'events', 0, ['late']);
  const woke = await waiting;
  assert.ok(Date.now() - started < 9_000, 'the long poll answered on append, not at max.wait.ms (10 s)');
  assert.equal(readRecordBatch(woke.records!, 0).records[0].value?.toString(), 'late');

  // Long poll with nothing arriving answers empty at max.wait.ms.
  const t0 = Date.now();
  const empty = await fetch(c, 'events', 0, 5n, 300);
  assert.ok(Date.now() - t0 >= 250);
  assert.equal(empty.records?.length ?? 0, 0);

  // acks=0: nothing comes back, but the next request's answer proves ordering and the append.
  const records = buildRecordBatch([{ key: null, value: Buffer.from('fire-and-forget'), timestamp: BigInt(Date.now()) }]);
  c.write(encodeRequest({ apiKey: api.Produce, apiVersion: 9, correlationId: 5000, clientId: 'x' }, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'events', partitionData: [{ index: 0, records }] }] }));
  const after = await fetch(c, 'events', 0, 5n, 2000);
  assert.equal(readRecordBatch(after.records!, 0).records[0].value?.toString(), 'fire-and-forget');
});

test('ListOffsets: earliest, latest, by timestamp, max timestamp; DeleteRecords moves the start', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(api.CreateTopics, 7, { topics: [{ name: 'ts', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const base = 1_700_000_000_000n;
  for (let i = 0; i < 5; i++) {
    const records = buildRecordBatch([{ key: null, value: Buffer.from(`v${i}`), timestamp: base + BigInt(i) * 1000n }]);
    await c.send(api.Produce, 11, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'ts', partitionData: [{ index: 0, records }] }] });
  }
  const list = async (timestamp: bigint) =>
    (await c.send(api.ListOffsets, 10, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'ts', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }], timeoutMs: 1000 })).topics[0].partitions[0];
  assert.equal((await list(-2n)).offset, 0n);
  assert.equal((await list(-1n)).offset, 5n);
  assert.equal((await list(base + 2500n)).offset, 3n);
  assert.equal((await list(base + 2000n)).offset, 2n);
  const max = await list(-3n);
  assert.equal(max.offset, 4n);
  assert.equal(max.timestamp, base + 4000n);
  assert.equal((await list(base + 99_000n)).offset, -1n);

  const del = await c.send(api.DeleteRecords, 2, { topics: [{ name: 'ts', partitions: [{ partitionIndex: 0, offset: 2n }] }], timeoutMs: 5000 });
  assert.equal(del.topics[0].partitions[0].lowWatermark, 2n);
  assert.equal((await list(-2n)).offset, 2n);
  const beyond = await c.send(api.DeleteRecords, 2, { topics: [{ name: 'ts', partitions: [{ partitionIndex: 0, offset: 50n }] }], timeoutMs: 5000 });
  assert.equal(beyond.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

  const epochs = await c.send(api.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 'ts', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] });
  assert.equal(epochs.topics[0].partitions[0].endOffset, 5n);
});

test('configs: describe with synonyms, incremental alter of topic and broker applied live and persisted', async (t) => {
  const tb = await startTestBroker({ 'log.retention.hours': 24 });
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(api.CreateTopics, 7, { topics: [{ name: 'cfg', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'delete' }] }], timeoutMs: 5000, validateOnly: false });
  const describe = async (resourceType: number, resourceName: string, keys: string[] | null) =>
    (await c.send(api.DescribeConfigs, 4, { resources: [{ resourceType, resourceName, configurationKeys: keys }], includeSynonyms: true, includeDocumentation: false })).results[0];
  const topicCfg = await describe(2, 'cfg', ['retention.ms', 'cleanup.policy', 'segment.bytes']);
  const byName = new Map(topicCfg.configs.map((e) => [e.name, e]));
  assert.equal(byName.get('retention.ms')!.value, String(24 * 3600_000));
  // Kafka lists broker synonyms from log.retention.ms on; it is not set and has no default, so
  // log.retention.hours=24 (static) does not show, and the source is DEFAULT_CONFIG.
  assert.equal(byName.get('retention.ms')!.configSource, 5);
  assert.deepEqual(byName.get('retention.ms')!.synonyms, []);
  assert.equal(byName.get('cleanup.policy')!.configSource, 1);
  assert.equal(byName.get('segment.bytes')!.configSource, 5);
  assert.equal((await describe(2, 'missing', null)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  const alter = async (resourceType: number, resourceName: string, configs: { name: string; configOperation: number; value: string | null }[]) =>
    (await c.send(api.IncrementalAlterConfigs, 1, { resources: [{ resourceType, resourceName, configs }], validateOnly: false })).responses[0];
  assert.equal((await alter(2, 'cfg', [{ name: 'retention.ms', configOperation: 0, value: '1000' }, { name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).errorCode, ErrorCode.NONE);
  const after = new Map((await describe(2, 'cfg', null)).configs.map((e) => [e.name, e.value]));
  assert.equal(after.get('retention.ms'), '1000');
  assert.equal(after.get('cleanup.policy'), 'delete,compact');
  assert.equal(tb.broker.context.replicaManager.getPartition('cfg', 0)!.log.config.retentionMs, 1000);
  assert.equal((await alter(2, 'cfg', [{ name: 'retention.ms', configOperation: 0, value: 'never' }])).errorCode, ErrorCode.INVALID_CONFIG);
  assert.equal((await alter(2, 'cfg', [{ name: 'segment.bytes', configOperation: 2, value: '5' }])).errorCode, ErrorCode.INVALID_CONFIG);
  assert.equal((await alter(2, 'cfg', [{ name: 'retention.ms', configOperation: 1, value: null }])).errorCode, ErrorCode.NONE);

  assert.equal((await alter(4, '1', [{ name: 'log.segment.bytes', configOperation: 0, value: '2000000' }])).errorCode, ErrorCode.NONE);
  assert.equal(tb.broker.context.replicaManager.getPartition('cfg', 0)!.log.config.segmentBytes, 2000000);
  assert.equal((await alter(4, '1', [{ name: 'socket.request.max.bytes', configOperation: 0, value: '10' }])).errorCode, ErrorCode.INVALID_REQUEST);
  // Kafka's forwarding broker answers broker-config problems with INVALID_REQUEST.
  assert.equal((await alter(4, '1', [{ name: 'log.segment.bytes', configOperation: 0, value: 'big' }])).errorCode, ErrorCode.INVALID_REQUEST);
  const brokerCfg = await describe(4, '1', ['log.segment.bytes', 'socket.request.max.bytes']);
  const b = new Map(brokerCfg.configs.map((e) => [e.name, e]));
  assert.equal(b.get('log.segment.bytes')!.value, '2000000');
  assert.equal(b.get('log.segment.bytes')!.configSource, 2);
  assert.equal(b.get('socket.request.max.bytes')!.readOnly, true);

  // Legacy AlterConfigs replaces the whole set.
  const legacy = await c.send(api.AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: 'cfg', configs: [{ name: 'retention.bytes', value: '12345' }] }], validateOnly: false });
  assert.equal(legacy.responses[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(tb.broker.context.topics.get('cfg')!.configs, { 'retention.bytes': '12345' });
});

test('DescribeCluster, DescribeLogDirs and DescribeTopicPartitions (paginated)', async (t) => {
  const tb = await startTestBroker();
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(api.CreateTopics, 7, { topics: [{ name: 'p', numPartitions: 5, replicationFactor: 1, assignments: [], configs: [] }, { name: 'q', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const cluster = await c.send(api.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
  assert.equal(cluster.controllerId, 1);
  assert.equal(cluster.brokers[0].port, tb.broker.port);
  assert.equal(cluster.clusterId, tb.broker.clusterId);
  await produce(c, 'q', 0, ['x'.repeat(100)]);
  const dirs = await c.send(api.DescribeLogDirs, 4, { topics: null });
  assert.equal(dirs.results[0].logDir, tb.broker.dataDir);
  const q = dirs.results[0].topics.find((x) => x.name === 'q')!;
  assert.ok(q.partitions[0].partitionSize > 100n);
  assert.ok(dirs.results[0].totalBytes! > 0n);
  const page1 = await c.send(api.DescribeTopicPartitions, 0, { topics: [], responsePartitionLimit: 3, cursor: null });
  assert.deepEqual(page1.topics.map((x) => [x.name, x.partitions.length]), [['p', 3]]);
  assert.deepEqual(page1.nextCursor, { topicName: 'p', partitionIndex: 3 });
  const page2 = await c.send(api.DescribeTopicPartitions, 0, { topics: [], responsePartitionLimit: 3, cursor: page1.nextCursor! });
  assert.deepEqual(page2.topics.map((x) => [x.name, x.partitions.map((p) => p.partitionIndex)]), [['p', [3, 4]], ['q', [0]]]);
  assert.equal(page2.nextCursor, null);
});
