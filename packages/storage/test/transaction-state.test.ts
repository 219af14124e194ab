import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, KafkaError, buildControlBatch, buildRecordBatch } from '@sluice/protocol';
import { PartitionLog } from '../src/partition-log.js';
import { CorruptSnapshotError, decodeProducerSnapshot } from '../src/producer-snapshot.js';
import { TXN_INDEX_ENTRY_SIZE, decodeAbortedTxns } from '../src/transaction-index.js';
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
      assert.deepEqual((await log.abortedTransactions(0n, 10n)).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 0n, 6n]]);
      assert.deepEqual(await log.abortedTransactions(7n, 10n), [], 'a fetch after the aborted range gets none');
      // A stale epoch is fenced by the abort marker written at a bumped epoch.
      await log.appendAsLeader(txn(3n, 0, 1, 4)); // 10
      await log.appendAsLeader(marker('abort', 3n, 5)); // 11
      await assert.rejects(log.appendAsLeader(txn(3n, 1, 1, 4)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PRODUCER_EPOCH);
      await log.appendAsLeader(txn(2n, 3, 1)); // 12: left open
      await log.close();

      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      const rebuilt = await reopened.transactionState();
      assert.equal(rebuilt.lastStableOffset(13n), 12n, 'the open transaction survives a restart');
      assert.deepEqual((await reopened.abortedTransactions(0n, 13n)).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 0n, 6n], [3n, 10n, 11n]]);
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('aborts go to the .txnindex of the segment holding the marker, in Kafka\'s 34-byte layout, and a fetch range collects them across segments', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      await log.appendAsLeader(txn(1n, 0, 2)); // 0-1
      await log.roll();
      await log.appendAsLeader(txn(2n, 0, 1)); // 2, open across the abort of producer 1
      await log.appendAsLeader(marker('abort', 1n)); // 3: in segment 2
      await log.appendAsLeader(marker('commit', 2n)); // 4
      await log.roll();
      await log.appendAsLeader(txn(4n, 0, 1)); // 5
      await log.appendAsLeader(marker('abort', 4n)); // 6: in segment 5
      const files = await readdir(dir);
      assert.ok(!files.includes('00000000000000000000.txnindex'), 'no abort marker in the first segment: no index entry there');
      const bytes = await readFile(join(dir, '00000000000000000002.txnindex'));
      assert.equal(bytes.length, TXN_INDEX_ENTRY_SIZE);
      assert.equal(bytes.readInt16BE(0), 0, 'version 0');
      assert.equal(bytes.readBigInt64BE(2), 1n, 'producer id');
      assert.equal(bytes.readBigInt64BE(10), 0n, 'first offset, in the earlier segment');
      assert.equal(bytes.readBigInt64BE(18), 3n, 'last offset: the marker');
      assert.equal(bytes.readBigInt64BE(26), 2n, 'LSO then: producer 2 was still open from offset 2');
      assert.deepEqual((await log.abortedTransactions(0n, 7n)).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[1n, 0n, 3n], [4n, 5n, 6n]]);
      assert.deepEqual((await log.abortedTransactions(1n, 2n)).map((a) => a.producerId), [1n], 'a fetch inside the first segment still finds the abort indexed in the second');
      assert.deepEqual((await log.abortedTransactions(4n, 5n)).map((a) => a.producerId), [], 'nothing aborted overlaps [4, 5)');
      // Truncation below the second abort removes its entry.
      await log.truncateTo(6n);
      assert.deepEqual((await log.abortedTransactions(0n, 7n)).map((a) => a.lastOffset), [3n]);
      assert.deepEqual(decodeAbortedTxns(await readFile(join(dir, '00000000000000000005.txnindex'))).entries, []);
      // Retention that deletes the segment deletes its index.
      await log.deleteRecordsBefore(5n);
      assert.ok(!(await readdir(dir)).includes('00000000000000000002.txnindex'));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('a producer snapshot at close restores producers and open transactions without reading the log', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      await log.appendAsLeader(txn(7n, 0, 3, 2)); // 0-2, producer 7 epoch 2, left open
      await log.appendAsLeader(buildRecordBatch([{ value: Buffer.from('idem') }], { producerId: 8n, producerEpoch: 0, baseSequence: 0 })); // 3
      await log.appendAsLeader(buildRecordBatch([{ value: Buffer.from('idem') }, { value: Buffer.from('idem') }], { producerId: 8n, producerEpoch: 0, baseSequence: 1 })); // 4-5
      await log.close();
      const snapshots = (await readdir(dir)).filter((n) => n.endsWith('.snapshot'));
      assert.deepEqual(snapshots, ['00000000000000000006.snapshot'], 'one snapshot, named by the log end offset');
      const entries = decodeProducerSnapshot(await readFile(join(dir, snapshots[0]))).sort((a, b) => Number(a.producerId - b.producerId) || Number(a.lastOffset - b.lastOffset));
      assert.deepEqual(
        entries.map((e) => [e.producerId, e.epoch, e.lastSequence, e.lastOffset, e.offsetDelta, e.currentTxnFirstOffset]),
        [
          [7n, 2, 2, 2n, 2, 0n],
          [8n, 0, 0, 3n, 0, -1n],
          [8n, 0, 2, 5n, 1, -1n],
        ],
        'one entry per retained batch, oldest first (a Kafka reader keeps the last, the newest)',
      );

      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(), cleanShutdown: true });
      let reads = 0;
      const read = reopened.read.bind(reopened);
      reopened.read = (...args: Parameters<typeof read>) => {
        reads++;
        return read(...args);
      };
      assert.equal((await reopened.transactionState()).lastStableOffset(6n), 0n, 'the open transaction comes from the snapshot');
      // A retry of producer 8's last batch is recognised; its next batch continues the sequence.
      const retry = await reopened.appendAsLeader(buildRecordBatch([{ value: Buffer.from('idem') }, { value: Buffer.from('idem') }], { producerId: 8n, producerEpoch: 0, baseSequence: 1 }));
      assert.equal(retry.duplicate, true);
      assert.equal(retry.baseOffset, 4n);
      const older = await reopened.appendAsLeader(buildRecordBatch([{ value: Buffer.from('idem') }], { producerId: 8n, producerEpoch: 0, baseSequence: 0 }));
      assert.deepEqual([older.duplicate, older.baseOffset], [true, 3n], 'an older retained batch is recognised too');
      await assert.rejects(reopened.appendAsLeader(buildRecordBatch([{ value: Buffer.from('gap') }], { producerId: 8n, producerEpoch: 0, baseSequence: 9 })), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      await assert.rejects(reopened.appendAsLeader(txn(7n, 3, 1, 1)), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PRODUCER_EPOCH, 'the epoch comes from the snapshot');
      assert.equal(reads, 0, 'nothing was replayed: the snapshot is at the log end');
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('after a crash, snapshots past the recovered end are dropped and an abort the index lost is indexed again', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      await log.appendAsLeader(txn(1n, 0, 2)); // 0-1
      await log.appendAsLeader(marker('commit', 1n)); // 2
      assert.equal(await log.takeProducerSnapshot(), 3n);
      await log.appendAsLeader(txn(2n, 0, 2)); // 3-4
      await log.appendAsLeader(marker('abort', 2n)); // 5
      await log.appendAsLeader(txn(3n, 0, 1)); // 6, open
      await log.flush();
      assert.equal(await log.takeProducerSnapshot(), 7n);
      // The crash: the last batch never reached the disk, the index lost its entry, and a snapshot
      // from before the loss names an offset the log no longer reaches.
      await log.close();
      const active = join(dir, '00000000000000000000.log');
      const data = await readFile(active);
      const lastBatch = data.length - txn(3n, 0, 1).length;
      await writeFile(active, data.subarray(0, lastBatch));
      await rm(join(dir, '00000000000000000000.txnindex'));
      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(), cleanShutdown: false, checkpoints: { recoveryPoint: 0n } });
      assert.equal(reopened.logEndOffset, 6n);
      assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.snapshot')), ['00000000000000000003.snapshot']);
      assert.deepEqual((await reopened.abortedTransactions(0n, 6n)).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[2n, 3n, 5n]]);
      assert.equal(decodeAbortedTxns(await readFile(join(dir, '00000000000000000000.txnindex'))).entries.length, 1, 'the entry is back on disk');
      assert.equal((await reopened.transactionState()).lastStableOffset(6n), 6n, 'the lost open transaction is not open any more');
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('a damaged snapshot is skipped for the older one', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config() });
      await log.appendAsLeader(txn(1n, 0, 2)); // 0-1 open
      assert.equal(await log.takeProducerSnapshot(), 2n);
      await log.appendAsLeader(txn(2n, 0, 1)); // 2 open
      await log.close();
      const newest = join(dir, '00000000000000000003.snapshot');
      const bytes = await readFile(newest);
      bytes[bytes.length - 1] ^= 0xff;
      await writeFile(newest, bytes);
      assert.throws(() => decodeProducerSnapshot(bytes), CorruptSnapshotError);
      const reopened = await PartitionLog.open({ dir, topic: 't', partition: 0, config: config(), cleanShutdown: true });
      const state = await reopened.transactionState();
      assert.deepEqual([...state.openTransactions()].sort(), [[1n, 0n], [2n, 2n]]);
      assert.ok(!(await readdir(dir)).includes('00000000000000000003.snapshot'), 'the damaged snapshot is deleted');
      await reopened.close();
    } finally {
      await cleanup();
    }
  });
});
