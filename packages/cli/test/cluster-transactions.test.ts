/**
 * Transactions in a cluster of `sluice start` processes over etcd: the transaction coordinator is
 * the leader of the transactional id's `__transaction_state` partition (replicated, min.isr 2),
 * markers reach partitions led by every broker, and offsets sent in a transaction land with its
 * commit. Killing the coordinator's broker with -9 between transactions and in the middle of a
 * commit (after PREPARE_COMMIT is stored, while its markers are written) moves the coordinator; the
 * new one completes the transaction, and no partition is left
 * with a hanging last stable offset. confluent-kafka runs its transactional scenarios on the cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Admin, Connection, Consumer, Producer } from '@sluice/client';
import { pythonPath, requirePeers } from '@sluice/test-peers';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startProcessCluster, until, type ProcessCluster } from './support/process-cluster.js';

const OVERRIDES = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  'etcd.request.timeout.ms': 2000,
  'replica.lag.time.max.ms': 4000,
  'offsets.topic.num.partitions': 3,
  'offsets.topic.replication.factor': 3,
  'transaction.state.log.num.partitions': 3,
  'transaction.state.log.replication.factor': 3,
  'transaction.state.log.min.isr': 2,
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500,
};
const TOPIC = 'eos';
const PARTITIONS = 6;
const TXN_ID = 'cluster-tx';
const GROUP = 'cluster-eos';
const CONFLUENT_SCRIPT = fileURLToPath(new URL('../../../broker/test/clients/confluent_kafka_transactions.py', import.meta.url));

/** The broker FindCoordinator(TRANSACTION) names for the id, asked of any live broker. */
async function transactionCoordinator(cluster: ProcessCluster, transactionalId: string): Promise<number> {
  return until(`the coordinator of ${transactionalId}`, async () => {
    for (const b of cluster.brokers.filter((x) => x.running)) {
      const c = new Connection({ host: '127.0.0.1', port: b.port, clientId: 'test-find-coordinator' });
      try {
        const r = await c.request(ApiKey.FindCoordinator, { key: transactionalId, keyType: 1, coordinatorKeys: [transactionalId] });
        const answer = r.coordinators?.[0] ?? { nodeId: r.nodeId ?? -1, errorCode: r.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR };
        if (answer.errorCode === ErrorCode.NONE && cluster.broker(answer.nodeId)?.running) return answer.nodeId;
      } catch {
        // try the next broker
      } finally {
        c.close();
      }
    }
    return false;
  });
}

/**
 * Every value a read_committed consumer reads from the start: at least `atLeast` of them, then
 * until nothing more arrives for a while (transaction markers end the partitions, so positions
 * cannot tell that the end was reached).
 */
async function committedValues(bootstrap: string[], atLeast: number): Promise<string[]> {
  const consumer = new Consumer({ brokers: bootstrap, isolationLevel: 'read_committed', autoOffsetReset: 'earliest', fetchMaxWaitMs: 100 });
  try {
    await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
    const values: string[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const idle = new Promise<'idle'>((resolve) => setTimeout(() => resolve('idle'), 3000).unref());
      const batch = await Promise.race([consumer.poll(), idle]);
      if (batch === 'idle' || batch === null) {
        if (values.length >= atLeast) return values;
        assert.ok(Date.now() < deadline, `read_committed found ${values.length} records, fewer than ${atLeast}: ${values}`);
        continue;
      }
      for (const r of batch.records) values.push(r.value!.toString());
    }
  } finally {
    await consumer.close();
  }
}

/** Waits until every partition's last stable offset reaches its high watermark (no transaction left hanging). */
async function noHangingTransactions(admin: Admin): Promise<void> {
  await until(
    'every last stable offset to reach its high watermark',
    async () => {
      const [stable, end] = await Promise.all([admin.listOffsets(TOPIC, -1n, undefined, 1), admin.listOffsets(TOPIC, -1n, undefined, 0)]);
      return stable.every((s) => end.find((e) => e.partition === s.partition)?.offset === s.offset);
    },
    45_000,
  );
}

/** Progress for SLUICE_TEST_LOG runs (the brokers' logs are interleaved with it). */
function step(what: string): void {
  if (process.env.SLUICE_TEST_LOG) process.stderr.write(`[test] ${new Date().toISOString()} ${what}\n`);
}

function batchOf(tag: string): Array<{ topic: string; partition: number; value: string }> {
  return Array.from({ length: PARTITIONS }, (_, p) => ({ topic: TOPIC, partition: p, value: `${tag}-${p}` }));
}

