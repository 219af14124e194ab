/**
 * Idempotent appends of one log (the producer half of Kafka's appendAsLeader). The sequence check
 * and the hand-over of the batch to the log's writer run one at a time (a queue per log), so two
 * Produce requests racing for the partition cannot both pass the check; the write itself is not
 * waited for in the queue (the writer keeps hand-over order), so a producer's in-flight batches
 * still share disk writes. The state is rebuilt from batch headers the first time an idempotent
 * producer writes after start-up or truncation, scanning only the tail producer.id.expiration.ms
 * keeps; follower appends are recorded into it as they are written.
 */
import { BATCH_HEADER_SIZE, BatchIterator, BatchOffsets, ErrorCode, KafkaError, iterateRecordBatches, readControlRecord, scanBatches, verifyBatchCrc } from '@sluice/protocol';
import type { AppendOptions, AppendResult } from './log-writer.js';
import type { PartitionLog } from './partition-log.js';
import { ProducerStateManager, type ProducerBatch, type RetainedBatch } from './producer-state.js';

const CONTROL_BIT = 0x20;
/** Bytes read per step while rebuilding (whole batches; only their headers are looked at). */
const REBUILD_READ_BYTES = 4 << 20;

/** The producer fields of a leader append's records, null when they carry no producer id. */
export function producerBatchOf(records: Buffer): ProducerBatch | null {
  if (records.length < BATCH_HEADER_SIZE) return null;
  const producerId = records.readBigInt64BE(BatchOffsets.producerId);
  if (producerId < 0n) return null;
  // Control batches (transaction markers) come from the transaction coordinator and carry no
  // sequence; transactional data batches are checked like idempotent ones.
  if (records.readInt16BE(BatchOffsets.attributes) & CONTROL_BIT) return null;
  const scan = scanBatches(records);
  // As Kafka (Produce v3+): an idempotent write is exactly one batch, so its sequences are checked as one.
  if (scan.batches.length !== 1 || scan.stoppedBy !== null) throw new KafkaError(ErrorCode.INVALID_RECORD, 'A batch with a producer id must be the only record batch for its partition.');
  const epoch = records.readInt16BE(BatchOffsets.producerEpoch);
  const firstSeq = records.readInt32BE(BatchOffsets.baseSequence);
  if (epoch < 0 || firstSeq < 0) throw new KafkaError(ErrorCode.INVALID_RECORD, `A batch of producer ${producerId} has epoch ${epoch} and base sequence ${firstSeq}; both must be >= 0.`);
  return { producerId, epoch, firstSeq, lastOffsetDelta: records.readInt32BE(BatchOffsets.lastOffsetDelta) };
}

export interface LeaderAppendResult extends AppendResult {
  /** True when the batch was a retry of one already in the log: nothing was appended. */
  duplicate?: boolean;
}

