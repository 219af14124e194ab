import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol-error.js';
import { crc32c } from '../../src/crc32c.js';
import { BatchOffsets, type CompressionName } from '../../src/records/batch-header.js';
import { buildRecordBatch, iterateRecordBatches, readRecordBatch } from '../../src/records/record-batch.js';
import { seededBytes, seededRandom } from './helpers.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Decodes `buf`; anything but a result or a ProtocolError fails the test. */
function decodeOrProtocolError(buf: Buffer, verifyCrc: boolean): 'ok' | 'error' {
  try {
    readRecordBatch(buf, 0, { verifyCrc, maxDecompressedBytes: 1 << 20 });
    for (const _ of iterateRecordBatches(buf, { verifyCrc, maxDecompressedBytes: 1 << 20 }));
    return 'ok';
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      assert.fail(`non-ProtocolError for input ${buf.toString('hex').slice(0, 400)}: ${err instanceof Error ? err.stack : String(err)}`);
    }
    return 'error';
  }
}

function sample(codec: CompressionName, seed: number): Buffer {
  const random = seededRandom(seed);
  const records = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({
    key: random() < 0.3 ? null : Buffer.from(`key-${i}`),
    value: random() < 0.1 ? null : seededBytes(Math.floor(random() * 300), seed + i),
    headers: random() < 0.5 ? [{ key: `h${i}`, value: random() < 0.5 ? null : Buffer.from('hv') }] : [],
    timestamp: 1_700_000_000_000n + BigInt(Math.floor(random() * 1e6)),
  }));
  return buildRecordBatch(records, { compression: codec, baseOffset: BigInt(seed) });
}

describe('record batch decoding of damaged bytes', () => {
  for (const codec of CODECS) {
    it(`mutated ${codec} batches give records or ProtocolError, with and without CRC checks`, () => {
      const random = seededRandom(CODECS.indexOf(codec) + 11);
      const outcomes = { ok: 0, error: 0 };
      for (let n = 0; n < 700; n++) {
        const buf = Buffer.from(sample(codec, n + 1));
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) {
          // Aim most mutations past the header so the records and compressed data get exercised.
          const at = random() < 0.8 ? 61 + Math.floor(random() * (buf.length - 61)) : Math.floor(random() * buf.length);
          buf[at] = Math.floor(random() * 256);
        }
        const cut = random() < 0.15 ? buf.subarray(0, Math.floor(random() * buf.length)) : buf;
        outcomes[decodeOrProtocolError(cut, true)]++;
        // Recompute the CRC so the decoder really parses the damaged records.
        if (cut.length >= 61) {
          const fixed = Buffer.from(cut);
          fixed.writeUInt32BE(crc32c(fixed.subarray(BatchOffsets.attributes)), BatchOffsets.crc);
          outcomes[decodeOrProtocolError(fixed, false)]++;
        }
      }
      assert.ok(outcomes.error > 0 && outcomes.ok > 0, JSON.stringify(outcomes));
    });
  }

  it('random bytes behind a plausible header give ProtocolError, never another exception', () => {
    const random = seededRandom(99);
    for (let n = 0; n < 1500; n++) {
      const length = 61 + Math.floor(random() * 200);
      const buf = seededBytes(length, n + 1000);
      buf.writeInt32BE(length - 12, BatchOffsets.batchLength);
      buf[BatchOffsets.magic] = 2;
      buf.writeInt16BE(Math.floor(random() * 5), BatchOffsets.attributes);
      buf.writeInt32BE(Math.floor(random() * 8), BatchOffsets.recordCount);
      decodeOrProtocolError(buf, false);
    }
  });
});
