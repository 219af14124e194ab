/**
 * One partition's idempotent-producer state (Kafka's ProducerStateManager, non-transactional
 * part), owned by its log: per producer id, its epoch and the last few batches it appended, enough to recognise a
 * retried batch (answered with its original offset) and a gap or reordering in its sequences.
 * Everything is derived from record batch headers, so the table is rebuilt by replaying them.
 */
import { ErrorCode, incrementSequence } from '@sluice/protocol';
import type { AppendResult } from './log-writer.js';
import type { ProducerSnapshotEntry } from './producer-snapshot.js';

/** Kafka keeps the last five batches per producer: the client's max.in.flight limit for idempotence. */
export const RETAINED_BATCHES = 5;

export interface RetainedBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** Batch max timestamp (or the broker's clock when the batch has none). */
  timestamp: number;
  /** Set while the batch is being written: its offsets are known once this resolves. */
  appended?: Promise<AppendResult>;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first; at most RETAINED_BATCHES. */
  batches: RetainedBatch[];
  /** Broker clock of the last append, for producer.id.expiration.ms. */
  lastUpdateMs: number;
  /** The coordinator epoch of the producer's last transaction marker (-1: none yet). */
  coordinatorEpoch?: number;
}

/** The producer fields of one batch header. */
export interface ProducerBatch {
  producerId: bigint;
  epoch: number;
  firstSeq: number;
  /** lastOffsetDelta of the batch: the sequence advances by it. */
  lastOffsetDelta: number;
}

export type SequenceVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: RetainedBatch }
  | { kind: 'reject'; errorCode: number; message: string };

