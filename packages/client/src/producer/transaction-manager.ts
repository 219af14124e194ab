/**
 * The producer's identity and sequence bookkeeping, as Kafka's TransactionManager: the producer id
 * and epoch from InitProducerId, each partition's next sequence and the batches it has in flight,
 * giving sequences back when the broker refuses a batch, and the KIP-360 epoch bump. A batch whose
 * fate is unknown (retries exhausted or delivery timeout while sent) or an OUT_OF_ORDER_SEQUENCE_NUMBER
 * / UNKNOWN_PRODUCER_ID nothing explains leaves the broker's sequence for the partition unknowable:
 * the producer then bumps its epoch (InitProducerId with its current id and epoch, v3+) and every
 * partition starts again at sequence 0, instead of failing every later batch out of order.
 *
 * Transactions (AddPartitionsToTxn, EndTxn, …) come later; they add states between READY and
 * FATAL_ERROR and a transactional id, and reuse this identity and sequence state.
 */
import { ApiKey, BatchOffsets, ErrorCode, KafkaError, computeBatchCrc, incrementSequence } from '@sluice/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { UnsupportedVersionError } from '../errors.js';
import type { ProducerBatch } from './accumulator.js';

export const TransactionState = {
  UNINITIALIZED: 'UNINITIALIZED',
  INITIALIZING: 'INITIALIZING',
  READY: 'READY',
  // IN_TRANSACTION, COMMITTING_TRANSACTION, ABORTING_TRANSACTION, ABORTABLE_ERROR: with transactions.
  FATAL_ERROR: 'FATAL_ERROR',
} as const;
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

export interface ProducerIdAndEpoch {
  producerId: bigint;
  producerEpoch: number;
}

/** Per partition: what the producer has numbered and sent. */
export interface PartitionSequences {
  nextSequence: number;
  /** The next ProducerBatch.order. */
  nextOrder: number;
  /** The batches in flight, by ProducerBatch.order. */
  inFlight: Map<number, ProducerBatch>;
  /**
   * A batch of this partition was acknowledged (under the current epoch). Until then an idempotent
   * producer keeps one batch in flight: a broker without state for the producer accepts any first
   * sequence, so a batch overtaking a failed first one would be stored ahead of it.
   */
  acked: boolean;
}

/** Kafka's epochs are int16; past the last one a fresh producer id is needed. */
const MAX_EPOCH = 32767;

/** Errors an InitProducerId bump answers when the broker will not bump this id: start with a fresh one. */
const BUMP_REFUSED = new Set<number>([ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_ID_MAPPING]);

export class TransactionManager {
  readonly idempotent: boolean;
  private readonly cluster: Cluster;
  private currentState: TransactionState = TransactionState.UNINITIALIZED;
  private identity: ProducerIdAndEpoch | null = null;
  private readonly partitions = new Map<string, Map<number, PartitionSequences>>();
  private bumpRequired = false;
  private fatal: Error | null = null;

  constructor(cluster: Cluster, idempotent: boolean) {
    this.cluster = cluster;
    this.idempotent = idempotent;
    if (!idempotent) this.currentState = TransactionState.READY;
  }

  get state(): TransactionState {
    return this.currentState;
  }

  get producerIdAndEpoch(): Readonly<ProducerIdAndEpoch> | null {
    return this.identity;
  }

  /** The error that made the producer unusable (state FATAL_ERROR). */
  get fatalError(): Error | null {
    return this.fatal;
  }

  get epochBumpRequired(): boolean {
    return this.bumpRequired;
  }

  partition(topic: string, partition: number): PartitionSequences {
    let byPartition = this.partitions.get(topic);
    if (byPartition === undefined) this.partitions.set(topic, (byPartition = new Map()));
    let p = byPartition.get(partition);
    if (p === undefined) byPartition.set(partition, (p = { nextSequence: 0, nextOrder: 0, inFlight: new Map(), acked: false }));
    return p;
  }

