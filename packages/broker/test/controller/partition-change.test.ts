/** The controller's per-partition decisions (Kafka's PartitionChangeBuilder rules). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decidePartition, decideShutdown } from '../../src/controller/partition-change.js';
import type { PartitionRegistration } from '../../src/metadata/metadata-store.js';

const state = (leader: number, isr: number[], replicas = [1, 2, 3]): PartitionRegistration => ({
  partition: 0, replicas, leader, leaderEpoch: 4, isr, partitionEpoch: 9, addingReplicas: [], removingReplicas: [],
});
const live = (...ids: number[]) => new Set(ids);

test('a healthy partition needs nothing; a gone follower leaves the ISR', () => {
  assert.equal(decidePartition(state(1, [1, 2, 3]), live(1, 2, 3), false), null);
  assert.deepEqual(decidePartition(state(1, [1, 2, 3]), live(1, 3), false)?.change, { isr: [1, 3] });
  // A follower not in the ISR going away changes nothing.
  assert.equal(decidePartition(state(1, [1, 3]), live(1, 3), false), null);
});

test('a gone leader is replaced by the first live ISR member in replica order', () => {
  assert.deepEqual(decidePartition(state(1, [1, 3, 2]), live(2, 3), false)?.change, { leader: 2, isr: [3, 2] });
  assert.deepEqual(decidePartition(state(1, [1, 3]), live(2, 3), false)?.change, { leader: 3, isr: [3] });
});

test('no live ISR member: offline (leader -1, ISR kept) unless unclean election is allowed', () => {
  const d = decidePartition(state(1, [1]), live(2, 3), false);
  assert.deepEqual(d?.change, { leader: -1 });
  assert.equal(decidePartition(state(-1, [1]), live(2, 3), false), null, 'already offline');
  const unclean = decidePartition(state(1, [1]), live(3), true);
  assert.deepEqual(unclean?.change, { leader: 3, isr: [3] });
  assert.equal(unclean?.unclean, true);
  // The last ISR member returning leads again.
  assert.deepEqual(decidePartition(state(-1, [1]), live(1, 2), false)?.change, { leader: 1, isr: [1] });
});

test('controlled shutdown hands leadership to a live ISR member and leaves ISRs, but never empties one', () => {
  assert.deepEqual(decideShutdown(state(1, [1, 2, 3]), 1, live(1, 2, 3)), { leader: 2, isr: [2, 3] });
  assert.deepEqual(decideShutdown(state(2, [1, 2, 3]), 1, live(1, 2, 3)), { isr: [2, 3] });
  assert.equal(decideShutdown(state(1, [1]), 1, live(1, 2, 3)), null, 'the only ISR member keeps it');
  assert.equal(decideShutdown(state(2, [2, 3]), 1, live(1, 2, 3)), null, 'not involved');
  assert.deepEqual(decideShutdown(state(1, [1, 2, 3]), 1, live(1, 3)), { leader: 3, isr: [3] }, 'only live successors');
});
