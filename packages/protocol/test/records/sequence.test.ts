import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SEQUENCE, incrementSequence, lastSequenceOf } from '../../src/records/sequence.js';

test('incrementSequence wraps at int32 max as DefaultRecordBatch.incrementSequence does', () => {
  assert.equal(incrementSequence(0, 5), 5);
  assert.equal(incrementSequence(MAX_SEQUENCE, 1), 0);
  assert.equal(incrementSequence(MAX_SEQUENCE - 2, 5), 2);
  // Kafka's own formula, for increments in its range.
  const kafka = (s: number, i: number) => (s > MAX_SEQUENCE - i ? i - (MAX_SEQUENCE - s) - 1 : s + i);
  for (const [s, i] of [[0, 0], [10, 7], [MAX_SEQUENCE - 7, 7], [MAX_SEQUENCE - 6, 7], [MAX_SEQUENCE, MAX_SEQUENCE]]) assert.equal(incrementSequence(s, i), kafka(s, i));
});

test('incrementSequence gives sequences back below 0 by wrapping the other way', () => {
  assert.equal(incrementSequence(5, -5), 0);
  assert.equal(incrementSequence(2, -5), MAX_SEQUENCE - 2);
  assert.equal(incrementSequence(incrementSequence(MAX_SEQUENCE - 1, 9), -9), MAX_SEQUENCE - 1);
  assert.equal(lastSequenceOf(MAX_SEQUENCE, 2), 1);
});
