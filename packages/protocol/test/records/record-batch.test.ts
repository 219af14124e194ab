import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/crc32c.js';
import { BatchOffsets, Compression, type CompressionName, decodeAttributes, readBatchHeader, verifyBatchCrc } from '../../src/records/batch-header.js';
import { buildRecordBatch, iterateRecordBatches, readRecordBatch, type RecordInput } from '../../src/records/record-batch.js';
import { assertProtocolError, seededBytes } from './helpers.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const T0 = 1_700_000_000_000n;

function roundTrip(records: RecordInput[], codec: CompressionName) {
  const batch = buildRecordBatch(records, { compression: codec, baseOffset: 1000n });
  assert.ok(verifyBatchCrc(batch));
  return readRecordBatch(batch);
}

function assertSameRecords(inputs: RecordInput[], read: ReturnType<typeof readRecordBatch>) {
  assert.equal(read.records.length, inputs.length);
  inputs.forEach((input, i) => {
    const r = read.records[i];
    assert.deepEqual(r.key, input.key ?? null, `record ${i} key`);
    assert.deepEqual(r.value, input.value, `record ${i} value`);
    assert.deepEqual(r.headers, input.headers ?? [], `record ${i} headers`);
    if (input.timestamp !== undefined) assert.equal(r.timestamp, input.timestamp, `record ${i} timestamp`);
    assert.equal(r.offset, read.header.baseOffset + BigInt(r.offsetDelta));
    assert.equal(r.attributes, 0);
  });
}

describe('record batch golden bytes', () => {
  it('builds exactly the bytes the v2 record format specifies', () => {
    // Two records, hand-encoded from the spec (zig-zag varints, -1 for null):
    //   r0: attrs 00 | tsDelta 0 -> 00 | offsetDelta 0 -> 00 | key len 1 -> 02 'k' | value len 2 -> 04 'va'
    //       | 1 header -> 02 | key len 1 -> 02 'h' | value null -> 01            body 12 bytes -> length 18
    //   r1: attrs 00 | tsDelta 1 -> 02 | offsetDelta 1 -> 02 | key null -> 01 | value null -> 01
    //       | 0 headers -> 00                                                    body 6 bytes -> length 0c
    const recordsHex = '18' + '00' + '00' + '00' + '02' + '6b' + '04' + '7661' + '02' + '02' + '68' + '01' + '0c' + '00' + '02' + '02' + '01' + '01' + '00';
    const afterCrc =
      '0000' + // attributes: no compression, CreateTime, not transactional, not control
      '00000001' + // lastOffsetDelta
      '0000018bcfe56800' + // baseTimestamp 1700000000000
      '0000018bcfe56801' + // maxTimestamp
      'ffffffffffffffff' + // producerId -1
      'ffff' + // producerEpoch -1
      'ffffffff' + // baseSequence -1
      '00000002' + // recordCount
      recordsHex;
    const crc = crc32c(Buffer.from(afterCrc, 'hex')).toString(16).padStart(8, '0');
    const expected =
      '0000000000000010' + // baseOffset 16
      '00000045' + // batchLength: 81 total - 12
      '00000005' + // partitionLeaderEpoch
      '02' + // magic
      crc +
      afterCrc;

    const built = buildRecordBatch(
      [
        { key: Buffer.from('k'), value: Buffer.from('va'), headers: [{ key: 'h', value: null }], timestamp: T0 },
        { key: null, value: null, timestamp: T0 + 1n },
      ],
      { baseOffset: 16n, partitionLeaderEpoch: 5 },
    );
    assert.equal(built.toString('hex'), expected);

    const read = readRecordBatch(Buffer.from(expected, 'hex'));
    assert.equal(read.records[0].offset, 16n);
    assert.equal(read.records[1].offset, 17n);
    assert.equal(read.records[1].timestamp, T0 + 1n);
    assert.equal(read.records[1].timestampDelta, 1n);
    assert.deepEqual(read.records[0].headers, [{ key: 'h', value: null }]);
  });
});

