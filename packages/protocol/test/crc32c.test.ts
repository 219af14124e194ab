import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { crc32c, crc32cPortable, crc32cNodeRs, crc32cImplementation } from '../src/crc32c.js';

test('crc32c matches the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32cPortable(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('the interleaved SSE4.2 addon is built and in use on x64', { skip: process.arch !== 'x64' }, () => {
  assert.equal(crc32cImplementation, 'sse42', 'native/crc32c.c was not built by npm install (node-gyp), or did not load');
  assert.ok(crc32cNodeRs !== null, '@node-rs/crc32 loads as the second choice');
});

test('all implementations agree: every small length, the interleaving thresholds, unaligned views, continuation', () => {
  const impls: Array<[string, (d: Uint8Array, i?: number) => number]> = [['portable', crc32cPortable], ['chosen', crc32c]];
  if (crc32cNodeRs) impls.push(['node-rs', crc32cNodeRs]);
  const check = (data: Uint8Array, initial: number | undefined, what: string) => {
    const want = crc32cPortable(data, initial);
    for (const [name, fn] of impls) assert.equal(fn(data, initial), want, `${name}: ${what}`);
  };
  for (let len = 0; len < 300; len++) check(randomBytes(len), undefined, `length ${len}`);
  const big = randomBytes(1 << 20);
  for (const len of [1016, 1023, 1024, 1025, 1031, 3071, 3072, 3073, 4096 + 5, 65_536, 65_536 + 13, 1 << 20]) {
    check(big.subarray(0, len), undefined, `length ${len}`);
    check(big.subarray(3, 3 + len - 3), 0x12345678, `unaligned view of ${len - 3} with an initial value`);
  }
  const data = randomBytes(100_000);
  const whole = crc32c(data);
  for (const split of [1, 999, 33_333, 99_999]) {
    for (const [name, fn] of impls) assert.equal(fn(data.subarray(split), fn(data.subarray(0, split))), whole, `${name}: continued at ${split}`);
  }
});

test('SLUICE_CRC32C forces a slower implementation', () => {
  const url = new URL('../src/crc32c.js', import.meta.url).href;
  const probe = (value: string) =>
    execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); process.stdout.write(m.crc32cImplementation + ' ' + m.crc32c(Buffer.from('123456789')).toString(16));`], {
      env: { ...process.env, SLUICE_CRC32C: value },
      encoding: 'utf8',
    });
  assert.equal(probe('portable'), 'portable e3069283');
  if (crc32cNodeRs) assert.equal(probe('node-rs'), 'node-rs e3069283');
});
