/**
 * Third-party transactional clients against the broker: confluent-kafka (librdkafka) commits,
 * aborts, sends offsets in a transaction, gets fenced as a zombie, and has a transaction left open
 * aborted after its timeout; read_committed consumers see exactly the committed records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pythonPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';

const PYTHON = pythonPath();
const script = (name: string) => fileURLToPath(new URL(`../../../test/clients/${name}`, import.meta.url));

test('confluent-kafka: transactions commit/abort, read_committed, offsets, fencing, timeout', { timeout: 180_000 }, async (t) => {
  if (!requirePeers(t, 'python3-confluent-kafka')) return;
  const tb = await startTestBroker({ 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500 });
  t.after(() => tb.dispose());
  const result = await run(PYTHON, [script('confluent_kafka_transactions.py'), tb.bootstrap], { timeoutMs: 170_000 });
  assert.equal(result.code, 0, `confluent-kafka transactions failed:\n${result.stdout}\n${result.stderr}`);
  for (const step of ['commit/abort: ok', 'send_offsets_to_transaction: ok', 'fencing: ok', 'timeout abort: ok']) assert.match(result.stdout, new RegExp(step));
});
