/** The idempotent producer over the raw protocol: InitProducerId, sequence checks, duplicates, restarts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ApiKey, ErrorCode, batchSizeAt, buildRecordBatch, readRecordBatch } from '@sluice/protocol';
import { RawClient, startTestBroker, tempDir, type TestBroker } from '../helpers.js';

async function initProducerId(c: RawClient, version = 4, held?: { producerId: bigint; producerEpoch: number }) {
  return c.send(ApiKey.InitProducerId, version, { transactionalId: null, transactionTimeoutMs: 60000, producerId: held?.producerId ?? -1n, producerEpoch: held?.producerEpoch ?? -1 });
}

async function createTopic(c: RawClient, name: string, configs: Array<{ name: string; value: string }> = []) {
  const r = await c.send(ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs }], timeoutMs: 5000, validateOnly: false });
  assert.equal(r.topics[0].errorCode, ErrorCode.NONE);
}

/** Produces one batch of `count` records with the given producer fields; resolves with the partition response. */
async function produce(c: RawClient, topic: string, producerId: bigint, producerEpoch: number, baseSequence: number, count = 1, tag = 'v') {
  const records = buildRecordBatch(
    Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`${tag}${baseSequence + i}`), timestamp: BigInt(Date.now()) })),
    { producerId, producerEpoch, baseSequence },
  );
  const r = await c.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  return r.responses[0].partitionResponses[0];
}

/** Every value in partition 0, fetched from offset 0 to the end. */
async function readValues(c: RawClient, topic: string): Promise<string[]> {
  const values: string[] = [];
  for (let offset = 0n; ; ) {
    const { next, batchValues } = await fetchFrom(c, topic, offset);
    if (batchValues.length === 0) return values;
    values.push(...batchValues);
    offset = next;
  }
}

async function fetchFrom(c: RawClient, topic: string, fetchOffset: bigint): Promise<{ next: bigint; batchValues: string[] }> {
  const f = await c.send(ApiKey.Fetch, 12, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 8 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  });
  const records = f.responses[0].partitions[0].records ?? Buffer.alloc(0);
  const batchValues: string[] = [];
  let next = fetchOffset;
  for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
    const batch = readRecordBatch(records, pos);
    for (const r of batch.records) {
      if (r.offset >= fetchOffset) batchValues.push(r.value!.toString());
      next = r.offset + 1n;
    }
  }
  return { next, batchValues };
}

async function withBroker(t: { after: (fn: () => Promise<void> | void) => void }, options = {}): Promise<{ b: TestBroker; c: RawClient }> {
  const b = await startTestBroker(options);
  const c = await RawClient.connect(b.broker.port);
  t.after(async () => {
    c.close();
    await b.dispose();
  });
  return { b, c };
}

test('InitProducerId hands out distinct ids with epoch 0, never reused after a restart, at every version', async (t) => {
  const dataDir = tempDir();
  const first = await startTestBroker({}, dataDir);
  let second: TestBroker | null = null;
  t.after(async () => {
    await first.stop();
    await second?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const c = await RawClient.connect(first.broker.port);
  const seen = new Set<bigint>();
  for (let version = 0; version <= 5; version++) {
    const r = await initProducerId(c, version);
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.producerEpoch, 0);
    assert.ok(r.producerId! >= 0n);
    assert.ok(!seen.has(r.producerId!), `id ${r.producerId} handed out twice`);
    seen.add(r.producerId!);
  }
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => initProducerId(c)));
  for (const r of concurrent) {
    assert.ok(!seen.has(r.producerId!));
    seen.add(r.producerId!);
  }
  c.close();
  await first.stop();

  second = await startTestBroker({}, dataDir);
  const d = await RawClient.connect(second.broker.port);
  t.after(() => d.close());
  const after = await initProducerId(d);
  assert.equal(after.errorCode, ErrorCode.NONE);
  const maxBefore = [...seen].reduce((a, b) => (a > b ? a : b));
  assert.ok(after.producerId! > maxBefore, `id ${after.producerId} after restart must exceed every earlier id (max ${maxBefore})`);
});