describe('record batch round trip', () => {
  for (const codec of CODECS) {
    it(`keeps keys, values, headers and timestamps with ${codec}`, () => {
      const inputs: RecordInput[] = [
        { key: Buffer.from('key'), value: Buffer.from('value'), timestamp: T0 },
        { key: null, value: Buffer.alloc(0), timestamp: T0 - 5n },
        { value: null, timestamp: T0 + 1_000_000n },
        { key: Buffer.alloc(0), value: Buffer.from('x'), headers: [{ key: '', value: Buffer.alloc(0) }], timestamp: T0 },
        {
          key: Buffer.from('h'),
          value: seededBytes(5000, 3),
          headers: [
            { key: 'trace-id', value: Buffer.from('abc') },
            { key: 'null-header', value: null },
            { key: 'ünïcødé ✓', value: Buffer.from([0, 255]) },
          ],
          timestamp: T0 + 2n,
        },
      ];
      const read = roundTrip(inputs, codec);
      assertSameRecords(inputs, read);
      assert.equal(read.attributes.compression, Compression[codec]);
      assert.equal(read.header.maxTimestamp, T0 + 1_000_000n);
      assert.equal(read.header.baseTimestamp, T0);
      assert.equal(read.records[1].timestampDelta, -5n);
    });

    it(`carries 2000 records with ${codec}`, () => {
      const inputs: RecordInput[] = Array.from({ length: 2000 }, (_, i) => ({
        key: Buffer.from(`key-${i % 37}`),
        value: Buffer.from(JSON.stringify({ id: i, name: `user-${i}`, pad: 'x'.repeat(i % 200) })),
        timestamp: T0 + BigInt(i * 3),
      }));
      const read = roundTrip(inputs, codec);
      assertSameRecords(inputs, read);
      assert.equal(read.header.lastOffsetDelta, 1999);
      assert.equal(read.records[1999].offset, 2999n);
    });
  }

  it('defaults timestamps to now and producer fields to -1', () => {
    const before = BigInt(Date.now());
    const batch = buildRecordBatch([{ value: Buffer.from('a') }]);
    const after = BigInt(Date.now());
    const { header, records } = readRecordBatch(batch);
    assert.ok(records[0].timestamp >= before && records[0].timestamp <= after);
    assert.equal(header.baseOffset, 0n);
    assert.equal(header.partitionLeaderEpoch, -1);
    assert.equal(header.producerId, -1n);
    assert.equal(header.producerEpoch, -1);
    assert.equal(header.baseSequence, -1);
  });

  it('handles timestamp deltas beyond 2^53 milliseconds and refuses ones beyond int64', () => {
    const inputs: RecordInput[] = [
      { value: Buffer.from('a'), timestamp: -(2n ** 62n) },
      { value: Buffer.from('b'), timestamp: 2n ** 62n - 1n },
      { value: Buffer.from('c'), timestamp: -(2n ** 62n) - 2n ** 55n },
    ];
    const { records } = roundTrip(inputs, 'none');
    assert.equal(records[1].timestampDelta, 2n ** 63n - 1n);
    assert.equal(records[1].timestamp, 2n ** 62n - 1n);
    assert.equal(records[2].timestampDelta, -(2n ** 55n));
    assert.throws(() => buildRecordBatch([{ value: null, timestamp: -(2n ** 62n) }, { value: null, timestamp: 2n ** 62n }]), RangeError);
  });

  it('writes explicit offset deltas, lastOffsetDelta and a delete horizon for compaction', () => {
    const batch = buildRecordBatch(
      [
        { key: Buffer.from('a'), value: Buffer.from('1'), offsetDelta: 2, timestamp: T0 + 10n },
        { key: Buffer.from('b'), value: null, offsetDelta: 7, timestamp: T0 + 20n },
      ],
      { baseOffset: 500n, lastOffsetDelta: 9, deleteHorizon: T0 + 86_400_000n, producerId: 9n, producerEpoch: 1, baseSequence: 40 },
    );
    const { header, attributes, records } = readRecordBatch(batch);
    assert.equal(attributes.hasDeleteHorizon, true);
    assert.equal(header.baseTimestamp, T0 + 86_400_000n);
    assert.equal(header.lastOffsetDelta, 9);
    assert.equal(header.baseSequence, 40);
    assert.deepEqual(
      records.map((r) => [r.offset, r.timestamp]),
      [
        [502n, T0 + 10n],
        [507n, T0 + 20n],
      ],
    );
  });

  it('builds and reads an empty batch kept for producer state', () => {
    const batch = buildRecordBatch([], { baseOffset: 10n, lastOffsetDelta: 4, producerId: 3n, producerEpoch: 0, baseSequence: 0, baseTimestamp: T0 });
    const { header, records } = readRecordBatch(batch);
    assert.equal(records.length, 0);
    assert.equal(header.recordCount, 0);
    assert.equal(header.lastOffsetDelta, 4);
    assert.equal(header.baseTimestamp, T0);
    assert.equal(header.maxTimestamp, -1n);
  });

  it('rejects offset deltas that are not increasing', () => {
    assert.throws(() => buildRecordBatch([{ value: null, offsetDelta: 3 }, { value: null, offsetDelta: 3 }]), RangeError);
    assert.throws(() => buildRecordBatch([{ value: null, offsetDelta: -1 }]), RangeError);
    assert.throws(() => buildRecordBatch([{ value: null, offsetDelta: 5 }], { lastOffsetDelta: 4 }), RangeError);
    assert.throws(() => buildRecordBatch([{ value: null }], { compression: 'brotli' as CompressionName }), RangeError);
  });

  it('reports LogAppendTime batches with the max timestamp for every record', () => {
    const batch = buildRecordBatch(
      [
        { value: Buffer.from('a'), timestamp: T0 },
        { value: Buffer.from('b'), timestamp: T0 + 1n },
      ],
      { timestampType: 1, maxTimestamp: T0 + 999n },
    );
    const { records } = readRecordBatch(batch);
    assert.deepEqual(
      records.map((r) => r.timestamp),
      [T0 + 999n, T0 + 999n],
    );
  });

  it('reads a batch at a non-zero position', () => {
    const a = buildRecordBatch([{ value: Buffer.from('first') }], { baseOffset: 0n });
    const b = buildRecordBatch([{ value: Buffer.from('second') }], { baseOffset: 1n, compression: 'zstd' });
    const { records } = readRecordBatch(Buffer.concat([a, b]), a.length);
    assert.equal(records[0].value?.toString(), 'second');
    assert.equal(records[0].offset, 1n);
  });
});

