/**
 * Storage failures as KafkaErrors carrying the code the broker returns to clients, so the broker
 * maps them without a translation table.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';

export function offsetOutOfRange(offset: bigint, logStartOffset: bigint, logEndOffset: bigint): KafkaError {
  return new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${offset} is outside the log's range [${logStartOffset}, ${logEndOffset}]`);
}

export function corruptBatch(detail: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, detail);
}

export function batchTooLarge(size: number, max: number): KafkaError {
  return new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `record batch of ${size} bytes exceeds max.message.bytes ${max}`);
}

export function appendTooLarge(size: number, segmentBytes: number): KafkaError {
  return new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE, `append of ${size} bytes exceeds segment.bytes ${segmentBytes}`);
}

export function invalidTimestamp(detail: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_TIMESTAMP, detail);
}

export function invalidRecord(detail: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, detail);
}

export function storageError(detail: string, cause?: unknown): KafkaError {
  const e = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, detail);
  if (cause !== undefined) (e as Error & { cause?: unknown }).cause = cause;
  return e;
}
