import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collidingTopic, topicNameProblem, isInternalTopic } from '../../src/metadata/topic-name.js';

test('legal topic names pass', () => {
  for (const name of ['a', 'orders', 'Orders.v1_x-y', 'x'.repeat(249), '__consumer_offsets']) assert.equal(topicNameProblem(name), null, name);
});

test('illegal topic names are refused with a reason', () => {
  assert.match(topicNameProblem('')!, /empty/);
  assert.match(topicNameProblem('.')!, /"\." or "\.\."/);
  assert.match(topicNameProblem('..')!, /"\." or "\.\."/);
  assert.match(topicNameProblem('x'.repeat(250))!, /longer than 249/);
  for (const bad of ['a b', 'a/b', 'ä', 'a:b', 'a*']) assert.match(topicNameProblem(bad)!, /illegal/, bad);
});

test('"." and "_" collide', () => {
  assert.equal(collidingTopic('a.b', ['a_b', 'c']), 'a_b');
  assert.equal(collidingTopic('a_b', ['a.b']), 'a.b');
  assert.equal(collidingTopic('a.b', ['a.b']), null);
  assert.equal(collidingTopic('ab', ['a_b']), null);
  assert.equal(isInternalTopic('__consumer_offsets'), true);
  assert.equal(isInternalTopic('orders'), false);
});