describe('readRecordBatch on bad input', () => {
  const good = buildRecordBatch(
    [
      { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 },
      { key: Buffer.from('k2'), value: Buffer.from('v2'), timestamp: T0 },
    ],
    { baseOffset: 1n },
  );

  /** A copy of the good batch changed by `edit`, with its CRC recomputed so decoding goes past it. */
  function mutated(edit: (buf: Buffer) => void): Buffer {
    const buf = Buffer.from(good);
    edit(buf);
    buf.writeUInt32BE(crc32c(buf.subarray(BatchOffsets.attributes)), BatchOffsets.crc);
    return buf;
  }

  it('throws corrupt on a CRC mismatch unless verification is off', () => {
    const damaged = Buffer.from(good);
    damaged[damaged.length - 2] ^= 0x01; // a byte of the last value
    assertProtocolError(() => readRecordBatch(damaged), 'corrupt');
    assert.equal(readRecordBatch(damaged, 0, { verifyCrc: false }).records.length, 2);
  });

  it('throws truncated when the batch is cut short', () => {
    assertProtocolError(() => readRecordBatch(good.subarray(0, good.length - 1)), 'truncated');
    assertProtocolError(() => readRecordBatch(good.subarray(0, 20)), 'truncated');
  });

  it('throws invalid when the record count disagrees with the records', () => {
    const tooMany = mutated((b) => b.writeInt32BE(3, BatchOffsets.recordCount));
    assertProtocolError(() => readRecordBatch(tooMany));
    const tooFew = mutated((b) => b.writeInt32BE(1, BatchOffsets.recordCount));
    assertProtocolError(() => readRecordBatch(tooFew), 'invalid');
    const huge = mutated((b) => b.writeInt32BE(0x7fffffff, BatchOffsets.recordCount));
    assertProtocolError(() => readRecordBatch(huge), 'invalid');
    const negative = mutated((b) => b.writeInt32BE(-1, BatchOffsets.recordCount));
    assertProtocolError(() => readRecordBatch(negative), 'invalid');
  });

  it('throws invalid for an unknown compression type and corrupt for undecodable compressed data', () => {
    const unknownCodec = mutated((b) => b.writeInt16BE(6, BatchOffsets.attributes));
    assertProtocolError(() => readRecordBatch(unknownCodec), 'invalid');
    for (const type of [1, 2, 3, 4]) {
      const fake = mutated((b) => b.writeInt16BE(type, BatchOffsets.attributes));
      assertProtocolError(() => readRecordBatch(fake));
    }
  });

  it('caps decompression with maxDecompressedBytes', () => {
    const big = buildRecordBatch([{ value: Buffer.alloc(1 << 20) }], { compression: 'zstd' });
    assert.ok(big.length < 1000, 'zeros compress well');
    assertProtocolError(() => readRecordBatch(big, 0, { maxDecompressedBytes: 64 * 1024 }), 'invalid');
    assert.equal(readRecordBatch(big).records[0].value?.length, 1 << 20);
  });
});

