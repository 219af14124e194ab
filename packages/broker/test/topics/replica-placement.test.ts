/** Kafka's replica assignment: spread of leaders and followers, racks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignReplicas } from '../../src/topics/replica-placement.js';

const brokers = (n: number, racks?: string[]) => Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, rack: racks ? racks[i % racks.length] : null }));

test('without racks: the layout Kafka documents (start index 0, shift 0), leaders round-robin, no broker twice', () => {
  const placed = assignReplicas(brokers(5), 10, 3, { startIndex: 0, replicaShift: 0 });
  // AdminUtils' own example for 5 brokers, 10 partitions, 3 replicas (ids 0..4 there, 1..5 here).
  const expected = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
    [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2],
  ].map((r) => r.map((id) => id + 1));
  assert.deepEqual(placed, expected);
});

test('leaders and replicas are spread evenly over many partitions; random starts differ', () => {
  const placed = assignReplicas(brokers(4), 400, 3);
  const leaders = new Map<number, number>();
  const replicas = new Map<number, number>();
  for (const r of placed) {
    assert.equal(new Set(r).size, 3);
    leaders.set(r[0], (leaders.get(r[0]) ?? 0) + 1);
    for (const id of r) replicas.set(id, (replicas.get(id) ?? 0) + 1);
  }
  for (const id of [1, 2, 3, 4]) {
    assert.equal(leaders.get(id), 100);
    assert.equal(replicas.get(id), 300);
  }
});

test('with racks: every partition spans as many racks as it can, and leaders alternate racks', () => {
  const racked = brokers(6, ['a', 'b', 'c']);
  const rackOf = new Map(racked.map((b) => [b.nodeId, b.rack]));
  for (let i = 0; i < 20; i++) {
    for (const r of assignReplicas(racked, 12, 3)) assert.equal(new Set(r.map((id) => rackOf.get(id))).size, 3, `replicas ${r} share a rack`);
    for (const r of assignReplicas(racked, 12, 2)) assert.equal(new Set(r.map((id) => rackOf.get(id))).size, 2);
  }
  // Two racks, RF 3: both racks used, three distinct brokers.
  for (const r of assignReplicas(brokers(4, ['x', 'y']), 8, 3)) {
    assert.equal(new Set(r).size, 3);
    assert.equal(new Set(r.map((id) => (id % 2 ? 'x' : 'y'))).size, 2);
  }
});

test('a replication factor above the broker count is refused', () => {
  assert.throws(() => assignReplicas(brokers(2), 1, 3), RangeError);
  assert.deepEqual(assignReplicas(brokers(1), 2, 1), [[1], [1]]);
});
