import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchOffsets, ErrorCode, KafkaError, verifyBatchCrc, scanBatches } from '@sluice/protocol';
import { PartitionLog, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from '../src/partition-log.js';
import { batchOf, config, recordsIn, tempDir } from './helpers.js';

async function openLog(dir: string, overrides: Record<string, string> = {}, extra: Partial<Parameters<typeof PartitionLog.open>[0]> = {}) {
  return PartitionLog.open({ dir, topic: 't', partition: 0, config: config(overrides), ...extra });
}

function isKafkaError(code: number) {
  return (e: unknown) => e instanceof KafkaError && e.code === code;
}

describe('PartitionLog append and read', () => {
  it('assigns consecutive offsets and reads back the same bytes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir);
      const r1 = await log.appendAsLeader(batchOf(3, { tag: 'a' }));
      const r2 = await log.appendAsLeader(batchOf(2, { tag: 'b' }));
      assert.equal(r1.baseOffset, 0n);
      assert.equal(r1.lastOffset, 2n);
      assert.equal(r2.baseOffset, 3n);
      assert.equal(r2.lastOffset, 4n);
      assert.equal(r1.logAppendTime, -1n);
      assert.equal(log.logEndOffset, 5n);
      const read = await log.read(0n, 1 << 20);
      const recs = recordsIn(read.records);
      assert.deepEqual(recs.map((r) => r.offset), [0n, 1n, 2n, 3n, 4n]);
      assert.deepEqual(recs.map((r) => r.value!.toString()), ['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
      assert.equal(read.nextOffset, 5n);
      assert.equal(read.logEndOffset, 5n);
      // Batch-aligned: reading offset 4 returns the whole second batch.
      const mid = await log.read(4n, 1 << 20);
      assert.equal(mid.records.readBigInt64BE(0), 3n);
      const end = await log.read(5n, 1 << 20);
      assert.equal(end.records.length, 0);
      await assert.rejects(log.read(6n, 100), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('accepts several batches in one append and many concurrent appends', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir);
      const multi = Buffer.concat([batchOf(2), batchOf(3), batchOf(1)]);
      const r = await log.appendAsLeader(multi);
      assert.deepEqual([r.baseOffset, r.lastOffset, r.batchCount], [0n, 5n, 3]);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.appendAsLeader(batchOf(1 + (i % 3), { tag: `c${i}` }))));
      let expected = 6n;
      for (const [i, res] of results.entries()) {
        assert.equal(res.baseOffset, expected, `append ${i}`);
        expected = res.lastOffset + 1n;
      }
      const all = recordsIn((await log.read(0n, 1 << 22)).records);
      assert.equal(BigInt(all.length), expected);
      all.forEach((rec, i) => assert.equal(rec.offset, BigInt(i)));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('rejects corrupt, oversized and malformed input without changing the log', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'max.message.bytes': '2000' });
      const bad = batchOf(2);
      bad[bad.length - 1] ^= 0xff;
      await assert.rejects(log.appendAsLeader(bad), isKafkaError(ErrorCode.CORRUPT_MESSAGE));
      await assert.rejects(log.appendAsLeader(batchOf(1).subarray(0, 70)), isKafkaError(ErrorCode.CORRUPT_MESSAGE));
      await assert.rejects(log.appendAsLeader(batchOf(1, { valueBytes: 3000 })), isKafkaError(ErrorCode.MESSAGE_TOO_LARGE));
      await assert.rejects(log.appendAsLeader(Buffer.alloc(0)), isKafkaError(ErrorCode.INVALID_RECORD));
      assert.equal(log.logEndOffset, 0n);
      const ok = await log.appendAsLeader(batchOf(1));
      assert.equal(ok.baseOffset, 0n);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('drops a corrupt batch found mid-group and keeps the others contiguous', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '600' });
      const batches = Array.from({ length: 12 }, (_, i) => batchOf(2, { tag: `g${i}` }));
      batches[3][batches[3].length - 2] ^= 0x01;
      batches[8][70] ^= 0x10;
      const settled = await Promise.allSettled(batches.map((b) => log.appendAsLeader(b)));
      const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<{ baseOffset: bigint }>).value.baseOffset);
      assert.deepEqual(settled.map((s) => s.status === 'rejected'), batches.map((_, i) => i === 3 || i === 8));
      for (const s of settled) if (s.status === 'rejected') assert.ok(isKafkaError(ErrorCode.CORRUPT_MESSAGE)(s.reason));
      assert.deepEqual(ok, Array.from({ length: 10 }, (_, i) => BigInt(2 * i)));
      let next = 0n;
      const tags: string[] = [];
      while (next < log.logEndOffset) {
        const r = await log.read(next, 1 << 20);
        tags.push(...recordsIn(r.records).filter((x) => x.offsetDelta === 0).map((x) => x.value!.toString()));
        next = r.nextOffset;
      }
      assert.deepEqual(tags, ['g0-0', 'g1-0', 'g2-0', 'g4-0', 'g5-0', 'g6-0', 'g7-0', 'g9-0', 'g10-0', 'g11-0']);
      const sizes = log.segments.reduce((n, s) => n + s.size, 0);
      const { stat } = await import('node:fs/promises');
      let onDisk = 0;
      for (const s of log.segments) onDisk += (await stat(s.logPath)).size;
      assert.equal(onDisk, sizes, 'no bytes of the rejected batches left in the files');
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('stamps LogAppendTime into the batch and keeps the CRC valid', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const now = 1_700_000_000_000;
      const log = await openLog(dir, { 'message.timestamp.type': 'LogAppendTime' }, { now: () => now });
      const r = await log.appendAsLeader(batchOf(2, { timestamp: 5n }));
      assert.equal(r.logAppendTime, BigInt(now));
      const { records } = await log.read(0n, 1 << 20);
      assert.ok(verifyBatchCrc(records, 0));
      assert.equal(records.readBigInt64BE(BatchOffsets.maxTimestamp), BigInt(now));
      assert.deepEqual(recordsIn(records).map((x) => x.timestamp), [BigInt(now), BigInt(now)]);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('enforces message.timestamp.before.max.ms for CreateTime', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const now = 1_700_000_000_000;
      const log = await openLog(dir, { 'message.timestamp.before.max.ms': '1000', 'message.timestamp.after.max.ms': '1000' }, { now: () => now });
      await assert.rejects(log.appendAsLeader(batchOf(1, { timestamp: BigInt(now - 5000) })), isKafkaError(ErrorCode.INVALID_TIMESTAMP));
      await assert.rejects(log.appendAsLeader(batchOf(1, { timestamp: BigInt(now + 5000) })), isKafkaError(ErrorCode.INVALID_TIMESTAMP));
      await log.appendAsLeader(batchOf(1, { timestamp: BigInt(now - 10) }));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('reads at every offset of a multi-segment log, batch-aligned, with byte limits', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '1000', 'index.interval.bytes': '200' });
      const sizes: number[] = [];
      for (let i = 0; i < 60; i++) sizes.push(1 + (i % 4));
      for (const [i, n] of sizes.entries()) await log.appendAsLeader(batchOf(n, { tag: `b${i}`, valueBytes: 20 }));
      assert.ok(log.segments.length > 5, `expected several segments, got ${log.segments.length}`);
      const names = (await readdir(dir)).filter((n) => n.endsWith('.log'));
      assert.equal(names.length, log.segments.length);
      assert.match(names[0], /^0{20}\.log$/);
      const end = log.logEndOffset;
      for (let off = 0n; off < end; off++) {
        const r = await log.read(off, 1);
        const recs = recordsIn(r.records);
        assert.ok(recs.length > 0, `offset ${off}`);
        assert.ok(recs[0].offset <= off && recs[recs.length - 1].offset >= off, `batch at ${off} must contain it`);
        assert.equal(scanBatches(r.records).batches.length, 1, 'maxBytes 1 with minOneBatch returns exactly one batch');
        assert.equal(r.nextOffset, recs[recs.length - 1].offset + 1n);
        const big = await log.read(off, 700);
        assert.ok(big.records.length <= 700);
        assert.equal(scanBatches(big.records).stoppedBy, null);
      }
      const none = await log.read(0n, 10, { minOneBatch: false });
      assert.equal(none.records.length, 0);
      const bounded = await log.read(0n, 1 << 20, { maxOffset: 3n });
      const boundedRecs = recordsIn(bounded.records);
      assert.ok(boundedRecs.every((r) => r.offset < 3n));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('answers ListOffsets queries by timestamp', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '500', 'index.interval.bytes': '0' });
      // Batch i holds timestamps 1000*i + [0..2].
      for (let i = 0; i < 20; i++) await log.appendAsLeader(batchOf(3, { timestamp: BigInt(1000 * (i + 1)) }));
      assert.ok(log.segments.length > 2);
      assert.deepEqual(await log.offsetForTimestamp(EARLIEST_TIMESTAMP), { timestamp: -1n, offset: 0n, leaderEpoch: -1 });
      assert.equal((await log.offsetForTimestamp(LATEST_TIMESTAMP))!.offset, 60n);
      const max = await log.offsetForTimestamp(MAX_TIMESTAMP);
      assert.deepEqual([max!.timestamp, max!.offset], [20002n, 59n]);
      for (let i = 0; i < 20; i++) {
        for (const d of [0, 1, 2]) {
          const ts = BigInt(1000 * (i + 1) + d);
          const found = await log.offsetForTimestamp(ts);
          assert.equal(found!.offset, BigInt(3 * i + d), `ts ${ts}`);
          assert.equal(found!.timestamp, ts);
        }
        const between = await log.offsetForTimestamp(BigInt(1000 * (i + 1) + 500));
        if (i < 19) assert.equal(between!.offset, BigInt(3 * (i + 1)));
        else assert.equal(between, null);
      }
      assert.equal((await log.offsetForTimestamp(0n))!.offset, 0n);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('a batch that cannot be decoded fails a timestamp lookup with CORRUPT_MESSAGE instead of finding nothing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const first = await openLog(dir);
      await first.appendAsLeader(batchOf(3, { timestamp: 5000n }));
      await first.close();
      // Garble the first record's length (CRC checks are skipped on a trusted, cleanly closed log).
      const fh = await open(join(dir, '00000000000000000000.log'), 'r+');
      await fh.write(Buffer.alloc(8, 0xff), 0, 8, BatchOffsets.recordCount + 4);
      await fh.close();
      const log = await openLog(dir, {}, { cleanShutdown: true });
      await assert.rejects(log.offsetForTimestamp(5001n), isKafkaError(ErrorCode.CORRUPT_MESSAGE));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('rolls on segment.ms, writes Kafka-format index files and trims them on roll', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 1_000_000;
      const log = await openLog(dir, { 'segment.ms': '1000', 'index.interval.bytes': '0' }, { now: () => now });
      await log.appendAsLeader(batchOf(2, { timestamp: BigInt(now) }));
      await log.appendAsLeader(batchOf(2, { timestamp: BigInt(now) }));
      now += 2000;
      await log.appendAsLeader(batchOf(2, { timestamp: BigInt(now) }));
      assert.equal(log.segments.length, 2);
      assert.equal(log.segments[1].baseOffset, 4n);
      const idx = await stat(join(dir, '00000000000000000000.index'));
      assert.equal(idx.size, 8, 'one entry (the second batch), trimmed');
      const tidx = await stat(join(dir, '00000000000000000000.timeindex'));
      assert.equal(tidx.size % 12, 0);
      const active = await stat(join(dir, '00000000000000000004.index'));
      assert.equal(active.size, 10 * 1024 * 1024, 'active index preallocated like Kafka');
      await log.close();
      assert.equal((await stat(join(dir, '00000000000000000004.index'))).size, 0);
    } finally {
      await cleanup();
    }
  });

  it('rolls when the offset index is full, and not on every append of old-timestamped data', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.index.bytes': '32', 'index.interval.bytes': '0', 'segment.ms': '1000' });
      // 4 entries fit; the first batch of a segment gets none, so a segment holds 5 batches.
      for (let i = 0; i < 12; i++) await log.appendAsLeader(batchOf(1, { timestamp: 1000n }));
      assert.deepEqual(log.segments.map((s) => s.baseOffset), [0n, 5n, 10n]);
      const log2dir = join(dir, 'old');
      await import('node:fs/promises').then((fs) => fs.mkdir(log2dir));
      const old = await openLog(log2dir, { 'segment.ms': '1000' });
      for (let i = 0; i < 10; i++) await old.appendAsLeader(batchOf(1, { timestamp: 5000n }));
      assert.equal(old.segments.length, 1, 'data stamped long ago does not make every append roll');
      await old.appendAsLeader(batchOf(1, { timestamp: 7000n }));
      assert.equal(old.segments.length, 2, 'but 2 s of record time past the first batch does');
      await old.close();
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('fsyncs after flush.messages messages and reports the recovery point', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'flush.messages': '10' });
      await log.appendAsLeader(batchOf(4));
      await log.appendAsLeader(batchOf(4));
      assert.equal(log.recoveryPoint, 0n);
      assert.equal(log.unflushedMessageCount, 8);
      await log.appendAsLeader(batchOf(4));
      assert.equal(log.recoveryPoint, 12n, 'the append crossing flush.messages waited for an fsync');
      await log.appendAsLeader(batchOf(1));
      await log.flush();
      assert.equal(log.recoveryPoint, 13n);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('moves the log start offset with deleteRecordsBefore and deletes covered segments', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '400' });
      for (let i = 0; i < 20; i++) await log.appendAsLeader(batchOf(2));
      const segs = log.segments.length;
      assert.ok(segs > 3);
      const cut = log.segments[2].baseOffset + 1n;
      await log.deleteRecordsBefore(cut);
      assert.equal(log.logStartOffset, cut);
      assert.equal(log.segments.length, segs - 2);
      await assert.rejects(log.read(cut - 1n, 100), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
      const r = await log.read(cut, 1 << 20);
      assert.ok(recordsIn(r.records).some((x) => x.offset === cut));
      await assert.rejects(log.deleteRecordsBefore(log.logEndOffset + 1n), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('truncates to an offset across segments and keeps appending from there', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '400' });
      await log.assignLeaderEpoch(1, 0n);
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batchOf(2), { leaderEpoch: 1 });
      await log.assignLeaderEpoch(2);
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batchOf(2), { leaderEpoch: 2 });
      log.highWatermark = 40n;
      assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 20n });
      assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 40n });
      await log.truncateTo(13n); // inside the batch [12, 13]: that batch goes too
      assert.equal(log.logEndOffset, 12n);
      assert.equal(log.highWatermark, 12n);
      assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 12n });
      const r = await log.appendAsLeader(batchOf(1), { leaderEpoch: 3 });
      assert.equal(r.baseOffset, 12n);
      const recs = recordsIn((await log.read(0n, 1 << 20)).records);
      // Reads return one segment at a time; collect all.
      let next = 0n;
      const all = [];
      while (next < log.logEndOffset) {
        const chunk = await log.read(next, 1 << 20);
        all.push(...recordsIn(chunk.records));
        next = chunk.nextOffset;
      }
      assert.deepEqual(all.map((x) => x.offset), Array.from({ length: 13 }, (_, i) => BigInt(i)));
      assert.ok(recs.length > 0);
      assert.equal(log.endOffsetForEpoch(3).endOffset, 13n);
      await log.close();
      const reopened = await openLog(dir, { 'segment.bytes': '400' });
      assert.equal(reopened.logEndOffset, 13n);
      assert.deepEqual(reopened.leaderEpochCache.all.map((e) => e.epoch), [1, 3]);
      await reopened.close();
    } finally {
      await cleanup();
    }
  });

  it('sequential and tailing reads continue where the last read stopped, also after truncation rewrites the tail', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'index.interval.bytes': '1' });
      for (let i = 0; i < 6; i++) await log.appendAsLeader(batchOf(2, { tag: `a${i}` }));
      // Sequential reads of two batches at a time see every record once, in order.
      const values: string[] = [];
      let next = 0n;
      while (next < log.logEndOffset) {
        const r = await log.read(next, 1);
        values.push(...recordsIn(r.records).map((x) => x.value!.toString()));
        next = r.nextOffset;
      }
      assert.deepEqual(values, ['a0-0', 'a0-1', 'a1-0', 'a1-1', 'a2-0', 'a2-1', 'a3-0', 'a3-1', 'a4-0', 'a4-1', 'a5-0', 'a5-1']);
      // A tailing reader at the end gets nothing, then exactly the next append.
      assert.equal((await log.read(12n, 1 << 20)).records.length, 0);
      await log.appendAsLeader(batchOf(1, { tag: 'tail' }));
      assert.deepEqual(recordsIn((await log.read(12n, 1 << 20)).records).map((x) => x.value!.toString()), ['tail-0']);
      // Truncation moves positions: reads that stopped at offsets 6 and 13 must not reuse them.
      await log.read(4n, 1); // stops at 6
      await log.truncateTo(4n);
      await log.appendAsLeader(batchOf(3, { tag: 'b' })); // 4..6
      await log.appendAsLeader(batchOf(3, { tag: 'c' })); // 7..9
      assert.deepEqual(recordsIn((await log.read(6n, 1)).records).map((x) => `${x.offset}=${x.value!.toString()}`), ['4=b-0', '5=b-1', '6=b-2']);
      assert.deepEqual(recordsIn((await log.read(7n, 1 << 20)).records).map((x) => `${x.offset}=${x.value!.toString()}`), ['7=c-0', '8=c-1', '9=c-2']);
      assert.equal(log.logEndOffset, 10n);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('follower appends keep offsets and record batch leader epochs', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir);
      const b = batchOf(3);
      b.writeBigInt64BE(0n, 0);
      b.writeInt32BE(7, BatchOffsets.partitionLeaderEpoch);
      const r = await log.appendAsFollower(b);
      assert.deepEqual([r.baseOffset, r.lastOffset], [0n, 2n]);
      const again = batchOf(1);
      again.writeBigInt64BE(1n, 0);
      await assert.rejects(log.appendAsFollower(again), isKafkaError(ErrorCode.INVALID_RECORD));
      assert.deepEqual(log.leaderEpochCache.all, [{ epoch: 7, startOffset: 0n }]);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('groups fsyncs for concurrent durable appends', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'flush.messages': '1' });
      const results = await Promise.all(Array.from({ length: 200 }, () => log.appendAsLeader(batchOf(1))));
      assert.equal(results.length, 200);
      assert.equal(log.recoveryPoint, 200n, 'every acknowledged append is covered by an fsync');
      assert.equal(log.unflushedMessageCount, 0);
      await log.close();
    } finally {
      await cleanup();
    }
  });
});

