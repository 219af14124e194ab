/**
 * Idempotent appends for every partition. The sequence check and the hand-over of the batch to the
 * log's writer run one at a time per partition (a per-partition queue), so two Produce requests
 * racing for the same partition cannot both pass the check; the write itself is not waited for
 * in the queue (the writer keeps hand-over order), so a producer's in-flight batches still share
 * disk writes. A partition's state is rebuilt from its batch headers the first time an idempotent
 * producer writes to it after start-up, scanning only the tail producer.id.expiration.ms keeps.
 */
import { BatchIterator, BatchOffsets, BATCH_HEADER_SIZE, ErrorCode, KafkaError, scanBatches, verifyBatchCrc } from '@sluice/protocol';
import type { AppendOptions, AppendResult, PartitionLog } from '@sluice/storage';
import type { Logger } from '../logger.js';
import { PartitionProducerState, type ProducerBatch, type RetainedBatch } from './producer-state.js';

const TRANSACTIONAL_BIT = 0x10;
/** Bytes read per step while rebuilding (whole batches; only their headers are looked at). */
const REBUILD_READ_BYTES = 4 << 20;

/** The producer fields of a Produce request's records, null when they carry no producer id. */
export function producerBatchOf(records: Buffer): ProducerBatch | null {
  if (records.length < BATCH_HEADER_SIZE) return null;
  const producerId = records.readBigInt64BE(BatchOffsets.producerId);
  if (producerId < 0n) return null;
  const scan = scanBatches(records);
  // As Kafka (Produce v3+): an idempotent write is exactly one batch, so its sequences are checked as one.
  if (scan.batches.length !== 1 || scan.stoppedBy !== null) throw new KafkaError(ErrorCode.INVALID_RECORD, 'A batch with a producer id must be the only record batch for its partition.');
  if (records.readInt16BE(BatchOffsets.attributes) & TRANSACTIONAL_BIT) throw new KafkaError(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactions are not supported by this broker yet.');
  const epoch = records.readInt16BE(BatchOffsets.producerEpoch);
  const firstSeq = records.readInt32BE(BatchOffsets.baseSequence);
  if (epoch < 0 || firstSeq < 0) throw new KafkaError(ErrorCode.INVALID_RECORD, `A batch of producer ${producerId} has epoch ${epoch} and base sequence ${firstSeq}; both must be >= 0.`);
  return { producerId, epoch, firstSeq, lastOffsetDelta: records.readInt32BE(BatchOffsets.lastOffsetDelta) };
}

export interface IdempotentAppendResult extends AppendResult {
  /** True when the batch was a retry of one already in the log: nothing was appended. */
  duplicate: boolean;
}

interface PartitionSlot {
  state: PartitionProducerState | null;
  queue: Promise<unknown>;
}

export class ProducerStates {
  private readonly slots = new Map<PartitionLog, PartitionSlot>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly expirationMs: () => number,
    private readonly log: Logger,
    sweepIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.expireIdle(), sweepIntervalMs);
    this.sweeper.unref();
  }

  /**
   * Checks `batch` (the only batch of `records`) against the partition's producer state and, when
   * it is new and in sequence, appends it and records it. A retry of one of the producer's last
   * batches resolves with the original offsets; a stale epoch or a sequence gap rejects with
   * KafkaError. Only the check and the hand-over to the log's writer are serialised: the log
   * writes batches in the order they were handed over, so up to five in-flight batches of a
   * producer still share one disk write. `prepare` gives the bytes to store (recompressed or not).
   */
  async append(partitionLog: PartitionLog, batch: ProducerBatch, records: Buffer, prepare: (records: Buffer) => Promise<Buffer>, options: AppendOptions): Promise<IdempotentAppendResult> {
    let slot = this.slots.get(partitionLog);
    if (!slot) {
      slot = { state: null, queue: Promise.resolve() };
      this.slots.set(partitionLog, slot);
    }
    const current = slot;
    const handOver = async (): Promise<{ duplicateOf: RetainedBatch } | { appending: Promise<AppendResult>; retained: RetainedBatch | null }> => {
      current.state ??= await this.rebuild(partitionLog);
      const state = current.state;
      const nowMs = this.now();
      const known = state.entry(batch.producerId);
      if (known && nowMs - known.lastUpdateMs > this.expirationMs()) state.expire(nowMs, this.expirationMs());
      const verdict = state.check(batch);
      if (verdict.kind === 'reject') throw new KafkaError(verdict.errorCode, verdict.message);
      if (verdict.kind === 'duplicate') return { duplicateOf: verdict.batch };
      // Checked here rather than by the log's writer, so that a corrupt batch fails before the
      // next batch of the producer is checked against it.
      if (!verifyBatchCrc(records)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'Record batch CRC mismatch.');
      const stored = await prepare(records);
      const appending = partitionLog.appendAsLeader(stored, { ...options, crcVerified: true });
      // The log refuses a batch it cannot store (size, timestamps) before queueing it, with an
      // already rejected promise: settle that before the next batch is checked.
      let refused = false;
      appending.catch(() => (refused = true));
      await Promise.resolve();
      await Promise.resolve();
      if (refused) return { appending, retained: null };
      return { appending, retained: state.recordPending(batch, appending, nowMs) };
    };
    const handedOver = current.queue.then(handOver);
    current.queue = handedOver.catch(() => undefined);
    const step = await handedOver;
    if ('duplicateOf' in step) {
      const d = step.duplicateOf;
      if (d.appended) await d.appended;
      return { baseOffset: d.firstOffset, lastOffset: d.lastOffset, logAppendTime: -1n, logStartOffset: partitionLog.logStartOffset, batchCount: 1, duplicate: true };
    }
    try {
      const appended = await step.appending;
      if (step.retained) current.state!.settle(batch.producerId, step.retained, appended);
      return { ...appended, duplicate: false };
    } catch (err) {
      if (step.retained) current.state!.forget(batch.producerId, step.retained);
      throw err;
    }
  }

  /** The loaded state of a partition (tests, diagnostics); null before its first idempotent write. */
  stateOf(partitionLog: PartitionLog): PartitionProducerState | null {
    return this.slots.get(partitionLog)?.state ?? null;
  }

  /** Drops state of closed logs (deleted topics) and of producers idle past producer.id.expiration.ms. */
  expireIdle(): void {
    const nowMs = this.now();
    for (const [partitionLog, slot] of this.slots) {
      if (partitionLog.isClosed) this.slots.delete(partitionLog);
      else slot.state?.expire(nowMs, this.expirationMs());
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** Replays the batch headers from the oldest offset whose batches may still be unexpired. */
  private async rebuild(partitionLog: PartitionLog): Promise<PartitionProducerState> {
    const started = performance.now();
    const state = new PartitionProducerState();
    const nowMs = this.now();
    const horizon = nowMs - this.expirationMs();
    const fromTimestamp = await partitionLog.offsetForTimestamp(BigInt(Math.max(0, horizon)));
    let offset = fromTimestamp ? fromTimestamp.offset : partitionLog.logEndOffset;
    if (offset < partitionLog.logStartOffset) offset = partitionLog.logStartOffset;
    let batches = 0;
    while (offset < partitionLog.logEndOffset) {
      const chunk = await partitionLog.read(offset, REBUILD_READ_BYTES);
      if (chunk.records.length === 0) break;
      for (const it = new BatchIterator(chunk.records); it.next(); ) {
        const producerId = it.producerId;
        const baseOffset = it.baseOffset;
        const lastOffsetDelta = it.lastOffsetDelta;
        const maxTimestamp = Number(it.maxTimestamp);
        // A batch without timestamps cannot be dated: kept, as if written now.
        const timestamp = maxTimestamp < 0 ? nowMs : maxTimestamp;
        if (producerId >= 0n && !it.isControl && timestamp >= horizon) {
          const batch = { producerId, epoch: it.producerEpoch, firstSeq: it.baseSequence, lastOffsetDelta };
          state.record(batch, baseOffset, baseOffset + BigInt(lastOffsetDelta), timestamp, timestamp);
          batches++;
        }
      }
      if (chunk.nextOffset <= offset) break;
      offset = chunk.nextOffset;
    }
    if (batches > 0) {
      this.log.info(`${partitionLog.topic}-${partitionLog.partition}: producer state of ${state.size} producer(s) rebuilt from ${batches} batch header(s) in ${(performance.now() - started).toFixed(0)} ms`);
    }
    return state;
  }
}
