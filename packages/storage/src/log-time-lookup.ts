/**
 * ListOffsets by timestamp over a log's segments: the time index finds the batch, and only that
 * one batch is decoded to find the exact record (LogAppendTime batches need no decoding).
 */
import { BatchOffsets, readRecordBatch } from '@sluice/protocol';
import { corruptBatch } from './errors.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogSegments } from './log-segments.js';
import type { LogSegment } from './segment.js';

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;

export interface TimestampAndOffset {
  timestamp: bigint;
  offset: bigint;
  leaderEpoch: number;
}

/** What the lookup reads of its log. */
export interface TimeLookupLog {
  name: string;
  segments: LogSegments;
  startOffset: bigint;
  endOffset: bigint;
  epochs: LeaderEpochCache;
}

export async function offsetForTimestamp(log: TimeLookupLog, timestamp: bigint): Promise<TimestampAndOffset | null> {
  const epochFor = (offset: bigint) => {
    let epoch = -1;
    for (const e of log.epochs.all) if (e.startOffset <= offset) epoch = e.epoch;
    return epoch;
  };
  if (timestamp === LATEST_TIMESTAMP) return { timestamp: -1n, offset: log.endOffset, leaderEpoch: log.epochs.latestEpoch };
  if (timestamp === EARLIEST_TIMESTAMP) return { timestamp: -1n, offset: log.startOffset, leaderEpoch: epochFor(log.startOffset) };
  if (timestamp === MAX_TIMESTAMP) {
    let best: LogSegment | null = null;
    for (const seg of log.segments.all) if (seg.size > 0 && (!best || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    if (!best || best.maxTimestamp < 0n) return null;
    const loc = await withSegment(best, () => best.findBatchByTimestamp(best.maxTimestamp));
    if (!loc) return null;
    const exact = await recordAtTimestamp(log.name, best, loc.position, loc.size, best.maxTimestamp, true);
    const offset = exact?.offset ?? loc.lastOffset;
    return { timestamp: best.maxTimestamp, offset, leaderEpoch: epochFor(offset) };
  }
  if (timestamp < 0n) return null;
  for (const seg of log.segments.from(log.startOffset)) {
    if (seg.maxTimestamp < timestamp) continue;
    const loc = await withSegment(seg, () => seg.findBatchByTimestamp(timestamp));
    if (!loc) continue;
    const exact = await recordAtTimestamp(log.name, seg, loc.position, loc.size, timestamp, false);
    let offset = exact?.offset ?? loc.baseOffset;
    if (offset < log.startOffset) offset = log.startOffset;
    return { timestamp: exact?.timestamp ?? loc.maxTimestamp, offset, leaderEpoch: epochFor(offset) };
  }
  return null;
}

/** Runs `fn` with `seg` held open; null when the segment was retired meanwhile. */
async function withSegment<T>(seg: LogSegment, fn: () => Promise<T | null>): Promise<T | null> {
  if (seg.retired) return null;
  seg.acquire();
  try {
    return await fn();
  } finally {
    await seg.release();
  }
}

/**
 * Decodes one batch to find the exact record: the first with timestamp >= target, or (max mode)
 * the first with exactly the target. LogAppendTime batches need no decoding.
 */
async function recordAtTimestamp(
name: string,
  seg: LogSegment,
  position: number,
  size: number,
  target: bigint,
  exactMatch: boolean,
): Promise<{ offset: bigint; timestamp: bigint } | null> {
  seg.acquire();
  try {
    const bytes = await seg.readExactly(position, size);
    // The time index named a batch the segment does not hold whole: the index is damaged.
    if (!bytes) throw corruptBatch(`${name}: the time index points at ${size} bytes at position ${position} of segment ${seg.baseOffset}, past its end`);
    const attributes = bytes.readInt16BE(BatchOffsets.attributes);
    if (attributes & 0x08) return { offset: bytes.readBigInt64BE(0), timestamp: bytes.readBigInt64BE(BatchOffsets.maxTimestamp) };
    let batch;
    try {
      batch = readRecordBatch(bytes, 0, { verifyCrc: false });
    } catch (err) {
      throw corruptBatch(`${name}: batch at position ${position} of segment ${seg.baseOffset} cannot be decoded: ${(err as Error).message}`);
    }
    for (const r of batch.records) {
      if (exactMatch ? r.timestamp === target : r.timestamp >= target) return { offset: r.offset, timestamp: r.timestamp };
    }
    return null;
  } finally {
    await seg.release();
  }
}
