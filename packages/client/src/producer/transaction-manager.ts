/**
 * The producer's identity and sequence bookkeeping, as Kafka's TransactionManager: the producer id
 * and epoch from InitProducerId, each partition's next sequence and the batches it has in flight,
 * giving sequences back when the broker refuses a batch, and the KIP-360 epoch bump. A batch whose
 * fate is unknown (retries exhausted or delivery timeout while sent) or an OUT_OF_ORDER_SEQUENCE_NUMBER
 * / UNKNOWN_PRODUCER_ID nothing explains leaves the broker's sequence for the partition unknowable:
 * the producer then bumps its epoch (InitProducerId with its current id and epoch, v3+) and every
 * partition starts again at sequence 0, instead of failing every later batch out of order.
 *
 * With a transactional id the identity comes from the transaction coordinator, and the manager
 * also runs the transaction: AddPartitionsToTxn before a partition's first record of a transaction,
 * AddOffsetsToTxn + TxnOffsetCommit, EndTxn (states IN_TRANSACTION, COMMITTING_TRANSACTION,
 * ABORTING_TRANSACTION, ABORTABLE_ERROR).
 */
import { ApiKey, BatchOffsets, ErrorCode, KafkaError, computeBatchCrc, incrementSequence } from '@sluice/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { ConnectionError, MisuseError, ProducerFencedError, RequestTimeoutError, TransactionAbortableError, UnsupportedVersionError } from '../errors.js';
import type { ProducerBatch } from './accumulator.js';

