import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, buildControlBatch, buildRecordBatch } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { config, tempDir } from './helpers.js';

function txn(producerId: bigint, seq: number, count: number, epoch = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`${producerId}-${seq + i}`) }));
  return buildRecordBatch(records, { producerId, producerEpoch: epoch, baseSequence: seq, isTransactional: true });
}

const marker = (type: 'commit' | 'abort', producerId: bigint, epoch = 0) => buildControlBatch(type, { producerId, producerEpoch: epoch, coordinatorEpoch: 0 });

describe('transaction state inside the log', () => {
  it('the LSO stops at the first open transaction; markers end them; aborted ones are listed; a reopened log rebuilds it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      await log.appendAsLeader(txn(1n, 0, 2)); // 0-1, producer 1
      await log.appendAsLeader(txn(2n, 0, 3)); // 2-4, producer 2
      await log.appendAsLeader(buildRecordBatch([{ value: Buffer.from('plain') }])); // 5
      const state = await log.transactionState();
      assert.equal(state.lastStableOffset(6n), 0n, 'producer 1 is open from offset 0');
      await log.appendAsLeader(marker('abort', 1n)); // 6
      assert.equal(state.lastStableOffset(7n), 2n, 'producer 2 still open from offset 2');
      await log.appendAsLeader(txn(1n, 2, 1)); // 7: a new transaction of producer 1
      await log.appendAsLeader(marker('commit', 2n)); // 8
      assert.equal(state.lastStableOffset(9n), 7n);
      await log.appendAsLeader(marker('commit', 1n)); // 9
      assert.equal(state.lastStableOffset(10n), 10n, 'nothing open: the LSO is the high watermark');
      assert.deepEqual(state.abortedIn(0n, 10n).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 0n, 6n]]);
      assert.deepEqual(state.abortedIn(7n, 10n), [], 'a fetch after the aborted range gets none');
      // A stale epoch is fenced by the abort marker written at a bumped epoch.
      await log.appendAsLeader(txn(3n, 0, 1, 4)); // 10
      await log.appendAsLeader(marker('abort', 3n, 5)); // 11
      await assert.rejects(log.appendAsLeader(txn(3n, 1, 1, 4)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PRODUCER_EPOCH);
      await log.appendAsLeader(txn(2n, 3, 1)); // 12: left open
      await log.close();

      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      const rebuilt = await reopened.transactionState();
      assert.equal(rebuilt.lastStableOffset(13n), 12n, 'the open transaction survives a restart');
      assert.deepEqual(rebuilt.abortedIn(0n, 13n).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 0n, 6n], [3n, 10n, 11n]]);
      await reopened.close();
    } finally {
      await cleanup();
    }
  });
});