test('InitProducerId: epoch bump (KIP-360), unknown ids refused, transactional ids go to the transaction coordinator', async (t) => {
  const { c } = await withBroker(t);
  const fresh = await initProducerId(c);
  const bumped = await initProducerId(c, 4, { producerId: fresh.producerId!, producerEpoch: 0 });
  assert.deepEqual([bumped.errorCode, bumped.producerId, bumped.producerEpoch], [ErrorCode.NONE, fresh.producerId, 1]);
  const exhausted = await initProducerId(c, 4, { producerId: fresh.producerId!, producerEpoch: 32766 });
  assert.equal(exhausted.errorCode, ErrorCode.NONE);
  assert.notEqual(exhausted.producerId, fresh.producerId);
  assert.equal(exhausted.producerEpoch, 0);
  const stranger = await initProducerId(c, 4, { producerId: 123456789n, producerEpoch: 3 });
  assert.equal(stranger.errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  const half = await initProducerId(c, 4, { producerId: fresh.producerId!, producerEpoch: -1 });
  assert.equal(half.errorCode, ErrorCode.INVALID_REQUEST);
  // A transactional id is the transaction coordinator's: a new id, then an epoch bump per instance.
  const coordinator = await c.send(ApiKey.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['tx-1'] });
  assert.equal(coordinator.coordinators?.[0].errorCode, ErrorCode.NONE);
  const txn = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  assert.deepEqual([txn.errorCode, txn.producerEpoch], [ErrorCode.NONE, 0]);
  const again = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  assert.deepEqual([again.errorCode, again.producerId, again.producerEpoch], [ErrorCode.NONE, txn.producerId, 1]);
  // KIP-360: the instance that held epoch 0 retrying its bump gets the same answer; an older epoch is fenced.
  const retried = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: txn.producerId, producerEpoch: 0 });
  assert.deepEqual([retried.errorCode, retried.producerEpoch], [ErrorCode.NONE, 1]);
  const third = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
  assert.equal(third.producerEpoch, 2);
  const zombie = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: txn.producerId, producerEpoch: 0 });
  assert.equal(zombie.errorCode, ErrorCode.PRODUCER_FENCED);
  const oldClient = await c.send(ApiKey.InitProducerId, 3, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: txn.producerId, producerEpoch: 0 });
  assert.equal(oldClient.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH, 'v3 predates PRODUCER_FENCED');
  const tooLong = await c.send(ApiKey.InitProducerId, 4, { transactionalId: 'tx-2', transactionTimeoutMs: 900_001, producerId: -1n, producerEpoch: -1 });
  assert.equal(tooLong.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
});

