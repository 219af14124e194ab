/** errors.retry.timeout: retriable failures are retried with backoff until the deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetriableError } from '../src/index.js';
import { ErrorHandler, type ErrorHandlingOptions } from '../src/runtime/error-handler.js';

function handler(overrides: Partial<ErrorHandlingOptions>): { h: ErrorHandler; logs: string[] } {
  const logs: string[] = [];
  const h = new ErrorHandler({ connector: 'c', taskId: 0, tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 60_000, logEnable: true, logIncludeMessages: false, dlqTopic: '', dlqContextHeaders: false, dlq: null, log: (l) => logs.push(l), ...overrides });
  return { h, logs };
}

test('a retriable error is retried within errors.retry.timeout and then succeeds', async () => {
  const { h } = handler({ retryTimeoutMs: 5000, retryDelayMaxMs: 50 });
  let calls = 0;
  const out = await h.execute('TASK_PUT', 'X', () => {
    if (++calls < 4) throw new RetriableError('busy');
    return 'done';
  }, null);
  assert.deepEqual(out, { ok: true, value: 'done' });
  assert.equal(calls, 4);
});

test('past errors.retry.timeout (or for a non-retriable error) tolerance decides: none fails, all skips and logs', async () => {
  const { h } = handler({ retryTimeoutMs: 200, retryDelayMaxMs: 50 });
  let calls = 0;
  const started = Date.now();
  await assert.rejects(h.execute('TASK_PUT', 'X', () => { calls++; throw new RetriableError('still busy'); }, null), /Tolerance exceeded in error handler: still busy/);
  assert.ok(calls >= 2 && Date.now() - started >= 200, `retried until the deadline (${calls} calls)`);
  const { h: tolerant, logs } = handler({ tolerance: 'all' });
  let once = 0;
  assert.deepEqual(await tolerant.execute('TRANSFORMATION', 'Y', () => { once++; throw new Error('bad'); }, { topic: 't', partition: 1, offset: 5n, key: null, value: null, headers: [] }), { ok: false });
  assert.equal(once, 1, 'a non-retriable error is not retried');
  assert.equal(tolerant.skipped, 1);
  assert.match(logs[0], /Error encountered in task c-0\. Executing stage 'TRANSFORMATION' with class 'Y', where consumed record is \{topic='t', partition=1, offset=5\}\. Error: bad/);
});
