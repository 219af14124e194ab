/** CoordinatorRuntime: loading on leadership, NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS, writes acknowledged at the high watermark. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { silentLogger } from '../../src/logger.js';
import type { ReplayedRecord } from '../../src/coordinator/partition.js';
import { CoordinatorRuntime, type CoordinatorShard, type ShardContext } from '../../src/coordinator/runtime.js';
import { FakePartition, gate, MockTime, settle } from './fakes.js';

class TestShard implements CoordinatorShard {
  readonly replayed: string[] = [];
  loaded = false;
  unloaded = false;

  constructor(readonly context: ShardContext) {}

  replay(record: ReplayedRecord): void {
    this.replayed.push(record.key.toString());
  }

  onLoaded(): void {
    this.loaded = true;
  }

  onUnloaded(): void {
    this.unloaded = true;
  }
}

function setup(partitions: FakePartition[]) {
  const time = new MockTime();
  const runtime = new CoordinatorRuntime<TestShard>({
    topic: '__test',
    log: silentLogger,
    partition: (p) => partitions[p],
    newShard: (context) => new TestShard(context),
    newTimer: () => time.timer(),
  });
  return { runtime, time };
}

const record = (key: string) => ({ key: Buffer.from(key), value: Buffer.from('v') });

function assertKafkaError(fn: () => unknown, code: number) {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

test('a shard loads by replaying its partition, then serves; other partitions are NOT_COORDINATOR', async () => {
  const partition = new FakePartition();
  await partition.append([record('a'), record('b')]);
  await partition.append([record('c')]);
  const { runtime } = setup([partition, new FakePartition()]);
  assertKafkaError(() => runtime.shard(0), ErrorCode.NOT_COORDINATOR);
  const summary = await runtime.onBecomeLeader(0, 0);
  assert.equal(summary.records, 3);
  const shard = runtime.shard(0);
  assert.deepEqual(shard.replayed, ['a', 'b', 'c']);
  assert.ok(shard.loaded);
  assert.equal(runtime.status(0), 'active');
  assertKafkaError(() => runtime.shard(1), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(runtime.activeShards(), [shard]);
});

test('while a shard loads, it answers COORDINATOR_LOAD_IN_PROGRESS', async () => {
  const partition = new FakePartition();
  await partition.append([record('a')]);
  const slow = gate();
  partition.loadGate = slow.promise;
  const { runtime } = setup([partition]);
  const loading = runtime.onBecomeLeader(0, 0);
  assert.equal(runtime.status(0), 'loading');
  assert.ok(runtime.loading);
  assertKafkaError(() => runtime.shard(0), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.deepEqual(runtime.activeShards(), []);
  slow.open();
  await loading;
  assert.deepEqual(runtime.shard(0).replayed, ['a']);
  assert.equal(runtime.loading, false);
});

test('resigning unloads the shard: NOT_COORDINATOR afterwards, its timers stop, its waiting writes fail', async () => {
  const partition = new FakePartition(false);
  const { runtime, time } = setup([partition]);
  await runtime.onBecomeLeader(0, 3);
  const shard = runtime.shard(0);
  let fired = 0;
  shard.context.timer.schedule('t', 1000, () => fired++);
  const write = shard.context.write([record('x')]);
  await settle();
  runtime.onResign(0, 3);
  assert.ok(shard.unloaded);
  assertKafkaError(() => runtime.shard(0), ErrorCode.NOT_COORDINATOR);
  await assert.rejects(write, (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_COORDINATOR);
  await assert.rejects(shard.context.write([record('y')]), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.NOT_COORDINATOR);
  shard.context.timer.schedule('late', 1000, () => fired++);
  time.advance(5000);
  assert.equal(fired, 0, 'neither the timer scheduled before nor one scheduled after the resignation runs');
});

test('resigning during the load stops it; the shard never serves', async () => {
  const partition = new FakePartition();
  await partition.append([record('a')]);
  const slow = gate();
  partition.loadGate = slow.promise;
  const { runtime } = setup([partition]);
  const loading = runtime.onBecomeLeader(0, 0);
  runtime.onResign(0);
  slow.open();
  await loading;
  assertKafkaError(() => runtime.shard(0), ErrorCode.NOT_COORDINATOR);
});

test('leader epochs: a stale leadership or resignation is ignored, a newer leadership reloads', async () => {
  const partition = new FakePartition();
  await partition.append([record('a')]);
  const { runtime } = setup([partition]);
  await runtime.onBecomeLeader(0, 5);
  const first = runtime.shard(0);
  await runtime.onBecomeLeader(0, 4);
  assert.equal(runtime.shard(0), first, 'an older epoch does not reload');
  runtime.onResign(0, 4);
  assert.equal(runtime.shard(0), first, 'an older resignation does not unload');
  await runtime.onBecomeLeader(0, 6);
  const second = runtime.shard(0);
  assert.notEqual(second, first);
  assert.ok(first.unloaded);
  assert.deepEqual(second.replayed, ['a']);
});

test('a write is acknowledged only once the high watermark passes it, in offset order', async () => {
  const partition = new FakePartition(false);
  const { runtime } = setup([partition]);
  await runtime.onBecomeLeader(0, 0);
  const { context } = runtime.shard(0);
  const acked: string[] = [];
  const first = context.write([record('a'), record('b')]).then(() => acked.push('first'));
  const second = context.write([record('c')]).then(() => acked.push('second'));
  await settle();
  assert.equal(partition.appends, 2, 'both batches are appended at once');
  assert.deepEqual(acked, [], 'appended is not committed');
  partition.commitTo(1n);
  await settle();
  assert.deepEqual(acked, [], 'the first batch ends at offset 1: a high watermark of 1 does not pass it');
  partition.commitTo(2n);
  await settle();
  assert.deepEqual(acked, ['first']);
  partition.commitTo(3n);
  await Promise.all([first, second]);
  assert.deepEqual(acked, ['first', 'second']);
});

test('a single broker (high watermark moves with the append) acknowledges at once; a failed append rejects', async () => {
  const partition = new FakePartition(true);
  const { runtime } = setup([partition]);
  await runtime.onBecomeLeader(0, 0);
  const { context } = runtime.shard(0);
  await context.write([record('a')]);
  assert.equal(partition.highWatermark, 1n);
  partition.failAppends = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'disk');
  await assert.rejects(context.write([record('b')]), (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR);
});

test('close() unloads every shard', async () => {
  const partitions = [new FakePartition(), new FakePartition()];
  const { runtime } = setup(partitions);
  await runtime.onBecomeLeader(0, 0);
  await runtime.onBecomeLeader(1, 0);
  const shards = runtime.activeShards();
  runtime.close();
  assert.ok(shards.every((s) => s.unloaded));
  assertKafkaError(() => runtime.shard(1), ErrorCode.NOT_COORDINATOR);
});