test('a duplicate batch gets its original offset and is stored once; gaps, stale epochs and bad epoch starts are refused', async (t) => {
  const { c } = await withBroker(t);
  await createTopic(c, 'idem');
  const { producerId } = await initProducerId(c);
  const pid = producerId!;
  const a = await produce(c, 'idem', pid, 0, 0, 3);
  assert.deepEqual([a.errorCode, a.baseOffset], [ErrorCode.NONE, 0n]);
  const b = await produce(c, 'idem', pid, 0, 3, 2);
  assert.deepEqual([b.errorCode, b.baseOffset], [ErrorCode.NONE, 3n]);
  // A retry of either of the last batches: success with the offset it was first written at.
  const retryA = await produce(c, 'idem', pid, 0, 0, 3);
  assert.deepEqual([retryA.errorCode, retryA.baseOffset], [ErrorCode.NONE, 0n]);
  const retryB = await produce(c, 'idem', pid, 0, 3, 2);
  assert.deepEqual([retryB.errorCode, retryB.baseOffset], [ErrorCode.NONE, 3n]);
  // A gap (sequence 6 when 5 is expected) and a batch overlapping but not equal to a stored one.
  assert.equal((await produce(c, 'idem', pid, 0, 6)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal((await produce(c, 'idem', pid, 0, 1, 2)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  // A new epoch must start at 0; once it has, the old epoch is fenced.
  assert.equal((await produce(c, 'idem', pid, 1, 5)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const e1 = await produce(c, 'idem', pid, 1, 0, 1, 'e1-');
  assert.deepEqual([e1.errorCode, e1.baseOffset], [ErrorCode.NONE, 5n]);
  assert.equal((await produce(c, 'idem', pid, 0, 5)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  // Another producer's sequences are its own.
  const other = (await initProducerId(c)).producerId!;
  assert.equal((await produce(c, 'idem', other, 0, 0, 1, 'o')).baseOffset, 6n);
  assert.deepEqual(await readValues(c, 'idem'), ['v0', 'v1', 'v2', 'v3', 'v4', 'e1-0', 'o0']);
});

test('sequences wrap past int32 max; only the last five batches are recognised as duplicates', async (t) => {
  const { c } = await withBroker(t);
  await createTopic(c, 'wrap');
  const pid = (await initProducerId(c)).producerId!;
  // An unknown producer (state expired, or never seen) may continue from any sequence.
  assert.equal((await produce(c, 'wrap', pid, 0, 2147483646, 2)).errorCode, ErrorCode.NONE);
  const wrapped = await produce(c, 'wrap', pid, 0, 0, 1);
  assert.deepEqual([wrapped.errorCode, wrapped.baseOffset], [ErrorCode.NONE, 2n]);
  for (let seq = 1; seq <= 5; seq++) assert.equal((await produce(c, 'wrap', pid, 0, seq)).errorCode, ErrorCode.NONE);
  // The batch at sequence 0 is now the sixth newest: no longer a recognisable duplicate.
  assert.equal((await produce(c, 'wrap', pid, 0, 0)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal((await produce(c, 'wrap', pid, 0, 1)).baseOffset, 3n);
  assert.equal((await readValues(c, 'wrap')).length, 8);
});

test('concurrent retries of one batch on many connections append it exactly once', async (t) => {
  const { b, c } = await withBroker(t);
  await createTopic(c, 'race');
  const pid = (await initProducerId(c)).producerId!;
  const connections = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(b.broker.port)));
  t.after(() => connections.forEach((x) => x.close()));
  for (let seq = 0; seq < 40; seq += 2) {
    const answers = await Promise.all(connections.map((x) => produce(x, 'race', pid, 0, seq, 2)));
    for (const a of answers) assert.deepEqual([a.errorCode, a.baseOffset], [ErrorCode.NONE, BigInt(seq)]);
  }
  const values = await readValues(c, 'race');
  assert.deepEqual(values, Array.from({ length: 40 }, (_, i) => `v${i}`));
});

test('producer state is rebuilt from the log after a restart: a retry is still recognised, a gap still refused', async (t) => {
  const dataDir = tempDir();
  const first = await startTestBroker({}, dataDir);
  let second: TestBroker | null = null;
  t.after(async () => {
    await first.stop();
    await second?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const c = await RawClient.connect(first.broker.port);
  await createTopic(c, 'durable-idem', [{ name: 'segment.bytes', value: '1024' }]);
  const pid = (await initProducerId(c)).producerId!;
  for (let seq = 0; seq < 30; seq += 3) assert.equal((await produce(c, 'durable-idem', pid, 0, seq, 3)).errorCode, ErrorCode.NONE);
  c.close();
  await first.stop();

  second = await startTestBroker({}, dataDir);
  const d = await RawClient.connect(second.broker.port);
  t.after(() => d.close());
  const retry = await produce(d, 'durable-idem', pid, 0, 27, 3);
  assert.deepEqual([retry.errorCode, retry.baseOffset], [ErrorCode.NONE, 27n]);
  const older = await produce(d, 'durable-idem', pid, 0, 18, 3);
  assert.deepEqual([older.errorCode, older.baseOffset], [ErrorCode.NONE, 18n]);
  assert.equal((await produce(d, 'durable-idem', pid, 0, 31)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal((await produce(d, 'durable-idem', pid, 0, 30)).baseOffset, 30n);
  assert.equal((await readValues(d, 'durable-idem')).length, 31);
});

test('producer.id.expiration.ms forgets idle producers: their next batch is accepted at any sequence', async (t) => {
  const { b, c } = await withBroker(t, { 'producer.id.expiration.ms': 200, 'producer.id.expiration.check.interval.ms': 50 });
  await createTopic(c, 'expiring');
  const pid = (await initProducerId(c)).producerId!;
  assert.equal((await produce(c, 'expiring', pid, 0, 0, 2)).errorCode, ErrorCode.NONE);
  assert.equal((await produce(c, 'expiring', pid, 0, 7)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const log = b.broker.context.replicaManager.getPartition('expiring', 0)!.log;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(b.broker.context.replicaManager.getPartition('expiring', 0)?.log, log);
  const afterExpiry = await produce(c, 'expiring', pid, 0, 7);
  assert.deepEqual([afterExpiry.errorCode, afterExpiry.baseOffset], [ErrorCode.NONE, 2n]);
});

test('a batch with a producer id must be alone in its partition data and carry valid epoch and sequence', async (t) => {
  const { c } = await withBroker(t);
  await createTopic(c, 'strict');
  const pid = (await initProducerId(c)).producerId!;
  const one = buildRecordBatch([{ value: Buffer.from('a') }], { producerId: pid, producerEpoch: 0, baseSequence: 0 });
  const two = buildRecordBatch([{ value: Buffer.from('b') }], { producerId: pid, producerEpoch: 0, baseSequence: 1 });
  const r = await c.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'strict', partitionData: [{ index: 0, records: Buffer.concat([one, two]) }] }] });
  assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_RECORD);
  assert.equal((await produce(c, 'strict', pid, 0, -5)).errorCode, ErrorCode.INVALID_RECORD);
  assert.equal((await produce(c, 'strict', pid, 0, 0)).errorCode, ErrorCode.NONE);
});

test('five batches of a producer in flight at once are checked in order; a batch the log refuses or a corrupt one does not advance the sequence', async (t) => {
  const { c } = await withBroker(t, { 'log.message.timestamp.before.max.ms': 3_600_000 });
  await createTopic(c, 'pipelined');
  const pid = (await initProducerId(c)).producerId!;
  const inFlight = await Promise.all([0, 2, 4, 6, 8].map((seq) => produce(c, 'pipelined', pid, 0, seq, 2)));
  assert.deepEqual(inFlight.map((r) => [r.errorCode, r.baseOffset]), [0n, 2n, 4n, 6n, 8n].map((o) => [ErrorCode.NONE, o]));
  // Sequence 10 with a timestamp far outside the allowed window: refused by the log.
  const stale = buildRecordBatch([{ value: Buffer.from('old'), timestamp: BigInt(Date.now() - 86_400_000) }], { producerId: pid, producerEpoch: 0, baseSequence: 10 });
  const refused = await c.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'pipelined', partitionData: [{ index: 0, records: stale }] }] });
  assert.equal(refused.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_TIMESTAMP);
  const corrupt = buildRecordBatch([{ value: Buffer.from('bits') }], { producerId: pid, producerEpoch: 0, baseSequence: 10 });
  corrupt[corrupt.length - 1] ^= 0xff;
  const rejected = await c.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'pipelined', partitionData: [{ index: 0, records: corrupt }] }] });
  assert.equal(rejected.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
  // A retry of a batch while it is still in flight gets the same offsets.
  const [x, y] = await Promise.all([produce(c, 'pipelined', pid, 0, 10), produce(c, 'pipelined', pid, 0, 10)]);
  assert.deepEqual([x.errorCode, x.baseOffset, y.errorCode, y.baseOffset], [ErrorCode.NONE, 10n, ErrorCode.NONE, 10n]);
  assert.equal((await readValues(c, 'pipelined')).length, 11);
});
