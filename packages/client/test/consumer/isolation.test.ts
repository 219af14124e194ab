/** isolation.level against a scripted fetch holding an aborted and a committed transaction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildControlBatch, buildRecordBatch } from '@sluice/protocol';
import { Consumer } from '../../src/index.js';
import { startScriptedCluster } from '../scripted-broker.js';

function log(): Buffer {
  const txn = (producerId: bigint, baseOffset: bigint, values: string[]) =>
    buildRecordBatch(values.map((v) => ({ value: Buffer.from(v) })), { baseOffset, producerId, producerEpoch: 0, baseSequence: 0, isTransactional: true });
  return Buffer.concat([
    txn(7n, 0n, ['aborted-1', 'aborted-2']),
    txn(8n, 2n, ['committed-1', 'committed-2']),
    buildControlBatch('abort', { producerId: 7n, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 4n }),
    buildControlBatch('commit', { producerId: 8n, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 5n }),
    buildRecordBatch([{ value: Buffer.from('plain') }], { baseOffset: 6n }),
  ]);
}

async function read(isolationLevel: 'read_committed' | 'read_uncommitted', expected: number): Promise<string[]> {
  const cluster = await startScriptedCluster({});
  cluster.fetchOverride.set(0, { records: log(), abortedTransactions: [{ producerId: 7n, firstOffset: 0n }], highWatermark: 7n, lastStableOffset: 7n });
  const consumer = new Consumer({ brokers: [cluster.bootstrap], autoOffsetReset: 'earliest', isolationLevel, fetchMaxWaitMs: 100 });
  try {
    await consumer.assign([{ topic: 't', partition: 0 }]);
    const seen: string[] = [];
    for await (const r of consumer) {
      seen.push(`${r.offset}:${r.value!.toString()}`);
      if (seen.length === expected) break;
    }
    return seen;
  } finally {
    await consumer.close();
    await cluster.close();
  }
}

test('read_committed drops aborted transactions and control records; read_uncommitted drops only control records', { timeout: 60_000 }, async () => {
  assert.deepEqual(await read('read_committed', 3), ['2:committed-1', '3:committed-2', '6:plain']);
  assert.deepEqual(await read('read_uncommitted', 5), ['0:aborted-1', '1:aborted-2', '2:committed-1', '3:committed-2', '6:plain']);
});
