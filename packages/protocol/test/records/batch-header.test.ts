import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_HEADER_SIZE,
  BatchOffsets,
  batchSizeAt,
  computeBatchCrc,
  decodeAttributes,
  encodeAttributes,
  lastOffsetOf,
  readBatchHeader,
  scanBatches,
  setBaseOffset,
  setPartitionLeaderEpoch,
  stampLogAppendTime,
  verifyBatchCrc,
} from '../../src/records/batch-header.js';
import { buildRecordBatch } from '../../src/records/record-batch.js';
import { assertProtocolError } from './helpers.js';

function sampleBatch(baseOffset = 100n, count = 3): Buffer {
  return buildRecordBatch(
    Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value-${i}`), timestamp: 1_700_000_000_000n + BigInt(i) })),
    {
      baseOffset,
      partitionLeaderEpoch: 7,
      producerId: 4242n,
      producerEpoch: 3,
      baseSequence: 17,
      isTransactional: true,
    },
  );
}

describe('batch header', () => {
  it('reads every header field', () => {
    const batch = sampleBatch();
    const h = readBatchHeader(batch);
    assert.equal(h.baseOffset, 100n);
    assert.equal(h.batchLength, batch.length - 12);
    assert.equal(h.partitionLeaderEpoch, 7);
    assert.equal(h.magic, 2);
    assert.equal(h.crc, computeBatchCrc(batch));
    assert.deepEqual(decodeAttributes(h.attributes), {
      compression: 0,
      timestampType: 0,
      isTransactional: true,
      isControl: false,
      hasDeleteHorizon: false,
    });
    assert.equal(h.lastOffsetDelta, 2);
    assert.equal(h.baseTimestamp, 1_700_000_000_000n);
    assert.equal(h.maxTimestamp, 1_700_000_000_002n);
    assert.equal(h.producerId, 4242n);
    assert.equal(h.producerEpoch, 3);
    assert.equal(h.baseSequence, 17);
    assert.equal(h.recordCount, 3);
    assert.equal(batchSizeAt(batch), batch.length);
    assert.equal(lastOffsetOf(batch), 102n);
  });

  it('encodes and decodes every attribute bit', () => {
    for (let compression = 0; compression <= 4; compression++) {
      for (let bits = 0; bits < 16; bits++) {
        const a = {
          compression: compression as 0 | 1 | 2 | 3 | 4,
          timestampType: (bits & 1) as 0 | 1,
          isTransactional: (bits & 2) !== 0,
          isControl: (bits & 4) !== 0,
          hasDeleteHorizon: (bits & 8) !== 0,
        };
        const encoded = encodeAttributes(a);
        assert.equal(encoded, compression | ((bits & 1) << 3) | ((bits & 2) << 3) | ((bits & 4) << 3) | ((bits & 8) << 3));
        assert.deepEqual(decodeAttributes(encoded), a);
      }
    }
    assertProtocolError(() => decodeAttributes(5), 'invalid');
  });

  it('rejects a short header, a wrong magic and an impossible length', () => {
    const batch = sampleBatch();
    assertProtocolError(() => readBatchHeader(batch.subarray(0, 60)), 'truncated');
    const wrongMagic = Buffer.from(batch);
    wrongMagic[BatchOffsets.magic] = 1;
    assertProtocolError(() => readBatchHeader(wrongMagic), 'invalid');
    const shortLength = Buffer.from(batch);
    shortLength.writeInt32BE(10, BatchOffsets.batchLength);
    assertProtocolError(() => readBatchHeader(shortLength), 'invalid');
    assertProtocolError(() => batchSizeAt(Buffer.alloc(11)), 'truncated');
  });

  it('CRC verification catches any single flipped byte after the CRC field', () => {
    const batch = sampleBatch();
    assert.ok(verifyBatchCrc(batch));
    for (let i = BatchOffsets.attributes; i < batch.length; i++) {
      const damaged = Buffer.from(batch);
      damaged[i] ^= 0x01;
      assert.equal(verifyBatchCrc(damaged), false, `flip at byte ${i}`);
    }
    const damagedCrc = Buffer.from(batch);
    damagedCrc[BatchOffsets.crc] ^= 0x80;
    assert.equal(verifyBatchCrc(damagedCrc), false);
    assert.equal(verifyBatchCrc(batch.subarray(0, batch.length - 1)), false, 'incomplete batch');
    assert.equal(verifyBatchCrc(batch.subarray(0, 30)), false, 'incomplete header');
  });

  it('setBaseOffset and setPartitionLeaderEpoch rewrite in place and keep the CRC valid', () => {
    const batch = sampleBatch();
    const before = Buffer.from(batch);
    setBaseOffset(batch, 0, 9_000_000_000n);
    setPartitionLeaderEpoch(batch, 0, 12);
    assert.ok(verifyBatchCrc(batch));
    const h = readBatchHeader(batch);
    assert.equal(h.baseOffset, 9_000_000_000n);
    assert.equal(h.partitionLeaderEpoch, 12);
    assert.equal(lastOffsetOf(batch), 9_000_000_002n);
    assert.deepEqual(batch.subarray(BatchOffsets.magic), before.subarray(BatchOffsets.magic), 'nothing else changed');
  });

  it('patches a batch at a non-zero position', () => {
    const a = sampleBatch(0n);
    const b = sampleBatch(3n);
    const buf = Buffer.concat([a, b]);
    setBaseOffset(buf, a.length, 50n);
    assert.equal(readBatchHeader(buf, a.length).baseOffset, 50n);
    assert.equal(readBatchHeader(buf, 0).baseOffset, 0n);
    assert.ok(verifyBatchCrc(buf, a.length));
  });

  it('stampLogAppendTime sets the timestamp type and max timestamp and recomputes the CRC', () => {
    const batch = sampleBatch();
    stampLogAppendTime(batch, 0, 1_800_000_000_000n);
    assert.ok(verifyBatchCrc(batch));
    const h = readBatchHeader(batch);
    assert.equal(h.maxTimestamp, 1_800_000_000_000n);
    const attrs = decodeAttributes(h.attributes);
    assert.equal(attrs.timestampType, 1);
    assert.equal(attrs.isTransactional, true, 'other attribute bits survive');
  });
});

describe('scanBatches', () => {
  const batches = Array.from({ length: 50 }, (_, i) => sampleBatch(BigInt(i * 3), 1 + (i % 4)));
  const whole = Buffer.concat(batches);

  it('walks many batches and reports their positions and sizes', () => {
    const scan = scanBatches(whole, { verifyCrc: true });
    assert.equal(scan.stoppedBy, null);
    assert.equal(scan.validBytes, whole.length);
    assert.equal(scan.batches.length, 50);
    let pos = 0;
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(scan.batches[i], { position: pos, size: batches[i].length });
      pos += batches[i].length;
    }
  });

  it('stops at a truncated tail at every cut point', () => {
    const two = Buffer.concat([batches[0], batches[1]]);
    for (let cut = batches[0].length + 1; cut < two.length; cut++) {
      const scan = scanBatches(two.subarray(0, cut));
      assert.equal(scan.stoppedBy, 'truncated', `cut at ${cut}`);
      assert.equal(scan.batches.length, 1);
      assert.equal(scan.validBytes, batches[0].length);
    }
  });

  it('stops at a garbage tail as invalid', () => {
    const garbage = Buffer.concat([batches[0], Buffer.alloc(BATCH_HEADER_SIZE + 10, 0xab)]);
    const scan = scanBatches(garbage);
    assert.equal(scan.stoppedBy, 'invalid');
    assert.equal(scan.validBytes, batches[0].length);
    const zeros = Buffer.concat([batches[0], Buffer.alloc(200)]);
    assert.equal(scanBatches(zeros).stoppedBy, 'invalid');
  });

  it('reports a CRC mismatch only when asked', () => {
    const damaged = Buffer.from(whole);
    damaged[batches[0].length + batches[1].length + BATCH_HEADER_SIZE + 2] ^= 0xff;
    assert.equal(scanBatches(damaged).stoppedBy, null);
    const scan = scanBatches(damaged, { verifyCrc: true });
    assert.equal(scan.stoppedBy, 'corrupt');
    assert.equal(scan.batches.length, 2);
  });

  it('handles an empty buffer and a start/end window', () => {
    assert.deepEqual(scanBatches(Buffer.alloc(0)), { batches: [], validBytes: 0, stoppedBy: null });
    const start = batches[0].length;
    const end = start + batches[1].length + batches[2].length;
    const scan = scanBatches(whole, { start, end });
    assert.equal(scan.stoppedBy, null);
    assert.deepEqual(
      scan.batches.map((b) => b.position),
      [start, start + batches[1].length],
    );
    assert.equal(scan.validBytes, end - start);
    // An end past the buffer is clamped rather than read past.
    const cut = whole.subarray(0, batches[0].length + 30);
    assert.deepEqual(scanBatches(cut, { end: whole.length }), { batches: [{ position: 0, size: batches[0].length }], validBytes: batches[0].length, stoppedBy: 'truncated' });
  });
});