describe('PartitionLog retention', () => {
  it('deletes segments past retention.ms, including an expired active segment', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let now = 10_000_000;
      const log = await openLog(dir, { 'segment.bytes': '300', 'retention.ms': '5000' }, { now: () => now });
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batchOf(2, { timestamp: BigInt(now - 10_000 + i * 1000) }));
      // Timestamps run now-10000 .. now-1000; segments whose newest record is older than now-5000 go.
      const deleted = await log.deleteExpiredSegments();
      assert.ok(deleted > 0);
      for (const seg of log.segments) if (!seg.isEmpty) assert.ok(seg.maxTimestamp >= BigInt(now - 5000));
      assert.equal(log.logStartOffset, log.segments[0].baseOffset);
      now += 100_000;
      await log.deleteExpiredSegments();
      assert.equal(log.segments.length, 1);
      assert.ok(log.activeSegment.isEmpty);
      assert.equal(log.logStartOffset, 20n);
      assert.equal(log.logEndOffset, 20n);
      const r = await log.appendAsLeader(batchOf(1, { timestamp: BigInt(now) }));
      assert.equal(r.baseOffset, 20n);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('deletes the oldest segments beyond retention.bytes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '300', 'retention.bytes': '1000' });
      for (let i = 0; i < 30; i++) await log.appendAsLeader(batchOf(2));
      const before = log.sizeInBytes;
      assert.ok(before > 1000);
      await log.deleteExpiredSegments();
      // Kafka's rule: drop the oldest segment only while what remains is still >= retention.bytes.
      assert.ok(log.sizeInBytes >= 1000, `size ${log.sizeInBytes}`);
      assert.ok(log.sizeInBytes - log.segments[0].size < 1000, 'deletes every segment it may');
      assert.ok(log.sizeInBytes < before);
      assert.equal(log.logStartOffset, log.segments[0].baseOffset);
      await log.close();
    } finally {
      await cleanup();
    }
  });

  it('leaves compact-only topics to the cleaner', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': '300', 'retention.bytes': '100', 'cleanup.policy': 'compact' });
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batchOf(2, { key: (k) => `k${k}` }));
      assert.equal(await log.deleteExpiredSegments(), 0);
      await log.close();
    } finally {
      await cleanup();
    }
  });
});