export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerEntry>();

  /**
   * The table from a producer snapshot, less producers idle past `expirationMs` and not in a
   * transaction. A producer may have several entries, oldest first: its retained batches.
   */
  static fromSnapshot(entries: readonly ProducerSnapshotEntry[], nowMs: number, expirationMs: number): ProducerStateManager {
    const state = new ProducerStateManager();
    for (const e of entries) {
      const timestamp = Number(e.timestamp);
      if (e.currentTxnFirstOffset < 0n && nowMs - timestamp >= expirationMs) continue;
      // Only an open transaction is known of this producer: that is the transaction state's.
      if (e.lastSequence < 0 && e.timestamp < 0n) continue;
      let entry = state.producers.get(e.producerId);
      if (!entry || entry.epoch !== e.epoch) {
        entry = { epoch: e.epoch, batches: [], lastUpdateMs: timestamp };
        state.producers.set(e.producerId, entry);
      }
      entry.coordinatorEpoch = e.coordinatorEpoch;
      entry.lastUpdateMs = Math.max(entry.lastUpdateMs, timestamp);
      if (e.lastSequence >= 0 && e.lastOffset >= 0n) {
        entry.batches.push({ firstSeq: incrementSequence(e.lastSequence, -e.offsetDelta), lastSeq: e.lastSequence, firstOffset: e.lastOffset - BigInt(e.offsetDelta), lastOffset: e.lastOffset, timestamp });
        if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
      }
    }
    return state;
  }

  /**
   * Snapshot entries for the state as of `below`: per producer, an entry for each retained batch
   * written below it, oldest first (Kafka's format holds one batch an entry; Kafka, reading the
   * file, keeps the last entry of a producer, which is its newest batch), with its open
   * transaction's first offset from `openTransactions`. Batches at or above `below` are replayed
   * from the log on load.
   */
  snapshotEntries(below: bigint, openTransactions: ReadonlyMap<bigint, bigint>): ProducerSnapshotEntry[] {
    const out: ProducerSnapshotEntry[] = [];
    for (const [producerId, entry] of this.producers) {
      const txnFirst = openTransactions.get(producerId);
      const common = { producerId, epoch: entry.epoch, coordinatorEpoch: entry.coordinatorEpoch ?? -1, currentTxnFirstOffset: txnFirst ?? -1n };
      const written = entry.batches.filter((b) => !b.appended && b.lastOffset >= 0n && b.lastOffset < below);
      if (written.length === 0) out.push({ ...common, lastSequence: -1, lastOffset: -1n, offsetDelta: 0, timestamp: BigInt(entry.lastUpdateMs) });
      for (const b of written) out.push({ ...common, lastSequence: b.lastSeq, lastOffset: b.lastOffset, offsetDelta: Number(b.lastOffset - b.firstOffset), timestamp: BigInt(b.timestamp) });
    }
    // A producer with an open transaction but no entry here (expired meanwhile) keeps it.
    for (const [producerId, first] of openTransactions) {
      if (this.producers.has(producerId)) continue;
      out.push({ producerId, epoch: 0, lastSequence: -1, lastOffset: -1n, offsetDelta: 0, timestamp: -1n, coordinatorEpoch: -1, currentTxnFirstOffset: first });
    }
    return out;
  }

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<[bigint, ProducerEntry]> {
    return this.producers.entries();
  }

  /**
   * A transaction marker of the producer was written at `epoch`: a coordinator that bumped the
   * epoch to abort (a new instance, a timeout) fences batches of older epochs from here on, and
   * the new epoch starts at sequence 0.
   */
  recordMarker(producerId: bigint, epoch: number, nowMs: number, coordinatorEpoch = -1): void {
    const entry = this.producers.get(producerId);
    const coordinator = Math.max(coordinatorEpoch, entry?.coordinatorEpoch ?? -1);
    if (entry && entry.epoch >= epoch) {
      entry.lastUpdateMs = nowMs;
      entry.coordinatorEpoch = coordinator;
      return;
    }
    this.producers.set(producerId, { epoch, batches: [], lastUpdateMs: nowMs, coordinatorEpoch: coordinator });
  }

  /**
   * Kafka's appendEndTxnMarker check: a marker from a transaction coordinator older than the one
   * that last ended a transaction of this producer is refused (TRANSACTION_COORDINATOR_FENCED), so
   * a deposed coordinator's late marker cannot end a newer transaction.
   */
  checkMarker(producerId: bigint, coordinatorEpoch: number): { errorCode: number; message: string } | null {
    const last = this.producers.get(producerId)?.coordinatorEpoch ?? -1;
    if (coordinatorEpoch >= last) return null;
    return { errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED, message: `A marker of producer ${producerId} from coordinator epoch ${coordinatorEpoch} is older than epoch ${last}, which wrote its last marker.` };
  }

  /** Decides what to do with a batch, without changing anything. */
  check(batch: ProducerBatch): SequenceVerdict {
    const entry = this.producers.get(batch.producerId);
    // No state (a new producer, or one whose state expired): accept whatever sequence it continues
    // with, as Kafka does since KIP-360 rather than answering UNKNOWN_PRODUCER_ID.
    if (!entry) return { kind: 'append' };
    if (batch.epoch < entry.epoch) {
      return { kind: 'reject', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `Producer ${batch.producerId} epoch ${batch.epoch} is older than the current epoch ${entry.epoch}.` };
    }
    const lastSeq = incrementSequence(batch.firstSeq, batch.lastOffsetDelta);
    if (batch.epoch > entry.epoch) {
      if (batch.firstSeq === 0) return { kind: 'append' };
      return { kind: 'reject', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Producer ${batch.producerId} started epoch ${batch.epoch} at sequence ${batch.firstSeq}, not 0.` };
    }
    const duplicate = entry.batches.find((b) => b.firstSeq === batch.firstSeq && b.lastSeq === lastSeq);
    if (duplicate) return { kind: 'duplicate', batch: duplicate };
    const expected = entry.batches.length === 0 ? 0 : incrementSequence(entry.batches[entry.batches.length - 1].lastSeq, 1);
    if (batch.firstSeq !== expected) {
      return {
        kind: 'reject',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Producer ${batch.producerId} epoch ${batch.epoch}: expected sequence ${expected}, got ${batch.firstSeq}.`,
      };
    }
    return { kind: 'append' };
  }

  /** Records an appended (or replayed) batch. */
  record(batch: ProducerBatch, firstOffset: bigint, lastOffset: bigint, timestamp: number, nowMs: number): void {
    let entry = this.producers.get(batch.producerId);
    if (!entry || entry.epoch !== batch.epoch) {
      entry = { epoch: batch.epoch, batches: [], lastUpdateMs: nowMs };
      this.producers.set(batch.producerId, entry);
    }
    entry.batches.push({ firstSeq: batch.firstSeq, lastSeq: incrementSequence(batch.firstSeq, batch.lastOffsetDelta), firstOffset, lastOffset, timestamp });
    if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
    entry.lastUpdateMs = nowMs;
  }

  /**
   * Records a batch handed to the log but not yet written, so the producer's next batch is
   * checked against it and a retry of it waits for its offsets. Returns the retained entry.
   */
  recordPending(batch: ProducerBatch, appended: Promise<AppendResult>, nowMs: number): RetainedBatch {
    this.record(batch, -1n, -1n, nowMs, nowMs);
    const entry = this.producers.get(batch.producerId)!;
    const retained = entry.batches[entry.batches.length - 1];
    retained.appended = appended;
    return retained;
  }

  /** The pending batch was written at `result`'s offsets. */
  settle(producerId: bigint, retained: RetainedBatch, result: AppendResult): void {
    retained.firstOffset = result.baseOffset;
    retained.lastOffset = result.lastOffset;
    delete retained.appended;
    const entry = this.producers.get(producerId);
    if (entry) entry.lastUpdateMs = Math.max(entry.lastUpdateMs, retained.timestamp);
  }

  /**
   * The pending batch was not written (the log failed): drop it, so a retry is checked against
   * what the log holds. Batches of the producer checked against it after it were handed over in
   * order behind it, and the log fails those too.
   */
  forget(producerId: bigint, retained: RetainedBatch): void {
    const entry = this.producers.get(producerId);
    if (!entry) return;
    const at = entry.batches.indexOf(retained);
    if (at >= 0) entry.batches.splice(at);
    if (entry.batches.length === 0) this.producers.delete(producerId);
  }

  /** Forgets producers idle for longer than `expirationMs`; returns how many. */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (nowMs - entry.lastUpdateMs > expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }
}
