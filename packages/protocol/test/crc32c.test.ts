import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32c, crc32cPortable, crc32cImplementation } from '../src/crc32c.js';

test('crc32c matches the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32cPortable(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('the native implementation is in use on this platform', () => {
  assert.equal(crc32cImplementation, 'native');
});

test('portable and native agree on random inputs of every small length and with continuation', () => {
  for (let len = 0; len < 300; len++) {
    const data = randomBytes(len);
    assert.equal(crc32cPortable(data), crc32c(data), `length ${len}`);
  }
  const data = randomBytes(100_000);
  const split = 33_333;
  const whole = crc32c(data);
  assert.equal(crc32c(data.subarray(split), crc32c(data.subarray(0, split))), whole);
  assert.equal(crc32cPortable(data.subarray(split), crc32cPortable(data.subarray(0, split))), whole);
});
