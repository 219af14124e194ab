import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeAssignor, roundRobinAssignor, stickyAssignor, cooperativeStickyAssignor, type MemberSubscription, type TopicPartition } from '../../src/consumer/assignors.js';

const member = (memberId: string, topics: string[], owned: TopicPartition[] = [], generation = -1): MemberSubscription => ({ memberId, groupInstanceId: null, topics, owned, generation });
const parts = (r: Map<string, TopicPartition[]>, m: string): string[] => r.get(m)!.map((tp) => `${tp.topic}-${tp.partition}`).sort();
const counts = (r: Map<string, TopicPartition[]>): number[] => [...r.values()].map((l) => l.length).sort();

test('range gives each member a contiguous range per topic, extras to the first members', () => {
  const r = rangeAssignor.assign([member('b', ['t']), member('a', ['t'])], new Map([['t', 5]]));
  assert.deepEqual(parts(r, 'a'), ['t-0', 't-1', 't-2']);
  assert.deepEqual(parts(r, 'b'), ['t-3', 't-4']);
});

test('roundrobin deals partitions in turn and skips members not subscribed', () => {
  const r = roundRobinAssignor.assign([member('a', ['t', 'u']), member('b', ['t'])], new Map([['t', 3], ['u', 2]]));
  assert.deepEqual(parts(r, 'a'), ['t-0', 't-2', 'u-0', 'u-1']);
  assert.deepEqual(parts(r, 'b'), ['t-1']);
});

test('sticky balances and keeps owned partitions in place', () => {
  const all = new Map([['t', 6]]);
  const first = stickyAssignor.assign([member('a', ['t']), member('b', ['t'])], all);
  assert.deepEqual(counts(first), [3, 3]);
  const owned = (m: string) => first.get(m)!;
  const second = stickyAssignor.assign([member('a', ['t'], owned('a'), 1), member('b', ['t'], owned('b'), 1), member('c', ['t'])], all);
  assert.deepEqual(counts(second), [2, 2, 2]);
  for (const m of ['a', 'b']) for (const tp of second.get(m)!) assert.ok(owned(m).some((o) => o.partition === tp.partition), 'no partition moves between a and b');
});

test('cooperative-sticky withholds partitions that change owner until they are revoked', () => {
  const all = new Map([['t', 4]]);
  const a0 = [0, 1, 2, 3].map((partition) => ({ topic: 't', partition }));
  const round1 = cooperativeStickyAssignor.assign([member('a', ['t'], a0, 1), member('b', ['t'])], all);
  assert.equal(round1.get('a')!.length, 2, 'a keeps two');
  assert.equal(round1.get('b')!.length, 0, 'b gets nothing while a still owns them');
  const round2 = cooperativeStickyAssignor.assign([member('a', ['t'], round1.get('a')!, 2), member('b', ['t'], [], 2)], all);
  assert.deepEqual(parts(round2, 'a'), parts(round1, 'a'));
  assert.equal(round2.get('b')!.length, 2);
  const union = [...parts(round2, 'a'), ...parts(round2, 'b')].sort();
  assert.deepEqual(union, ['t-0', 't-1', 't-2', 't-3']);
});

test('sticky with different subscriptions only assigns subscribed topics', () => {
  const r = stickyAssignor.assign([member('a', ['t']), member('b', ['u'])], new Map([['t', 2], ['u', 2]]));
  assert.deepEqual(parts(r, 'a'), ['t-0', 't-1']);
  assert.deepEqual(parts(r, 'b'), ['u-0', 'u-1']);
});
