import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, errorForCode, kafkaErrors, throwIfError } from '../../src/errors/kafka-errors.js';

test('codes are unique and contiguous from -1 to the newest', () => {
  const codes = kafkaErrors.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  const max = Math.max(...codes);
  for (let c = -1; c <= max; c++) assert.ok(codes.includes(c), `missing code ${c}`);
  assert.equal(kafkaErrors.length, max + 2);
});

test('well-known codes carry their wire names and retriability', () => {
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.OFFSET_OUT_OF_RANGE, 1);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_ID, 100);
  assert.equal(errorForCode(3).name, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(errorForCode(3).retriable, true);
  assert.equal(errorForCode(6).retriable, true);
  assert.equal(errorForCode(27).retriable, false); // REBALANCE_IN_PROGRESS: rejoin, not retry
  assert.equal(errorForCode(36).retriable, false);
  assert.equal(errorForCode(-1).name, 'UNKNOWN_SERVER_ERROR');
});

test('an unknown code keeps its number instead of pretending to be another error', () => {
  const info = errorForCode(9999);
  assert.equal(info.code, 9999);
  assert.equal(info.name, 'UNKNOWN_ERROR_CODE_9999');
  assert.equal(info.retriable, false);
});

test('KafkaError carries code, name and retriable; throwIfError throws only on errors', () => {
  const e = new KafkaError(ErrorCode.NOT_COORDINATOR, 'group g');
  assert.ok(e instanceof Error);
  assert.equal(e.code, 16);
  assert.equal(e.errorName, 'NOT_COORDINATOR');
  assert.equal(e.retriable, true);
  assert.match(e.message, /^NOT_COORDINATOR: group g$/);
  assert.doesNotThrow(() => throwIfError(0));
  assert.throws(() => throwIfError(ErrorCode.TOPIC_ALREADY_EXISTS), (err: unknown) => err instanceof KafkaError && err.code === 36);
});
