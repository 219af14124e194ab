import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberSubscription } from '@sluice/client';
import { streamsAssignor } from '../../src/index.js';

const layout = { sourceTopics: new Map([[0, ['left', 'right']], [1, ['app-agg-repartition']]]) };
const counts = new Map([['left', 3], ['right', 3], ['app-agg-repartition', 2]]);
const member = (id: string, owned: Array<[string, number]> = []): MemberSubscription => ({ memberId: id, groupInstanceId: null, topics: [], owned: owned.map(([topic, partition]) => ({ topic, partition })), generation: 1 });

test('the Streams assignor hands out whole tasks: co-partitioned topics of a task go together', () => {
  const result = streamsAssignor(layout).assign([member('m1'), member('m2')], counts);
  const all = [...result.values()].flat();
  assert.equal(all.length, 8);
  for (const [, tps] of result) {
    for (const tp of tps.filter((t) => t.topic === 'left')) assert.ok(tps.some((t) => t.topic === 'right' && t.partition === tp.partition), 'left and right of a partition together');
  }
  // 5 tasks over 2 members: 3 and 2.
  const tasks = [...result.values()].map((tps) => new Set(tps.map((t) => `${t.topic === 'app-agg-repartition' ? 1 : 0}_${t.partition}`)).size).sort();
  assert.deepEqual(tasks, [2, 3]);
});

test('the Streams assignor keeps tasks with their previous owner within the balance', () => {
  const result = streamsAssignor(layout).assign([member('m1', [['left', 2], ['right', 2], ['app-agg-repartition', 1]]), member('m2', [['left', 0], ['right', 0]])], counts);
  const m1 = result.get('m1')!.map((t) => `${t.topic}-${t.partition}`);
  const m2 = result.get('m2')!.map((t) => `${t.topic}-${t.partition}`);
  assert.ok(m1.includes('left-2') && m1.includes('app-agg-repartition-1'));
  assert.ok(m2.includes('left-0'));
});
