/**
 * `sluice transactions` against a broker with a transaction left open by our producer: list,
 * describe, describe-producers, find-hanging, then abort by start offset — after which the last
 * stable offset moves past the aborted records.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, Producer } from '@sluice/client';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startTestBroker();
});
after(() => tb.stop());
const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

test('transactions: list, describe, describe-producers, find-hanging and abort a hanging transaction', { timeout: 60_000 }, async (t) => {
  assert.equal((await run('topics', ['--create', '--topic', 'tx-cli', ...bs(), '--partitions', '1'])).code, 0);
  const producer = new Producer({ brokers: [tb.bootstrap], transactionalId: 'cli-tx' });
  t.after(() => producer.close().catch(() => undefined));
  await producer.initTransactions();
  producer.beginTransaction();
  await producer.sendBatch([{ topic: 'tx-cli', partition: 0, value: 'a' }, { topic: 'tx-cli', partition: 0, value: 'b' }]);

  const listed = await run('transactions', [...bs(), 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ transactionalId: string; state: string }>).map((r) => [r.transactionalId, r.state]), [['cli-tx', 'Ongoing']]);
  const table = await run('transactions', [...bs(), '--list']);
  assert.match(table.stdout, /^TransactionalId\s+Coordinator\s+ProducerId\s+TransactionState\ncli-tx\s+1\s+\d+\s+Ongoing\n$/);

  const described = await run('transactions', [...bs(), 'describe', '--transactional-id', 'cli-tx', '--json']);
  assert.equal(described.code, 0, described.stderr);
  const d = JSON.parse(described.stdout) as { transactionState: string; topicPartitions: string[] };
  assert.equal(d.transactionState, 'Ongoing');
  assert.deepEqual(d.topicPartitions, ['tx-cli-0']);
  const missing = await run('transactions', [...bs(), 'describe', '--transactional-id', 'nope']);
  assert.notEqual(missing.code, 0);

  const producers = await run('transactions', [...bs(), 'describe-producers', '--topic', 'tx-cli', '--partition', '0', '--json']);
  assert.equal(producers.code, 0, producers.stderr);
  assert.equal((JSON.parse(producers.stdout) as Array<{ currentTransactionStartOffset: number }>)[0].currentTransactionStartOffset, 0);

  const hanging = await run('transactions', [...bs(), 'find-hanging', '--broker-id', '1', '--max-transaction-timeout', '0', '--json']);
  assert.equal(hanging.code, 0, hanging.stderr);
  assert.deepEqual((JSON.parse(hanging.stdout) as Array<{ topic: string; startOffset: string }>).map((h) => [h.topic, h.startOffset]), [['tx-cli', '0']]);

  const admin = new Admin({ brokers: [tb.bootstrap] });
  t.after(() => admin.close());
  assert.equal((await admin.listOffsets('tx-cli', -1n, [0], 1))[0].offset, 0n, 'the open transaction holds the LSO at its first offset');
  const aborted = await run('transactions', [...bs(), 'abort', '--topic', 'tx-cli', '--partition', '0', '--start-offset', '0']);
  assert.equal(aborted.code, 0, aborted.stderr);
  assert.equal((await admin.listOffsets('tx-cli', -1n, [0], 1))[0].offset, 3n, 'the abort marker releases the LSO');
  assert.equal((await run('transactions', [...bs(), 'frobnicate'])).code === 0, false);

  // dump-log decodes the abort marker and the coordinator's __transaction_state records.
  const marker = await run('dump-log', ['--files', join(tb.dataDir, 'tx-cli-0', '00000000000000000000.log'), '--deep-iteration']);
  assert.match(marker.stdout, /isTransactional: true isControl: true[^\n]*\n\| offset: 2 [^\n]*endTxnMarker: ABORT coordinatorEpoch: 0/);
  const stateDir = readdirSync(tb.dataDir).filter((d) => d.startsWith('__transaction_state-')).map((d) => join(tb.dataDir, d, '00000000000000000000.log')).find((f) => statSync(f).size > 0);
  assert.ok(stateDir, 'a __transaction_state segment holds the transaction');
  const state = await run('dump-log', ['--files', stateDir, '--transaction-log-decoder']);
  assert.equal(state.code, 0, state.stderr);
  assert.match(state.stdout, /key: \{"transactionalId":"cli-tx"\} payload: \{"producerId":\d+,"producerEpoch":0,"state":"Ongoing","partitions":\["tx-cli-0"\]/);
});
