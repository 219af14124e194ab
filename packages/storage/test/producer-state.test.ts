import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, buildControlBatch, buildRecordBatch } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { config, tempDir } from './helpers.js';

const pid = 7n;

function idempotent(seq: number, count: number, epoch = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`s${seq + i}`) }));
  return buildRecordBatch(records, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
}

function isKafkaError(code: number) {
  return (e: unknown) => e instanceof KafkaError && e.code === code;
}

describe('producer state inside the log', () => {
  it('appendAsLeader answers a retry with its offsets and refuses gaps and stale epochs', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 'p', partition: 0, config: config() });
      const first = await log.appendAsLeader(idempotent(0, 3));
      assert.equal(first.duplicate, false);
      const retry = await log.appendAsLeader(idempotent(0, 3));
      assert.equal(retry.duplicate, true);
      assert.deepEqual([retry.baseOffset, retry.lastOffset], [first.baseOffset, first.lastOffset]);
      assert.equal(log.logEndOffset, 3n, 'the retry was not appended');
      await assert.rejects(log.appendAsLeader(idempotent(5, 1)), isKafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
      await log.appendAsLeader(idempotent(0, 1, 1));
      await assert.rejects(log.appendAsLeader(idempotent(1, 1, 0)), isKafkaError(ErrorCode.INVALID_PRODUCER_EPOCH));
      assert.equal(log.producerStateManager?.entry(pid)?.epoch, 1);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('a transaction marker from an older coordinator epoch than the last one is fenced, also after the state is rebuilt from the log', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const marker = (type: 'commit' | 'abort', coordinatorEpoch: number) => buildControlBatch(type, { producerId: pid, producerEpoch: 0, coordinatorEpoch });
      const txn = (seq: number) => buildRecordBatch([{ key: null, value: Buffer.from(`t${seq}`) }], { producerId: pid, producerEpoch: 0, baseSequence: seq, isTransactional: true });
      let log = await PartitionLog.open({ dir, topic: 'm', partition: 0, config: config() });
      await log.appendAsLeader(txn(0));
      await log.appendAsLeader(marker('commit', 5));
      await log.appendAsLeader(txn(1));
      await assert.rejects(log.appendAsLeader(marker('abort', 4)), isKafkaError(ErrorCode.TRANSACTION_COORDINATOR_FENCED));
      await log.appendAsLeader(marker('abort', 5));
      assert.equal(log.logEndOffset, 4n, 'the fenced marker was not written');
      await log.close();
      // The coordinator epoch is read back from the markers in the log.
      log = await PartitionLog.open({ dir, topic: 'm', partition: 0, config: config() });
      await log.appendAsLeader(txn(2));
      await assert.rejects(log.appendAsLeader(marker('commit', 3)), isKafkaError(ErrorCode.TRANSACTION_COORDINATOR_FENCED));
      await log.appendAsLeader(marker('commit', 6));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('follower appends keep it right, and truncation makes it rebuild from the log', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 'p', partition: 0, config: config() });
      await log.appendAsLeader(idempotent(0, 2)); // offsets 0-1, loads the state
      const replicated = idempotent(2, 2);
      replicated.writeBigInt64BE(2n, 0);
      await log.appendAsFollower(replicated); // offsets 2-3, the leader's
      const retry = await log.appendAsLeader(idempotent(2, 2));
      assert.equal(retry.duplicate, true, 'the follower-appended batch is known');
      assert.equal(retry.baseOffset, 2n);
      await log.truncateTo(2n);
      assert.equal(log.producerStateManager, null, 'dropped at truncation');
      // Rebuilt from what the log still holds: sequence 2 is next again, not a duplicate.
      const again = await log.appendAsLeader(idempotent(2, 2));
      assert.equal(again.duplicate, false);
      assert.equal(again.baseOffset, 2n);
      await log.close();
    } finally {
      await cleanup();
    }
  });
});
