/**
 * Role changes and writes exclude each other (Kafka's leader-ISR lock): a replica fetcher's append
 * for an old leadership never lands after this replica became leader or began following a newer
 * one, and a leader append never lands after leadership moved away.
 *
 * The bug this guards against: during a controlled shutdown the new leader's in-flight fetch from
 * the old leader was appended after its own epoch began, so its log held old-epoch batches past the
 * epoch's start; its followers then truncated and refetched those batches forever and acks=all
 * producers stalled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { PartitionLog, defaultTopicConfig } from '@sluice/storage';
import { Partition, type PartitionState } from '../../src/replica/partition.js';

const LOCAL = 2;
const batch = (baseOffset: bigint, epoch: number) =>
  buildRecordBatch(Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })), { baseOffset, partitionLeaderEpoch: epoch });
const state = (leader: number, leaderEpoch: number): PartitionState => ({ leader, leaderEpoch, partitionEpoch: leaderEpoch, replicas: [1, 2, 3], isr: [1, 2, 3] });

async function followerAtEpoch2(t: { after(fn: () => unknown): void }): Promise<Partition> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-partition-role-'));
  const log = await PartitionLog.open({ dir, topic: 'r', partition: 0, config: defaultTopicConfig });
  t.after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const partition = new Partition('r', 0, log, LOCAL, state(1, 2));
  await partition.makeFollower(state(1, 2));
  assert.equal(await partition.writeAsFollower(2, (l) => l.appendAsFollower(batch(0n, 2))), true);
  return partition;
}

test('a fetched append in progress finishes before the replica becomes leader; one arriving after is dropped, so the new epoch starts past every old-epoch batch', async (t) => {
  const partition = await followerAtEpoch2(t);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The fetch answer from leader 1 is being appended when the metadata makes this broker leader.
  const inFlight = partition.writeAsFollower(2, async (l) => {
    await held;
    await l.appendAsFollower(batch(10n, 2));
  });
  const becameLeader = partition.makeLeader(state(LOCAL, 3));
  // Another answer of the old leader arrives while the role change waits for the first.
  const late = partition.writeAsFollower(2, (l) => l.appendAsFollower(batch(20n, 2)));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(partition.role, 'follower', 'the role change waits for the append in progress');
  release();
  assert.equal(await inFlight, true);
  await becameLeader;
  assert.equal(await late, false, 'the late answer is not appended');
  assert.equal(partition.role, 'leader');
  assert.equal(partition.logEndOffset, 20n);
  // Epoch 2 ends where epoch 3 starts, after the last epoch-2 batch: followers agree with it.
  assert.deepEqual(partition.log.endOffsetForEpoch(2), { epoch: 2, endOffset: 20n });
});

test('a follower of a newer leadership drops what the old leader sent; a leader append for an old epoch is refused with NOT_LEADER_OR_FOLLOWER', async (t) => {
  const partition = await followerAtEpoch2(t);
  await partition.makeFollower(state(3, 3));
  assert.equal(await partition.writeAsFollower(2, (l) => l.appendAsFollower(batch(10n, 2))), false);
  assert.equal(await partition.writeAsFollower(2, (l) => l.truncateTo(0n)), false, 'nor truncates for it');
  assert.equal(partition.logEndOffset, 10n);

  await partition.makeLeader(state(LOCAL, 4));
  const records = () => buildRecordBatch([{ key: null, value: Buffer.from('x') }]);
  assert.equal((await partition.writeAsLeader(4, (l) => l.appendAsLeader(records(), { leaderEpoch: 4 }))).baseOffset, 10n);
  await partition.makeFollower(state(1, 5));
  await assert.rejects(
    partition.writeAsLeader(4, (l) => l.appendAsLeader(records(), { leaderEpoch: 4 })),
    (err: { code?: number }) => err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  assert.equal(partition.logEndOffset, 11n);
});
