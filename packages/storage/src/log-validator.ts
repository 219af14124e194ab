/**
 * The structural checks of an append (Kafka's LogValidator, at the batch level): total and batch
 * sizes, magic and lengths, record counts and offset deltas, the timestamp window for CreateTime
 * and LogAppendTime stamping. Records are never decoded here.
 *
 * CRCs of CreateTime batches are left to the writer, which checks them while the bytes are being
 * written (hiding most of their cost); LogAppendTime batches are checked here, before stamping
 * gives them a new CRC.
 */
import { BatchOffsets, computeBatchCrc, scanBatches, stampLogAppendTime } from '@sluice/protocol';
import type { TopicConfig } from './config.js';
import { appendTooLarge, batchTooLarge, corruptBatch, invalidRecord, invalidTimestamp } from './errors.js';

/** Batches that passed validation, with what the writer needs to place them. */
export interface ValidatedBatches {
  buf: Buffer;
  batchCount: number;
  batchPositions: number[];
  batchSizes: number[];
  /** Offsets the append covers (sum of lastOffsetDelta + 1). */
  offsetSpan: bigint;
  /** Newest batch max timestamp (segment.ms roll check). */
  maxTimestamp: number;
  /** False until the CRCs are checked. */
  crcVerified: boolean;
  /** The broker's clock for LogAppendTime topics, -1 for CreateTime. */
  logAppendTime: bigint;
}

/**
 * Validates `buf` (one or more v2 batches) against `config`, stamping LogAppendTime in place when
 * the topic asks for it. `crcVerified`: the caller already checked every CRC.
 */
export function validateBatches(buf: Buffer, config: TopicConfig, nowMs: number, crcVerified: boolean): ValidatedBatches {
  if (buf.length > config.segmentBytes) throw appendTooLarge(buf.length, config.segmentBytes);
  const now = BigInt(nowMs);
  const logAppendTime = config.messageTimestampType === 'LogAppendTime' ? now : -1n;
  const scan = scanBatches(buf, { verifyCrc: logAppendTime >= 0n && !crcVerified });
  if (scan.stoppedBy !== null) {
    throw corruptBatch(`record batch at byte ${scan.validBytes} is ${scan.stoppedBy}`);
  }
  if (scan.batches.length === 0) throw invalidRecord('append carries no record batch');
  const positions: number[] = [];
  const sizes: number[] = [];
  let span = 0n;
  let maxTimestamp = -1;
  for (const { position, size } of scan.batches) {
    if (size > config.maxMessageBytes) throw batchTooLarge(size, config.maxMessageBytes);
    if (buf.readInt32BE(position + BatchOffsets.recordCount) < 0) throw invalidRecord('negative record count');
    const delta = buf.readInt32BE(position + BatchOffsets.lastOffsetDelta);
    if (delta < 0) throw invalidRecord(`negative lastOffsetDelta ${delta}`);
    span += BigInt(delta) + 1n;
    if (logAppendTime >= 0n) {
      stampLogAppendTime(buf, position, logAppendTime);
    } else {
      const maxTs = buf.readBigInt64BE(position + BatchOffsets.maxTimestamp);
      const beforeMax = BigInt(config.messageTimestampBeforeMaxMs);
      const afterMax = BigInt(config.messageTimestampAfterMaxMs);
      if (maxTs >= 0n && (now - maxTs > beforeMax || maxTs - now > afterMax)) {
        throw invalidTimestamp(`batch max timestamp ${maxTs} is outside the window allowed around ${now}`);
      }
    }
    maxTimestamp = Math.max(maxTimestamp, Number(buf.readBigInt64BE(position + BatchOffsets.maxTimestamp)));
    positions.push(position);
    sizes.push(size);
  }
  return {
    buf,
    batchCount: scan.batches.length,
    batchPositions: positions,
    batchSizes: sizes,
    offsetSpan: span,
    maxTimestamp,
    crcVerified: crcVerified || logAppendTime >= 0n,
    logAppendTime,
  };
}

/** True when any batch's stored CRC does not match its bytes. */
export function crcMismatch(v: ValidatedBatches): boolean {
  for (let i = 0; i < v.batchCount; i++) {
    const at = v.batchPositions[i];
    if (computeBatchCrc(v.buf, at, v.batchSizes[i]) !== v.buf.readUInt32BE(at + BatchOffsets.crc)) return true;
  }
  return false;
}
