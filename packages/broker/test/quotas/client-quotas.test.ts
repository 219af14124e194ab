/**
 * Client quotas: Kafka's precedence of user / client-id entities and their defaults, the sampled
 * rate, AlterClientQuotas / DescribeClientQuotas over the wire (persisted across a restart), a
 * throttled response that mutes its connection, and a producer held to its producer_byte_rate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey as api, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { Admin, Producer } from '@sluice/client';
import { RawClient, startTestBroker, tempDir } from '../helpers.js';
import { ClientQuotaManager, resolveQuota, SampledRate } from '../../src/quotas/client-quotas.js';
import { quotaEntityKey, type ClientQuotaEntity, type ClientQuotaRecord } from '../../src/metadata/metadata-store.js';

test("quota precedence follows Kafka's order, per quota type", () => {
  const configured = new Map<string, Record<string, number>>();
  const set = (entity: ClientQuotaEntity, values: Record<string, number>) => configured.set(quotaEntityKey(entity), values);
  set({ clientId: null }, { producer_byte_rate: 8 });
  const bound = (user: string, clientId: string) => resolveQuota(configured, 'producer_byte_rate', user, clientId)?.bound;
  assert.equal(bound('alice', 'app'), 8, '/clients/<default>');
  set({ clientId: 'app' }, { producer_byte_rate: 7 });
  assert.equal(bound('alice', 'app'), 7, '/clients/app');
  set({ user: null }, { producer_byte_rate: 6 });
  assert.equal(bound('alice', 'app'), 6, '/users/<default>');
  set({ user: null, clientId: null }, { producer_byte_rate: 5 });
  assert.equal(bound('alice', 'app'), 5, '/users/<default>/clients/<default>');
  set({ user: null, clientId: 'app' }, { producer_byte_rate: 4 });
  assert.equal(bound('alice', 'app'), 4, '/users/<default>/clients/app');
  set({ user: 'alice' }, { producer_byte_rate: 3 });
  assert.equal(bound('alice', 'app'), 3, '/users/alice');
  set({ user: 'alice', clientId: null }, { producer_byte_rate: 2 });
  assert.equal(bound('alice', 'app'), 2, '/users/alice/clients/<default>');
  set({ user: 'alice', clientId: 'app' }, { producer_byte_rate: 1, consumer_byte_rate: 100 });
  assert.equal(bound('alice', 'app'), 1, '/users/alice/clients/app');
  assert.equal(bound('bob', 'app'), 4, 'another user falls to /users/<default>/clients/app');
  assert.equal(bound('bob', 'other'), 5, 'and another client to /users/<default>/clients/<default>');
  // Per type: consumer_byte_rate is set only on the most specific entity.
  assert.equal(resolveQuota(configured, 'consumer_byte_rate', 'alice', 'app')?.bound, 100);
  assert.equal(resolveQuota(configured, 'consumer_byte_rate', 'alice', 'web'), null);
  // A default entity keeps one allowance per user: the sensors differ.
  const a = resolveQuota(configured, 'producer_byte_rate', 'u1', 'x')!;
  const b = resolveQuota(configured, 'producer_byte_rate', 'u2', 'x')!;
  assert.notEqual(a.sensorKey, b.sensorKey);
});

test("the sampled rate and the throttle time are Kafka's", () => {
  const rate = new SampledRate({ samples: 3, windowMs: 1000 });
  rate.record(3000, 0);
  // Elapsed is at least (samples - 1) windows: 3000 bytes over 2 s.
  assert.equal(rate.rate(0), 1500);
  rate.record(3000, 2500);
  assert.equal(rate.rate(2500), 6000 / 2.5);
  // Samples started samples × window ago fall out; the elapsed time is again at least 2 windows.
  assert.equal(rate.rate(4100), 3000 / 2.6);

  let now = 0;
  const quotas: ClientQuotaRecord[] = [{ entity: { clientId: 'c' }, values: { producer_byte_rate: 1000 } }];
  const manager = new ClientQuotaManager({ clientQuotas: () => quotas }, { samples: 3, windowMs: 1000 }, () => now);
  assert.equal(manager.record('producer_byte_rate', 'ANONYMOUS', 'c', 1000), 0, 'within the quota');
  // 5000 bytes over 2 s = 2500/s: (2500 - 1000) / 1000 × 2000 ms = 3000 ms.
  assert.equal(manager.record('producer_byte_rate', 'ANONYMOUS', 'c', 4000), 3000);
  assert.equal(manager.record('producer_byte_rate', 'ANONYMOUS', 'other', 1e9), 0, 'no quota for another client');
  now = 10_000;
  assert.equal(manager.check('producer_byte_rate', 'ANONYMOUS', 'c'), 0, 'forgotten once the samples expire');
});

test('AlterClientQuotas / DescribeClientQuotas over the wire, validation, persistence across a restart', async (t) => {
  const dataDir = tempDir();
  const first = await startTestBroker({}, dataDir);
  const admin = new Admin({ brokers: [first.bootstrap] });
  await admin.connect();
  await admin.alterClientQuotas([
    { entity: { user: 'alice' }, ops: [{ key: 'producer_byte_rate', value: 1024 }, { key: 'consumer_byte_rate', value: 2048 }] },
    { entity: { 'client-id': null }, ops: [{ key: 'request_percentage', value: 50 }] },
    { entity: { user: 'alice', 'client-id': 'app' }, ops: [{ key: 'controller_mutation_rate', value: 10 }] },
  ]);
  await assert.rejects(admin.alterClientQuotas([{ entity: { user: 'bob' }, ops: [{ key: 'bogus_rate', value: 1 }] }]), (err: Error & { code?: number }) => err.code === ErrorCode.INVALID_REQUEST);
  await assert.rejects(admin.alterClientQuotas([{ entity: { ip: '1.2.3.4' }, ops: [{ key: 'producer_byte_rate', value: 1 }] }]), (err: Error & { code?: number }) => err.code === ErrorCode.INVALID_REQUEST);
  await admin.alterClientQuotas([{ entity: { user: 'alice' }, ops: [{ key: 'consumer_byte_rate', value: null }] }]);
  admin.close();
  await first.stop();

  const second = await startTestBroker({}, dataDir);
  t.after(() => second.dispose());
  const again = new Admin({ brokers: [second.bootstrap] });
  t.after(() => again.close());
  await again.connect();
  assert.deepEqual(await again.describeClientQuotas([{ entityType: 'user', matchType: 0, match: 'alice' }], true), [{ entity: { user: 'alice' }, values: { producer_byte_rate: 1024 } }]);
  assert.deepEqual(await again.describeClientQuotas([{ entityType: 'user', matchType: 0, match: 'alice' }]), [
    { entity: { user: 'alice' }, values: { producer_byte_rate: 1024 } },
    { entity: { user: 'alice', 'client-id': 'app' }, values: { controller_mutation_rate: 10 } },
  ]);
  assert.deepEqual(await again.describeClientQuotas([{ entityType: 'client-id', matchType: 1, match: null }]), [{ entity: { 'client-id': null }, values: { request_percentage: 50 } }]);
  assert.deepEqual(await again.describeClientQuotas([{ entityType: 'client-id', matchType: 2, match: null }]), [{ entity: { user: 'alice', 'client-id': 'app' }, values: { controller_mutation_rate: 10 } }]);
});

test('a throttled response carries throttle_time_ms at once, then the connection reads nothing for that long', async (t) => {
  // Metrics on (a free port): the throttle lands in the request's ThrottleTimeMs histogram.
  const tb = await startTestBroker({ 'num.partitions': 1, 'quota.window.num': 2, 'metrics.port': 0 });
  t.after(() => tb.dispose());
  // RawClient sends client id "raw-test".
  await tb.broker.context.metadata.setClientQuotas({ clientId: 'raw-test' }, { producer_byte_rate: 10_000 });
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(api.Metadata, 12, { topics: [{ name: 'q', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  const records = buildRecordBatch([{ key: null, value: Buffer.alloc(30_000, 1), timestamp: BigInt(Date.now()) }]);
  const started = performance.now();
  const first = await c.send(api.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'q', partitionData: [{ index: 0, records }] }] });
  const answeredIn = performance.now() - started;
  assert.equal(first.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE, 'served even though over the quota');
  // 30,072 bytes against 10,000 B/s over the 1 s minimum window: 2,007 ms, capped at the 2 × 1 s of samples.
  assert.equal(first.throttleTimeMs, 2000);
  assert.ok(answeredIn < first.throttleTimeMs! / 2, `answered in ${answeredIn.toFixed(0)} ms, not after the throttle`);
  const next = performance.now();
  await c.send(api.Metadata, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  const waited = performance.now() - next + answeredIn;
  assert.ok(waited >= first.throttleTimeMs! - 50, `the next request waited ${waited.toFixed(0)} ms of a ${first.throttleTimeMs!} ms throttle`);
  const produceMeters = tb.broker.context.metrics!.request(api.Produce, 11)!;
  assert.equal(produceMeters.throttleTime.sum, 2000, 'kafka_network_requestmetrics_throttletimems{request="Produce"} recorded the throttle');
});

test('consumer_byte_rate: a fetch over the quota returns its records with throttle_time_ms', async (t) => {
  const tb = await startTestBroker({ 'num.partitions': 1, 'quota.window.num': 2 });
  t.after(() => tb.dispose());
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  await c.send(api.Metadata, 12, { topics: [{ name: 'f', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  const records = buildRecordBatch([{ key: null, value: Buffer.alloc(40_000, 2), timestamp: BigInt(Date.now()) }]);
  await c.send(api.Produce, 11, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'f', partitionData: [{ index: 0, records }] }] });
  await tb.broker.context.metadata.setClientQuotas({ user: null }, { consumer_byte_rate: 20_000 });
  const fetched = await c.send(api.Fetch, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'f', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  assert.ok((fetched.responses[0].partitions[0].records?.length ?? 0) > 40_000);
  // ~40 KB against 20 KB/s over the 1 s minimum window: about 1 s.
  assert.ok(fetched.throttleTimeMs! >= 900 && fetched.throttleTimeMs! <= 1100, `throttle ${fetched.throttleTimeMs} ms`);
});

test('a producer over its producer_byte_rate is held to within 10% of it', { timeout: 60_000 }, async (t) => {
  const QUOTA = 200 * 1024;
  const tb = await startTestBroker({ 'num.partitions': 1, 'quota.window.num': 2 });
  t.after(() => tb.dispose());
  const admin = new Admin({ brokers: [tb.bootstrap] });
  t.after(() => admin.close());
  await admin.connect();
  await admin.createTopics([{ topic: 'metered', numPartitions: 1 }]);
  await admin.alterClientQuotas([{ entity: { 'client-id': 'metered-producer' }, ops: [{ key: 'producer_byte_rate', value: QUOTA }] }]);

  const producer = new Producer({ brokers: [tb.bootstrap], clientId: 'metered-producer', acks: 1, lingerMs: 0, batchSize: 64 * 1024, requestTimeoutMs: 30_000 });
  t.after(() => producer.close());
  await producer.connect();
  const value = Buffer.alloc(8 * 1024, 7);
  const acked: number[] = [];
  const start = performance.now();
  const WARM_UP_MS = 1500;
  const MEASURE_MS = 5000;
  let stop = false;
  // Keep the producer saturated: a few sends always outstanding.
  const worker = async () => {
    while (!stop) {
      await producer.send({ topic: 'metered', value });
      acked.push(performance.now() - start);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS + MEASURE_MS));
  stop = true;
  await Promise.all(workers);
  const inWindow = acked.filter((at) => at >= WARM_UP_MS && at < WARM_UP_MS + MEASURE_MS).length;
  const rate = (inWindow * value.length) / (MEASURE_MS / 1000);
  t.diagnostic(`producer_byte_rate ${QUOTA} B/s: measured ${rate.toFixed(0)} B/s (${((rate / QUOTA) * 100).toFixed(1)}%) of record values over ${MEASURE_MS} ms after ${WARM_UP_MS} ms`);
  assert.ok(Math.abs(rate - QUOTA) <= QUOTA * 0.1, `measured ${rate.toFixed(0)} B/s against a quota of ${QUOTA} B/s`);
});

test('controller_mutation_rate: partitions created over the quota are refused with THROTTLING_QUOTA_EXCEEDED (v6+) or only throttled (older)', async (t) => {
  const tb = await startTestBroker({ 'quota.window.num': 2 });
  t.after(() => tb.dispose());
  await tb.broker.context.metadata.setClientQuotas({ clientId: 'raw-test' }, { controller_mutation_rate: 2 });
  const c = await RawClient.connect(tb.broker.port);
  t.after(() => c.close());
  const spec = (name: string) => ({ name, numPartitions: 10, replicationFactor: 1, assignments: [], configs: [] });
  const strict = await c.send(api.CreateTopics, 7, { topics: [spec('m1'), spec('m2')], timeoutMs: 5000, validateOnly: false });
  assert.deepEqual(strict.topics.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.THROTTLING_QUOTA_EXCEEDED]);
  assert.ok(strict.throttleTimeMs! > 0);
  assert.equal(tb.broker.context.topics.get('m2'), undefined);
  // An older version is never refused, only throttled.
  const lenient = await c.send(api.CreateTopics, 5, { topics: [spec('m3'), spec('m4')], timeoutMs: 5000, validateOnly: false });
  assert.deepEqual(lenient.topics.map((x) => x.errorCode), [ErrorCode.NONE, ErrorCode.NONE]);
  assert.ok(lenient.throttleTimeMs! > 0);
});