export class IdempotentAppends {
  /** Null until first needed (rebuilt from the log), and again after truncation. */
  private state: ProducerStateManager | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** Read for the rebuild. */
    private readonly log: PartitionLog,
    /** The writer's leader path: the hand-over of a checked batch. */
    private readonly enqueueLeader: (batches: Buffer, options: AppendOptions) => Promise<AppendResult>,
    /** producer.id.expiration.ms (read at each use: it changes live). */
    private readonly expirationMs: () => number,
    private readonly now: () => number,
  ) {}

  /** The loaded state (tests, diagnostics); null before the first idempotent write. */
  get loaded(): ProducerStateManager | null {
    return this.state;
  }

  /**
   * Checks `batch` (the only batch of `records`) against the producer state and, when it is new
   * and in sequence, appends it and records it. A retry of one of the producer's last batches
   * resolves with the original offsets; a stale epoch or a sequence gap rejects with KafkaError.
   * `prepare` gives the bytes to store (recompressed or not).
   */
  async append(batch: ProducerBatch, records: Buffer, prepare: (records: Buffer) => Promise<Buffer>, options: AppendOptions): Promise<LeaderAppendResult> {
    const handOver = async (): Promise<{ duplicateOf: RetainedBatch } | { appending: Promise<AppendResult>; retained: RetainedBatch | null; state: ProducerStateManager }> => {
      this.state ??= await this.rebuild();
      const state = this.state;
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
      const appending = this.enqueueLeader(stored, { ...options, crcVerified: true });
      // The log refuses a batch it cannot store (size, timestamps) before queueing it, with an
      // already rejected promise: settle that before the next batch is checked.
      let refused = false;
      appending.catch(() => (refused = true));
      await Promise.resolve();
      await Promise.resolve();
      if (refused) return { appending, retained: null, state };
      return { appending, retained: state.recordPending(batch, appending, nowMs), state };
    };
    const handedOver = this.queue.then(handOver);
    this.queue = handedOver.catch(() => undefined);
    const step = await handedOver;
    if ('duplicateOf' in step) {
      const d = step.duplicateOf;
      if (d.appended) await d.appended;
      return { baseOffset: d.firstOffset, lastOffset: d.lastOffset, logAppendTime: -1n, logStartOffset: this.log.logStartOffset, batchCount: 1, duplicate: true };
    }
    try {
      const appended = await step.appending;
      if (step.retained) step.state.settle(batch.producerId, step.retained, appended);
      return { ...appended, duplicate: false };
    } catch (err) {
      if (step.retained) step.state.forget(batch.producerId, step.retained);
      throw err;
    }
  }

  /**
   * A control batch (transaction marker) of the leader: it goes through the same queue as the
   * producer's batches, so a batch checked after it is checked against the marker's epoch.
   */
  async appendMarker(records: Buffer, options: AppendOptions): Promise<LeaderAppendResult> {
    const producerId = records.readBigInt64BE(BatchOffsets.producerId);
    const epoch = records.readInt16BE(BatchOffsets.producerEpoch);
    const coordinatorEpoch = markerCoordinatorEpoch(records);
    const handOver = async () => {
      this.state ??= await this.rebuild();
      const fenced = this.state.checkMarker(producerId, coordinatorEpoch);
      if (fenced) throw new KafkaError(fenced.errorCode, fenced.message);
      const appending = this.enqueueLeader(records, options);
      this.state.recordMarker(producerId, epoch, this.now(), coordinatorEpoch);
      return appending;
    };
    const handedOver = this.queue.then(handOver);
    this.queue = handedOver.catch(() => undefined);
    const appending = await handedOver;
    return { ...(await appending), duplicate: false };
  }

  /** Records the producer batches of a follower append (leader's offsets), when the state is loaded. */
  recordFollowerBatches(records: Buffer): void {
    const state = this.state;
    if (!state) return;
    const nowMs = this.now();
    for (const it = new BatchIterator(records); it.next(); ) {
      if (it.producerId >= 0n && it.isControl) state.recordMarker(it.producerId, it.producerEpoch, nowMs, markerCoordinatorEpoch(it.batch));
      if (it.producerId < 0n || it.isControl) continue;
      const maxTimestamp = Number(it.maxTimestamp);
      const timestamp = maxTimestamp < 0 ? nowMs : maxTimestamp;
      const batch = { producerId: it.producerId, epoch: it.producerEpoch, firstSeq: it.baseSequence, lastOffsetDelta: it.lastOffsetDelta };
      state.record(batch, it.baseOffset, it.lastOffset, timestamp, nowMs);
    }
  }

  /** After truncation the retained batches may name offsets that are gone: rebuild when next needed. */
  reset(): void {
    this.state = null;
  }

  /** Forgets producers idle past producer.id.expiration.ms. */
  expire(): void {
    this.state?.expire(this.now(), this.expirationMs());
  }

  /**
   * Restores the newest producer snapshot and replays the batch headers after it; without a
   * snapshot, replays from the oldest offset whose batches may still be unexpired.
   */
  private async rebuild(): Promise<ProducerStateManager> {
    const log = this.log;
    const nowMs = this.now();
    const horizon = nowMs - this.expirationMs();
    const snapshot = await log.latestProducerSnapshot();
    let state: ProducerStateManager;
    let offset: bigint;
    if (snapshot) {
      state = ProducerStateManager.fromSnapshot(snapshot.entries, nowMs, this.expirationMs());
      offset = snapshot.offset;
    } else {
      state = new ProducerStateManager();
      const fromTimestamp = await log.offsetForTimestamp(BigInt(Math.max(0, horizon)));
      offset = fromTimestamp ? fromTimestamp.offset : log.logEndOffset;
    }
    if (offset < log.logStartOffset) offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const chunk = await log.read(offset, REBUILD_READ_BYTES);
      if (chunk.records.length === 0) break;
      for (const it = new BatchIterator(chunk.records); it.next(); ) {
        const producerId = it.producerId;
        const baseOffset = it.baseOffset;
        // The read starts at the batch holding `offset`: one wholly below it is not replayed.
        if (it.lastOffset < offset) continue;
        const lastOffsetDelta = it.lastOffsetDelta;
        const maxTimestamp = Number(it.maxTimestamp);
        // A batch without timestamps cannot be dated: kept, as if written now.
        const timestamp = maxTimestamp < 0 ? nowMs : maxTimestamp;
        if (producerId >= 0n && it.isControl && timestamp >= horizon) state.recordMarker(producerId, it.producerEpoch, timestamp, markerCoordinatorEpoch(it.batch));
        if (producerId >= 0n && !it.isControl && timestamp >= horizon) {
          const batch = { producerId, epoch: it.producerEpoch, firstSeq: it.baseSequence, lastOffsetDelta };
          state.record(batch, baseOffset, baseOffset + BigInt(lastOffsetDelta), timestamp, timestamp);
        }
      }
      if (chunk.nextOffset <= offset) break;
      offset = chunk.nextOffset;
    }
    return state;
  }

  /** The loaded state, rebuilt first when it is not (a producer snapshot needs it). */
  async loadedOrRebuilt(): Promise<ProducerStateManager> {
    const load = this.queue.then(async () => (this.state ??= await this.rebuild()));
    this.queue = load.catch(() => undefined);
    return load;
  }
}

/**
 * The coordinator epoch a transaction marker carries (its control record's value), -1 when the
 * batch is not a well-formed marker. Markers are rare and tiny: decoding their one record is cheap.
 */
export function markerCoordinatorEpoch(batch: Buffer): number {
  try {
    for (const b of iterateRecordBatches(batch)) {
      const record = b.records[0];
      if (record) return readControlRecord(record).coordinatorEpoch ?? -1;
    }
  } catch {
    // Malformed: no epoch to compare (the write path validates the batch itself).
  }
  return -1;
}
