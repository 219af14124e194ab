/**
 * Offsets committed inside a transaction (TxnOffsetCommit) on the group coordinator shard over an
 * in-memory partition: written as the producer's transactional records, invisible and "pending"
 * until its marker, applied by a commit marker and dropped by an abort marker, also when the shard
 * is reloaded from the partition (a coordinator crash between PREPARE_COMMIT and the markers), and
 * a zombie's older epoch is fenced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@sluice/protocol';
import { silentLogger } from '../../src/logger.js';
import { CoordinatorRuntime } from '../../src/coordinator/runtime.js';
import { GroupCoordinatorShard } from '../../src/groups/group-coordinator-shard.js';
import { FakePartition, MockTime } from '../coordinator/fakes.js';

const CONFIG: Record<string, number> = {
  'group.min.session.timeout.ms': 6_000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.initial.rebalance.delay.ms': 3_000,
  'group.max.size': 100,
  'offset.metadata.max.bytes': 4096,
  'offsets.retention.minutes': 60,
  'offsets.retention.check.interval.ms': 60_000,
};

/** A shard loaded from `partition` (a fresh load each call: what a new leader or a restart does). */
async function load(partition: FakePartition, leaderEpoch: number) {
  const runtime = new CoordinatorRuntime<GroupCoordinatorShard>({
    topic: '__consumer_offsets',
    log: silentLogger,
    partition: () => partition,
    newShard: (context) =>
      new GroupCoordinatorShard(context, {
        config: { int: (key) => CONFIG[key] ?? assert.fail(`no config ${key}`) },
        log: silentLogger,
        partitionCount: (topic) => (topic === 't' ? 2 : undefined),
      }),
    newTimer: () => new MockTime().timer(),
  });
  await runtime.onBecomeLeader(0, leaderEpoch);
  return runtime.shard(0).offsetStore;
}

const commit = (offset: bigint, partition = 0) => ({
  groupId: 'eos',
  generationId: -1,
  memberId: '',
  groupInstanceId: null,
  retentionTimeMs: -1,
  partitions: [{ topic: 't', partition, offset, leaderEpoch: -1, metadata: null, commitTimestamp: -1 }],
});
const fetched = (store: Awaited<ReturnType<typeof load>>) => store.fetchOffsets('eos', [{ name: 't', partitions: [0, 1] }]).map((o) => o.offset);

test('transactional offsets: pending until the commit marker, kept across a reload before it, dropped by an abort', async () => {
  const partition = new FakePartition();
  let store = await load(partition, 0);
  assert.deepEqual(await store.commitOffsets(commit(5n)), [ErrorCode.NONE]);

  // Producer 7's transaction commits offset 10: stored as its transactional record, not yet visible.
  assert.deepEqual(await store.txnCommitOffsets(commit(10n), 7n, 0), [ErrorCode.NONE]);
  assert.equal(partition.records.at(-1)!.producerId, 7n, 'written as the producer\'s transactional record');
  assert.deepEqual(fetched(store), [5n, -1n]);
  assert.equal(store.hasPendingTransactionalOffset('eos', 't', 0), true);

  // The coordinator dies after PREPARE_COMMIT, before the markers: a reload keeps the offset pending.
  store = await load(partition, 1);
  assert.deepEqual(fetched(store), [5n, -1n]);
  assert.equal(store.hasPendingTransactionalOffset('eos', 't', 0), true, 'still pending after the reload');
  // The next transaction coordinator writes the commit marker: the offset applies.
  partition.writeMarker(7n, 0, true);
  store.completeTransaction(7n, 0, true);
  assert.deepEqual(fetched(store), [10n, -1n]);
  assert.equal(store.hasPendingTransactionalOffset('eos', 't', 0), false);

  // An aborted transaction's offsets never apply, live or on reload.
  assert.deepEqual(await store.txnCommitOffsets(commit(20n, 1), 8n, 3), [ErrorCode.NONE]);
  partition.writeMarker(8n, 4, false);
  store.completeTransaction(8n, 4, false);
  assert.deepEqual(fetched(store), [10n, -1n]);
  // A zombie of producer 8 with the epoch the abort fenced is refused.
  assert.deepEqual(await store.txnCommitOffsets(commit(30n, 1), 8n, 3), [ErrorCode.PRODUCER_FENCED]);

  // Reloaded from the log: the committed transaction's offset applied, the aborted one's not.
  store = await load(partition, 2);
  assert.deepEqual(fetched(store), [10n, -1n]);
  assert.equal(store.hasPendingTransactionalOffset('eos', 't', 1), false);
  assert.deepEqual(await store.txnCommitOffsets(commit(30n, 1), 8n, 3), [ErrorCode.PRODUCER_FENCED], 'the fenced epoch is known after a reload');
});