test('transactions across three brokers: markers to every leader, offsets with the commit, coordinator killed between transactions and mid-commit', { timeout: 240_000 }, async (t) => {
  if (!requirePeers(t, 'etcd-server')) return;
  const cluster = await startProcessCluster({ brokers: 3, overrides: OVERRIDES });
  t.after(() => cluster.close());
  const admin = new Admin({ brokers: cluster.bootstrap });
  t.after(() => admin.close());
  await admin.createTopics([{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }]);
  const [described] = await admin.describeTopics([TOPIC]);
  assert.deepEqual([...new Set(described.partitions.map((p) => p.leader))].sort(), [1, 2, 3], 'the partitions are led by all three brokers');

  const producer = new Producer({ brokers: cluster.bootstrap, transactionalId: TXN_ID, transactionTimeoutMs: 30_000 });
  t.after(() => producer.close().catch(() => undefined));
  await producer.initTransactions();
  const expected: string[] = [];

  // Commit and abort across partitions led by different brokers; offsets with the commit.
  producer.beginTransaction();
  await producer.sendBatch(batchOf('first'));
  await producer.sendOffsetsToTransaction([{ topic: TOPIC, partition: 0, offset: 6n }], { groupId: GROUP });
  await producer.commitTransaction();
  expected.push(...batchOf('first').map((r) => r.value));
  producer.beginTransaction();
  await producer.sendBatch(batchOf('aborted'));
  await producer.abortTransaction();
  await until('the transactional offset committed', async () => (await admin.listConsumerGroupOffsets(GROUP)).find((o) => o.topic === TOPIC && o.partition === 0)?.offset === 6n);

  // Any other broker answers the id's requests with NOT_COORDINATOR (the client then asks FindCoordinator again).
  const first = await transactionCoordinator(cluster, TXN_ID);
  const other = new Connection({ host: '127.0.0.1', port: cluster.brokers.find((b) => b.nodeId !== first)!.port, clientId: 'test-not-coordinator' });
  const refused = await other.request(ApiKey.InitProducerId, { transactionalId: TXN_ID, transactionTimeoutMs: 30_000, producerId: -1n, producerEpoch: -1 });
  other.close();
  assert.equal(refused.errorCode, ErrorCode.NOT_COORDINATOR);

  // The coordinator's broker killed between transactions: the next transaction runs on the new one.
  step('killing the coordinator between transactions');
  await cluster.broker(first).kill9();
  producer.beginTransaction();
  await producer.sendBatch(batchOf('after-failover'));
  await producer.commitTransaction();
  expected.push(...batchOf('after-failover').map((r) => r.value));
  const second = await transactionCoordinator(cluster, TXN_ID);
  assert.notEqual(second, first, 'the coordinator moved');
  await cluster.broker(first).start();

  // Killed while the commit is under way: EndTxn is answered once PREPARE_COMMIT is stored, and
  // the coordinator dies while its markers are being written. The new coordinator loads the
  // PREPARE_COMMIT and finishes the markers; the producer's own commit then finds it done.
  step('killing the coordinator mid-commit');
  producer.beginTransaction();
  await producer.sendBatch(batchOf('mid-commit'));
  const coordinator = await transactionCoordinator(cluster, TXN_ID);
  const direct = new Connection({ host: '127.0.0.1', port: cluster.broker(coordinator).port, clientId: 'test-end-txn' });
  const [ongoing] = (await direct.request(ApiKey.DescribeTransactions, { transactionalIds: [TXN_ID] })).transactionStates;
  assert.equal(ongoing.transactionState, 'Ongoing');
  const ended = await direct.request(ApiKey.EndTxn, { transactionalId: TXN_ID, producerId: ongoing.producerId, producerEpoch: ongoing.producerEpoch, committed: true });
  assert.equal(ended.errorCode, ErrorCode.NONE, 'PREPARE_COMMIT stored');
  await cluster.broker(coordinator).kill9();
  direct.close();
  step('the coordinator killed after PREPARE_COMMIT; the producer commits');
  await producer.commitTransaction();
  expected.push(...batchOf('mid-commit').map((r) => r.value));
  step('waiting for every LSO to reach its HW');
  await noHangingTransactions(admin);
  step('reading the committed output');
  const seen = await committedValues(cluster.bootstrap, expected.length);
  const resumed = cluster.brokers.some((b) => /__transaction_state-\d+: loaded .* completing \d+/.test(b.log));
  t.diagnostic(resumed ? 'the new coordinator resumed the transaction from PREPARE_COMMIT' : 'the killed coordinator had written every marker before it died');
  assert.deepEqual(seen.sort(), [...expected].sort(), 'read_committed: exactly the committed transactions');
  await cluster.broker(coordinator).start();

  // librdkafka's transactional producer and consumers on the same cluster.
  step('confluent-kafka on the cluster');
  if (requirePeers(t, 'python3-confluent-kafka')) {
    const result = await promisify(execFile)(pythonPath(), [CONFLUENT_SCRIPT, cluster.bootstrap.join(',')], { timeout: 150_000 }).catch((err: { stdout?: string; stderr?: string; message: string }) =>
      assert.fail(`confluent-kafka transactions on the cluster failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`),
    );
    for (const step of ['commit/abort: ok', 'send_offsets_to_transaction: ok', 'fencing: ok', 'timeout abort: ok']) assert.match(result.stdout, new RegExp(step));
  }
});