  /** Obtains the first producer id (idempotent producers). */
  async initializeProducerId(): Promise<void> {
    if (!this.idempotent) return;
    this.transitionTo(TransactionState.INITIALIZING);
    try {
      this.identity = await this.initProducerId(null);
      this.transitionTo(TransactionState.READY);
    } catch (error) {
      this.transitionTo(TransactionState.UNINITIALIZED);
      throw error;
    }
  }

  /** Asks for a KIP-360 epoch bump; the sender runs it once nothing is in flight. */
  requestEpochBump(): void {
    if (this.idempotent && this.identity !== null) this.bumpRequired = true;
  }

  /**
   * Bumps the epoch (a fresh producer id when the broker cannot bump: InitProducerId below v3, the
   * epoch exhausted, or the id unknown to it) and starts every partition again at sequence 0.
   * `retained` lists each partition's built batches still to be sent, in order: they are renumbered
   * from 0 under the new identity. Call with nothing in flight.
   */
  async bumpEpoch(retained: Iterable<ProducerBatch>): Promise<void> {
    const held = this.identity;
    this.transitionTo(TransactionState.INITIALIZING);
    try {
      this.identity = await this.initProducerId(held);
    } catch (error) {
      this.fatal = error instanceof Error ? error : new Error(String(error));
      this.transitionTo(TransactionState.FATAL_ERROR);
      throw this.fatal;
    }
    this.bumpRequired = false;
    for (const byPartition of this.partitions.values()) {
      for (const p of byPartition.values()) {
        p.nextSequence = 0;
        p.acked = false;
      }
    }
    for (const b of retained) {
      const p = this.partition(b.topic, b.partition);
      b.sequenceShift = 0;
      this.rewrite(b, p.nextSequence);
      p.nextSequence = incrementSequence(p.nextSequence, b.records.length);
    }
    this.transitionTo(TransactionState.READY);
  }