describe('iterateRecordBatches', () => {
  const batches = Array.from({ length: 5 }, (_, i) =>
    buildRecordBatch(
      [
        { value: Buffer.from(`a${i}`), timestamp: T0 },
        { value: Buffer.from(`b${i}`), timestamp: T0 },
      ],
      { baseOffset: BigInt(i * 2), compression: CODECS[i] },
    ),
  );
  const whole = Buffer.concat(batches);

  it('yields every batch with its records and position', () => {
    const seen = [...iterateRecordBatches(whole)];
    assert.equal(seen.length, 5);
    assert.deepEqual(
      seen.flatMap((b) => b.records.map((r) => `${r.offset}:${r.value?.toString()}`)),
      ['0:a0', '1:b0', '2:a1', '3:b1', '4:a2', '5:b2', '6:a3', '7:b3', '8:a4', '9:b4'],
    );
    assert.equal(seen[3].position, batches[0].length + batches[1].length + batches[2].length);
    assert.equal(decodeAttributes(seen[4].header.attributes).compression, Compression.zstd);
  });

  it('stops quietly at a truncated tail at every cut point', () => {
    const firstTwo = batches[0].length + batches[1].length;
    for (let cut = firstTwo; cut < firstTwo + batches[2].length; cut++) {
      const seen = [...iterateRecordBatches(whole.subarray(0, cut))];
      assert.equal(seen.length, 2, `cut at ${cut}`);
    }
  });

  it('honours start and end, and throws on a corrupt batch', () => {
    const start = batches[0].length;
    const end = start + batches[1].length;
    assert.deepEqual(
      [...iterateRecordBatches(whole, { start, end })].map((b) => readBatchHeader(whole, b.position).baseOffset),
      [2n],
    );
    const damaged = Buffer.from(whole);
    damaged[start + 70] ^= 0xff;
    assertProtocolError(() => [...iterateRecordBatches(damaged)], 'corrupt');
  });
});
