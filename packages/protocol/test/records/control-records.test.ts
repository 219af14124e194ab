import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAttributes, readBatchHeader, verifyBatchCrc } from '../../src/records/batch-header.js';
import { ControlRecordType, buildControlBatch, readControlRecord } from '../../src/records/control-records.js';
import { buildRecordBatch, readRecordBatch, type KafkaRecord } from '../../src/records/record-batch.js';
import { assertProtocolError } from './helpers.js';

function controlRecord(key: Buffer | null, value: Buffer | null): KafkaRecord {
  return { offset: 0n, timestamp: 0n, key, value, headers: [], offsetDelta: 0, timestampDelta: 0n, attributes: 0 };
}

describe('control batches', () => {
  for (const type of ['commit', 'abort'] as const) {
    it(`round trips a ${type} marker`, () => {
      const batch = buildControlBatch(type, {
        producerId: 123_456_789_012n,
        producerEpoch: 7,
        coordinatorEpoch: 42,
        baseOffset: 900n,
        timestamp: 1_700_000_000_000n,
        partitionLeaderEpoch: 3,
      });
      assert.ok(verifyBatchCrc(batch));
      const header = readBatchHeader(batch);
      assert.equal(header.producerId, 123_456_789_012n);
      assert.equal(header.producerEpoch, 7);
      assert.equal(header.baseSequence, -1);
      assert.equal(header.partitionLeaderEpoch, 3);
      assert.equal(header.recordCount, 1);
      const attributes = decodeAttributes(header.attributes);
      assert.equal(attributes.isControl, true);
      assert.equal(attributes.isTransactional, true);
      assert.equal(attributes.compression, 0);

      const { records } = readRecordBatch(batch);
      assert.equal(records[0].offset, 900n);
      assert.equal(records[0].timestamp, 1_700_000_000_000n);
      // key: version 0, type; value: version 0, coordinator epoch
      assert.equal(records[0].key?.toString('hex'), `0000000${ControlRecordType[type]}`);
      assert.equal(records[0].value?.toString('hex'), '00000000002a');
      assert.deepEqual(readControlRecord(records[0]), { type, version: 0, coordinatorEpoch: 42 });
    });
  }

  it('reports other control types by number without a marker value', () => {
    assert.deepEqual(readControlRecord(controlRecord(Buffer.from('00000002', 'hex'), Buffer.from('0000', 'hex'))), { type: 2, version: 0 });
  });

  it('rejects malformed control keys and marker values with ProtocolError', () => {
    assertProtocolError(() => readControlRecord(controlRecord(null, null)), 'invalid');
    assertProtocolError(() => readControlRecord(controlRecord(Buffer.from('0000', 'hex'), null)), 'invalid');
    assertProtocolError(() => readControlRecord(controlRecord(Buffer.from('ffff0001', 'hex'), Buffer.alloc(6))), 'invalid');
    assertProtocolError(() => readControlRecord(controlRecord(Buffer.from('00000001', 'hex'), null)), 'invalid');
    assertProtocolError(() => readControlRecord(controlRecord(Buffer.from('00000000', 'hex'), Buffer.from('00000000', 'hex'))), 'invalid');
  });

  it('a data batch built with the same attributes is not mistaken for a marker', () => {
    const batch = buildRecordBatch([{ value: Buffer.from('data') }], { isTransactional: true, producerId: 1n, producerEpoch: 0, baseSequence: 0 });
    const attributes = decodeAttributes(readBatchHeader(batch).attributes);
    assert.equal(attributes.isControl, false);
    assert.equal(attributes.isTransactional, true);
  });
});