  private async initProducerId(held: ProducerIdAndEpoch | null): Promise<ProducerIdAndEpoch> {
    return this.cluster.withRetry(async () => {
      const c = await this.cluster.anyConnection();
      const version = c.versionOf(ApiKey.InitProducerId);
      if (version < 0) throw new UnsupportedVersionError(`${c.address} does not support InitProducerId: idempotence is unavailable`);
      // Bumping needs v3 (KIP-360); an older broker, or an exhausted epoch, gets a fresh id instead.
      const bump = held !== null && version >= 3 && held.producerEpoch < MAX_EPOCH;
      const request = { transactionalId: null, transactionTimeoutMs: 60_000, producerId: bump ? held.producerId : -1n, producerEpoch: bump ? held.producerEpoch : -1 };
      let r = await c.request(ApiKey.InitProducerId, request);
      if (bump && BUMP_REFUSED.has(r.errorCode)) r = await c.request(ApiKey.InitProducerId, { ...request, producerId: -1n, producerEpoch: -1 });
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, 'InitProducerId');
      return { producerId: r.producerId ?? -1n, producerEpoch: r.producerEpoch };
    });
  }

  private transitionTo(state: TransactionState): void {
    this.currentState = state;
  }

  // ---- sequences and in-flight bookkeeping ----

  /** Whether `b` (the head of its partition's queue) may be sent now, as far as ordering goes. */
  maySend(b: ProducerBatch, maxInFlight: number): boolean {
    if (!this.idempotent) return true;
    const inFlight = this.partition(b.topic, b.partition).inFlight.size;
    // A retry goes once nothing earlier is in flight, so the broker sees sequences in order.
    return b.built !== null ? inFlight === 0 : inFlight < (this.partition(b.topic, b.partition).acked ? maxInFlight : 1);
  }

  /** Fixes a batch's place among its partition's batches and (idempotent) its sequence numbers, before it is built. */
  assign(b: ProducerBatch): { producerId: bigint; producerEpoch: number; baseSequence: number } {
    const p = this.partition(b.topic, b.partition);
    b.order = p.nextOrder++;
    const id = this.identity;
    if (id === null) return { producerId: -1n, producerEpoch: -1, baseSequence: -1 };
    b.baseSequence = p.nextSequence;
    p.nextSequence = incrementSequence(p.nextSequence, b.records.length);
    return { producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence: b.baseSequence };
  }

  markInFlight(b: ProducerBatch): void {
    this.partition(b.topic, b.partition).inFlight.set(b.order, b);
  }

  /** The batch's request finished (either way). */
  markDone(b: ProducerBatch): void {
    this.partition(b.topic, b.partition).inFlight.delete(b.order);
  }

  /** Whether a batch built before `b` for its partition is still in flight or (per `queuedEarlier`) queued for a retry. */
  earlierBatchPending(b: ProducerBatch, queuedEarlier: boolean): boolean {
    if (queuedEarlier) return true;
    for (const order of this.partition(b.topic, b.partition).inFlight.keys()) if (order < b.order) return true;
    return false;
  }

  /** The broker wrote `b`. */
  onAcknowledged(b: ProducerBatch, queued: readonly ProducerBatch[]): void {
    const p = this.partition(b.topic, b.partition);
    p.acked = true;
    if (b.sequenceShift !== 0) this.undoRelease(p, b, queued);
  }

  /** `b` goes back for a retry: sequences released while it was in flight are given back first. */
  onRetry(b: ProducerBatch): void {
    if (b.sequenceShift !== 0) {
      this.rewrite(b, incrementSequence(b.baseSequence, -b.sequenceShift));
      b.sequenceShift = 0;
    }
  }

  /**
   * The broker refused `failed` without writing it (too large, corrupt, …): the partition's later
   * batches move down by its record count so the broker sees no gap, as Kafka's client does.
   * Queued ones are rewritten now; those in flight come back OUT_OF_ORDER_SEQUENCE_NUMBER and are
   * rewritten before they are resent.
   */
  releaseSequences(failed: ProducerBatch, queued: readonly ProducerBatch[]): void {
    const p = this.partition(failed.topic, failed.partition);
    const n = failed.records.length;
    p.nextSequence = incrementSequence(p.nextSequence, -n);
    for (const x of queued) if (x.built !== null && x.order > failed.order) this.rewrite(x, incrementSequence(x.baseSequence, -n));
    for (const x of p.inFlight.values()) if (x.order > failed.order) x.sequenceShift += n;
  }

  /**
   * `acked` was written at the sequences it was sent with although earlier sequences were given
   * back meanwhile (a broker with no state for the producer accepts any sequence): the batches
   * after it continue from its sequences again.
   */
  private undoRelease(p: PartitionSequences, acked: ProducerBatch, queued: readonly ProducerBatch[]): void {
    const s = acked.sequenceShift;
    acked.sequenceShift = 0;
    p.nextSequence = incrementSequence(p.nextSequence, s);
    for (const x of queued) if (x.built !== null && x.order > acked.order) this.rewrite(x, incrementSequence(x.baseSequence, s));
    for (const x of p.inFlight.values()) if (x.order > acked.order) x.sequenceShift -= s;
  }

  /** Gives a built (not in flight) batch a new base sequence under the current identity: header fields and the CRC over them. */
  private rewrite(b: ProducerBatch, baseSequence: number): void {
    b.baseSequence = baseSequence;
    const built = b.built!;
    const id = this.identity;
    if (id !== null) {
      built.writeBigInt64BE(id.producerId, BatchOffsets.producerId);
      built.writeInt16BE(id.producerEpoch, BatchOffsets.producerEpoch);
    }
    built.writeInt32BE(baseSequence, BatchOffsets.baseSequence);
    built.writeUInt32BE(computeBatchCrc(built, 0, built.length), BatchOffsets.crc);
  }
}
