/**
 * Control batches: the transaction markers a transaction coordinator has partition leaders write
 * (WriteTxnMarkers) to end a transaction. A control batch has the isControl and isTransactional
 * attributes and one record whose
 *   key   = version int16 (0) | type int16 (0 abort, 1 commit)
 *   value = version int16 (0) | coordinatorEpoch int32        (for abort/commit markers)
 * Consumers in read_committed use them to drop aborted records; they never reach applications.
 */
import { ProtocolError } from '../protocol-error.js';
import { buildRecordBatch, type KafkaRecord } from './record-batch.js';

export const ControlRecordType = { abort: 0, commit: 1 } as const;

const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_SIZE = 6;
const CURRENT_CONTROL_VERSION = 0;

export interface ControlBatchOptions {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: bigint;
  timestamp?: bigint;
  partitionLeaderEpoch?: number;
}

/** Builds the one-record control batch that commits or aborts a producer's transaction. */
export function buildControlBatch(type: 'abort' | 'commit', options: ControlBatchOptions): Buffer {
  const key = Buffer.allocUnsafe(CONTROL_KEY_SIZE);
  key.writeInt16BE(CURRENT_CONTROL_VERSION, 0);
  key.writeInt16BE(ControlRecordType[type], 2);
  const value = Buffer.allocUnsafe(END_TXN_MARKER_SIZE);
  value.writeInt16BE(CURRENT_CONTROL_VERSION, 0);
  value.writeInt32BE(options.coordinatorEpoch, 2);
  return buildRecordBatch([{ key, value, timestamp: options.timestamp ?? BigInt(Date.now()) }], {
    baseOffset: options.baseOffset ?? 0n,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  });
}

export interface ControlRecord {
  /** 'abort' or 'commit', or the raw type number for other control records (e.g. KRaft's). */
  type: 'abort' | 'commit' | number;
  version: number;
  /** Present for abort/commit markers. */
  coordinatorEpoch?: number;
}

/** Decodes a control batch's record. Throws ProtocolError when its key or marker value is malformed. */
export function readControlRecord(record: KafkaRecord): ControlRecord {
  const key = record.key;
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new ProtocolError('invalid', `control record key must be at least ${CONTROL_KEY_SIZE} bytes, got ${key === null ? 'null' : key.length}`);
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new ProtocolError('invalid', `control record version ${version} is negative`);
  const code = key.readInt16BE(2);
  if (code !== ControlRecordType.abort && code !== ControlRecordType.commit) return { type: code, version };
  const value = record.value;
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new ProtocolError('invalid', `transaction marker value must be at least ${END_TXN_MARKER_SIZE} bytes, got ${value === null ? 'null' : value.length}`);
  }
  const markerVersion = value.readInt16BE(0);
  if (markerVersion < 0) throw new ProtocolError('invalid', `transaction marker version ${markerVersion} is negative`);
  return { type: code === ControlRecordType.commit ? 'commit' : 'abort', version, coordinatorEpoch: value.readInt32BE(2) };
}
