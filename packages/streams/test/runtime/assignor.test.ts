import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberSubscription } from '@sluice/client';
import { streamsAssignor } from '../../src/index.js';
import { decodePreviousTasks, encodePreviousTasks } from '../../src/runtime/assignor.js';

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

test('the Streams assignor keeps tasks with the member whose user data says it ran them (eager: nothing is owned at the join), and a task whose owner left goes to a standby holder', () => {
  const withPrevious = (id: string, active: string[], standby: string[] = []): MemberSubscription => ({ ...member(id), userData: encodePreviousTasks({ active, standby }) });
  const kept = streamsAssignor(layout).assign([withPrevious('m1', ['0_2', '1_1']), withPrevious('m2', ['0_0'])], counts);
  const tasksOf = (tps: { topic: string; partition: number }[]) => new Set(tps.map((t) => `${t.topic === 'app-agg-repartition' ? 1 : 0}_${t.partition}`));
  assert.ok(tasksOf(kept.get('m1')!).has('0_2') && tasksOf(kept.get('m1')!).has('1_1'), 'm1 keeps 0_2 and 1_1');
  assert.ok(tasksOf(kept.get('m2')!).has('0_0'), 'm2 keeps 0_0');
  // m1 left; m3 holds standbys of 0_2 and 1_1, so those go to m3 rather than wherever the balance would put them.
  const moved = streamsAssignor(layout).assign([withPrevious('m2', ['0_0']), withPrevious('m3', [], ['0_2', '1_1'])], counts);
  assert.ok(tasksOf(moved.get('m3')!).has('0_2') && tasksOf(moved.get('m3')!).has('1_1'), `standby holder takes them: ${JSON.stringify([...moved])}`);
  assert.ok(tasksOf(moved.get('m2')!).has('0_0'));
  // Unknown or foreign user data is ignored, not an error.
  assert.equal([...streamsAssignor(layout).assign([{ ...member('m1'), userData: Buffer.from('\x00\x01binary') }], counts).values()].flat().length, 8);
  assert.deepEqual(decodePreviousTasks(encodePreviousTasks({ active: ['0_1'], standby: [] })), { active: ['0_1'], standby: [] });
});
