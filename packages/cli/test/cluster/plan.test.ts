/** The rebalance and remove-broker planners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOf, planRebalance, planRemoveBroker, type PlannedPartition } from '../../src/cluster/plan.js';

const brokers = (ids: number[], racks?: Record<number, string>) => ids.map((nodeId) => ({ nodeId, rack: racks?.[nodeId] ?? null }));
const parts = (layouts: number[][], bytes: number[] = []) => layouts.map((replicas, partition) => ({ topic: 't', partition, replicas, bytes: bytes[partition] ?? 100 }));
const apply = (before: PlannedPartition[], moves: PlannedPartition[]) => before.map((p) => moves.find((m) => m.partition === p.partition) ?? p);

test('a new, empty broker gets its share of replicas and preferred leaders; small partitions move first', () => {
  const before = parts([[1, 2], [2, 3], [3, 1], [1, 2], [2, 3], [3, 1]], [500, 10, 500, 20, 500, 30]);
  const all = brokers([1, 2, 3, 4]);
  const moves = planRebalance(before, all);
  const load = loadOf(apply(before, moves), all);
  for (const l of load) assert.ok(l.replicas === 3, `broker ${l.nodeId}: ${l.replicas} replicas`);
  const leaders = load.map((l) => l.leaders);
  assert.ok(Math.max(...leaders) - Math.min(...leaders) <= 1, `leaders ${leaders}`);
  const moved = moves.filter((m) => m.replicas.includes(4)).map((m) => before[m.partition].bytes);
  assert.deepEqual(moved.sort((a, b) => a - b), [10, 20, 30], 'the three smallest partitions moved');
  for (const m of moves) assert.equal(new Set(m.replicas).size, m.replicas.length);
});

test('a balanced cluster needs nothing', () => {
  assert.deepEqual(planRebalance(parts([[1, 2], [2, 3], [3, 1]]), brokers([1, 2, 3])), []);
});

test('remove-broker moves every replica off the broker to the least loaded others, in place, respecting racks', () => {
  const before = parts([[4, 1], [2, 4], [3, 4], [4, 2], [1, 2]]);
  const all = brokers([1, 2, 3, 4]);
  const moves = planRemoveBroker(before, all, 4);
  assert.equal(moves.length, 4);
  const after = apply(before, moves);
  assert.ok(after.every((p) => !p.replicas.includes(4)));
  assert.ok(after.every((p) => new Set(p.replicas).size === p.replicas.length));
  assert.equal(after[0].replicas[1], 1, 'position kept: the second replica stays second');
  const racked = brokers([1, 2, 3, 4], { 1: 'a', 2: 'b', 3: 'a', 4: 'b' });
  const moved = planRemoveBroker(parts([[1, 4]]), racked, 4);
  assert.deepEqual(moved[0].replicas, [1, 2], 'the replacement keeps the partition on two racks');
  assert.throws(() => planRemoveBroker(parts([[1, 2, 3]]), brokers([1, 2, 3]), 3), /only 2 broker\(s\) would remain/);
});