export const TransactionState = {
  UNINITIALIZED: 'UNINITIALIZED',
  INITIALIZING: 'INITIALIZING',
  READY: 'READY',
  IN_TRANSACTION: 'IN_TRANSACTION',
  COMMITTING_TRANSACTION: 'COMMITTING_TRANSACTION',
  ABORTING_TRANSACTION: 'ABORTING_TRANSACTION',
  ABORTABLE_ERROR: 'ABORTABLE_ERROR',
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

  readonly transactionalId: string | null;
  private readonly transactionTimeoutMs: number;
  /** Partitions added to the current transaction (topic\0partition). */
  private readonly txnPartitions = new Set<string>();

  constructor(cluster: Cluster, idempotent: boolean, transactional: { transactionalId: string; transactionTimeoutMs: number } | null = null) {
    this.cluster = cluster;
    this.idempotent = idempotent || transactional !== null;
    this.transactionalId = transactional?.transactionalId ?? null;
    this.transactionTimeoutMs = transactional?.transactionTimeoutMs ?? 60_000;
    if (!this.idempotent) this.currentState = TransactionState.READY;
  }

  // ---- transactions ----

  /** The transaction coordinator, with a retry on errors that mean it moved or is loading. */
  private async coordinatorRequest<T>(call: (c: Awaited<ReturnType<Cluster['coordinatorFor']>>) => Promise<T>, errorOf: (r: T) => number, what: string): Promise<T> {
    const id = this.transactionalId!;
    for (let attempt = 0; ; attempt++) {
      let r: T;
      try {
        r = await call(await this.cluster.coordinatorFor(id, 1));
      } catch (err) {
        // The coordinator's broker went away (killed, restarting): find the new one and ask again.
        if (!lostConnection(err) || attempt >= 300) throw err;
        this.cluster.forgetCoordinator(id, 1);
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      const code = errorOf(r);
      if (code === ErrorCode.NONE) return r;
      if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE) this.cluster.forgetCoordinator(id, 1);
      const retriable = code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.CONCURRENT_TRANSACTIONS;
      if (retriable && attempt < 300) {
        await new Promise((r) => setTimeout(r, attempt < 10 ? 20 : 100));
        continue;
      }
      throw this.failure(code, what);
    }
  }

  /** Maps a coordinator's refusal: fencing is fatal, the rest aborts the transaction. */
  private failure(code: number, what: string): Error {
    if (code === ErrorCode.PRODUCER_FENCED || code === ErrorCode.INVALID_PRODUCER_EPOCH || code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED || code === ErrorCode.INVALID_PRODUCER_ID_MAPPING) {
      this.fatal = new ProducerFencedError(`${what}: ${new KafkaError(code, what).message}`);
      this.transitionTo(TransactionState.FATAL_ERROR);
      return this.fatal;
    }
    if (this.currentState === TransactionState.IN_TRANSACTION) this.transitionTo(TransactionState.ABORTABLE_ERROR);
    return new KafkaError(code, what);
  }

  private requireState(...states: TransactionState[]): void {
    if (this.fatal) throw this.fatal;
    if (!states.includes(this.currentState)) throw new MisuseError(`invalid transaction state ${this.currentState} (expected ${states.join(' or ')})`);
  }

  beginTransaction(): void {
    if (this.transactionalId === null) throw new MisuseError('beginTransaction needs a transactionalId');
    this.requireState(TransactionState.READY);
    this.txnPartitions.clear();
    this.transitionTo(TransactionState.IN_TRANSACTION);
  }

  /** Before records are appended: the partitions join the transaction (AddPartitionsToTxn). */
  async addPartitions(partitions: Iterable<{ topic: string; partition: number }>): Promise<void> {
    if (this.transactionalId === null) return;
    if (this.currentState === TransactionState.ABORTABLE_ERROR) throw new TransactionAbortableError('the transaction failed and must be aborted');
    this.requireState(TransactionState.IN_TRANSACTION);
    const missing = new Map<string, number[]>();
    for (const p of partitions) {
      const k = `${p.topic}\u0000${p.partition}`;
      if (this.txnPartitions.has(k)) continue;
      const list = missing.get(p.topic) ?? [];
      if (!list.includes(p.partition)) list.push(p.partition);
      missing.set(p.topic, list);
    }
    if (missing.size === 0) return;
    const id = this.identity!;
    const topics = [...missing].map(([name, list]) => ({ name, partitions: list }));
    await this.coordinatorRequest(
      (c) =>
        c.request(ApiKey.AddPartitionsToTxn, {
          v3AndBelowTransactionalId: this.transactionalId!,
          v3AndBelowProducerId: id.producerId,
          v3AndBelowProducerEpoch: id.producerEpoch,
          v3AndBelowTopics: topics,
          transactions: [{ transactionalId: this.transactionalId!, producerId: id.producerId, producerEpoch: id.producerEpoch, verifyOnly: false, topics }],
        }),
      (r) => {
        const results = r.resultsByTransaction?.[0]?.topicResults ?? r.resultsByTopicV3AndBelow ?? [];
        if ((r.errorCode ?? 0) !== 0) return r.errorCode ?? 0;
        for (const t of results) for (const p of t.resultsByPartition) if (p.partitionErrorCode !== 0 && p.partitionErrorCode !== ErrorCode.OPERATION_NOT_ATTEMPTED) return p.partitionErrorCode;
        return ErrorCode.NONE;
      },
      'AddPartitionsToTxn',
    );
    for (const [topic, list] of missing) for (const p of list) this.txnPartitions.add(`${topic}\u0000${p}`);
  }

  /** AddOffsetsToTxn, then TxnOffsetCommit to the group's coordinator. */
  async sendOffsets(offsets: { topic: string; partition: number; offset: bigint; metadata?: string | null; leaderEpoch?: number }[], group: { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null }): Promise<void> {
    if (this.currentState === TransactionState.ABORTABLE_ERROR) throw new TransactionAbortableError('the transaction failed and must be aborted');
    this.requireState(TransactionState.IN_TRANSACTION);
    const id = this.identity!;
    await this.coordinatorRequest(
      (c) => c.request(ApiKey.AddOffsetsToTxn, { transactionalId: this.transactionalId!, producerId: id.producerId, producerEpoch: id.producerEpoch, groupId: group.groupId }),
      (r) => r.errorCode,
      'AddOffsetsToTxn',
    );
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      list.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? -1, committedMetadata: o.metadata ?? '' });
      byTopic.set(o.topic, list);
    }
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        const c = await this.cluster.coordinatorFor(group.groupId);
        r = await c.request(ApiKey.TxnOffsetCommit, {
        transactionalId: this.transactionalId!,
        groupId: group.groupId,
        producerId: id.producerId,
        producerEpoch: id.producerEpoch,
        generationId: group.generationId,
        memberId: group.memberId,
        groupInstanceId: group.groupInstanceId,
          topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        });
      } catch (err) {
        if (!lostConnection(err) || attempt >= 100) throw err;
        this.cluster.forgetCoordinator(group.groupId);
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      const code = r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)).find((e) => e !== 0) ?? 0;
      if (code === 0) return;
      if ((code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.CONCURRENT_TRANSACTIONS) && attempt < 100) {
        this.cluster.forgetCoordinator(group.groupId);
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      throw this.failure(code, 'TxnOffsetCommit');
    }
  }

  /** EndTxn (records flushed by the caller first). */
  async endTransaction(commit: boolean): Promise<void> {
    if (commit) this.requireState(TransactionState.IN_TRANSACTION);
    else this.requireState(TransactionState.IN_TRANSACTION, TransactionState.ABORTABLE_ERROR);
    this.transitionTo(commit ? TransactionState.COMMITTING_TRANSACTION : TransactionState.ABORTING_TRANSACTION);
    // Nothing was added: the coordinator has no transaction to end.
    if (this.txnPartitions.size > 0) {
      const id = this.identity!;
      try {
        await this.coordinatorRequest(
          (c) => c.request(ApiKey.EndTxn, { transactionalId: this.transactionalId!, producerId: id.producerId, producerEpoch: id.producerEpoch, committed: commit }),
          (r) => r.errorCode,
          'EndTxn',
        );
      } catch (error) {
        if (this.currentState !== TransactionState.FATAL_ERROR) this.transitionTo(TransactionState.ABORTABLE_ERROR);
        throw error;
      }
    }
    this.txnPartitions.clear();
    this.transitionTo(TransactionState.READY);
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
      if (this.transactionalId !== null) {
        // The transaction coordinator fences older instances; CONCURRENT_TRANSACTIONS while it aborts theirs.
        return this.coordinatorRequest(
          (tc) => tc.request(ApiKey.InitProducerId, { transactionalId: this.transactionalId, transactionTimeoutMs: this.transactionTimeoutMs, producerId: held?.producerId ?? -1n, producerEpoch: held?.producerEpoch ?? -1 }),
          (r) => r.errorCode,
          'InitProducerId',
        ).then((r) => ({ producerId: r.producerId ?? -1n, producerEpoch: r.producerEpoch }));
      }
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

/** A request that failed because the broker could not be reached or did not answer: worth another coordinator lookup. */
function lostConnection(err: unknown): boolean {
  return err instanceof ConnectionError || err instanceof RequestTimeoutError;
}
