/**
 * The transaction coordinator (Kafka's TransactionCoordinator + TransactionStateManager) for the
 * transactional ids whose `__transaction_state` partitions this broker leads. Every state change
 * is written to that log before it is acted on or answered; markers are written by the
 * TransactionMarkerWriter, and a transaction found in PREPARE_* after a reload is completed.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { GroupCoordinator, OffsetCommitPartition } from '../groups/index.js';
import { OFFSETS_TOPIC } from '../groups/offsets-log.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import { TransactionMarkerWriter, type MarkerTarget } from './marker-writer.js';
import { TransactionLog, type TxnLogValue, type TxnState } from './transaction-log.js';

/** As Kafka: an epoch of Short.MAX_VALUE - 1 is exhausted, and the producer gets a new id. */
const EXHAUSTED_EPOCH = 32766;

export interface TxnMetadata {
  transactionalId: string;
  producerId: bigint;
  /** The id/epoch before the last bump, so a retried InitProducerId gets the same answer (KIP-360). */
  lastProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: Map<string, MarkerTarget>;
  startTimestampMs: number;
  lastUpdateTimestampMs: number;
  /** TxnOffsetCommit offsets per group, materialised by the commit marker, dropped on abort. */
  pendingOffsets: Map<string, OffsetCommitPartition[]>;
  /** Set while markers are being written (PREPARE_*). */
  completing: Promise<void> | null;
}

export type InitResult = { errorCode: number; producerId: bigint; producerEpoch: number };

const pkey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class TransactionCoordinator {
  readonly log: TransactionLog;
  readonly markers: TransactionMarkerWriter;
  private readonly txns = new Map<string, TxnMetadata>();
  /** One operation at a time per transactional id (Kafka holds the metadata lock). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private loaded = false;
  private loading: Promise<void> | null = null;
  /** Marks this coordinator's markers (no leader changes on one broker; bumped per load). */
  private coordinatorEpoch = 0;

  constructor(
    private readonly broker: BrokerContext,
    private readonly producerIds: ProducerIdAllocator,
    private readonly groups: GroupCoordinator,
  ) {
    this.log = new TransactionLog(broker);
    this.markers = new TransactionMarkerWriter(broker);
  }

  private int(name: string, fallback: number): number {
    try {
      return this.broker.config.int(name);
    } catch {
      return fallback;
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads the stored state and completes transactions found half-way (PREPARE_*). */
  start(): Promise<void> {
    this.loading ??= (async () => {
      const stored = await this.log.load();
      this.coordinatorEpoch++;
      for (const [id, v] of stored) this.txns.set(id, fromLog(id, v));
      this.loaded = true;
      for (const txn of this.txns.values()) {
        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') this.complete(txn);
      }
      if (stored.size > 0) this.broker.logger.info(`transaction coordinator loaded ${stored.size} transactional id(s)`);
      const interval = this.int('transaction.abort.timed.out.transaction.cleanup.interval.ms', 10_000);
      this.timer = setInterval(() => void this.abortTimedOut().catch((err: unknown) => this.broker.logger.warn(`aborting timed-out transactions: ${(err as Error).message}`)), interval);
      this.timer.unref();
    })();
    return this.loading;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.markers.stop();
  }

  /** Runs `fn` after every earlier operation on the same transactional id. */
  private locked<T>(transactionalId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(transactionalId) ?? Promise.resolve();
    const run = before.then(fn);
    const tail = run.catch(() => undefined);
    this.locks.set(transactionalId, tail);
    void tail.then(() => {
      if (this.locks.get(transactionalId) === tail) this.locks.delete(transactionalId);
    });
    return run;
  }

  private async ready(): Promise<number> {
    if (this.loaded) return ErrorCode.NONE;
    try {
      await this.start();
      return ErrorCode.NONE;
    } catch {
      return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }
  }

  get(transactionalId: string): TxnMetadata | undefined {
    return this.txns.get(transactionalId);
  }

  all(): TxnMetadata[] {
    return [...this.txns.values()];
  }

  private async persist(txn: TxnMetadata, next: Partial<TxnMetadata>): Promise<void> {
    const candidate = { ...txn, ...next };
    await this.log.write(txn.transactionalId, toLog(candidate));
    Object.assign(txn, next);
  }

  // ------------------------------------------------------------------ InitProducerId

  initProducerId(transactionalId: string, timeoutMs: number, heldId: bigint, heldEpoch: number): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === '') return Promise.resolve(fail(ErrorCode.INVALID_REQUEST));
    if (timeoutMs <= 0 || timeoutMs > this.int('transaction.max.timeout.ms', 900_000)) return Promise.resolve(fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT));
    return this.locked(transactionalId, async () => {
      const ready = await this.ready();
      if (ready !== ErrorCode.NONE) return fail(ready);
      try {
        const now = Date.now();
        let txn = this.txns.get(transactionalId);
        if (!txn || txn.state === 'Dead') {
          const producerId = await this.producerIds.allocate();
          txn = newTxn(transactionalId, producerId, timeoutMs, now);
          // Written before it is known: an id that is not stored was never handed out.
          await this.log.write(transactionalId, toLog({ ...txn, producerEpoch: 0 }));
          txn.producerEpoch = 0;
          this.txns.set(transactionalId, txn);
          return { errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
        }
        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort' || txn.completing) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        if (heldId >= 0n) {
          // KIP-360: a retry of the bump that already happened gets the same answer.
          if (heldId === txn.lastProducerId && heldEpoch === txn.lastProducerEpoch && txn.state !== 'Ongoing') {
            return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
          }
          if (heldId !== txn.producerId || heldEpoch !== txn.producerEpoch) return fail(ErrorCode.PRODUCER_FENCED);
        }
        if (txn.state === 'Ongoing') {
          // A new producer instance (or a recovering one): fence the old epoch and abort what it left open.
          this.abortOngoing(txn, true);
          return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        }
        let producerId = txn.producerId;
        let epoch = txn.producerEpoch + 1;
        if (txn.producerEpoch >= EXHAUSTED_EPOCH) {
          producerId = await this.producerIds.allocate();
          epoch = 0;
        }
        await this.persist(txn, {
          lastProducerId: txn.producerId,
          lastProducerEpoch: txn.producerEpoch,
          producerId,
          producerEpoch: epoch,
          timeoutMs,
          state: 'Empty',
          partitions: new Map(),
          pendingOffsets: new Map(),
          startTimestampMs: -1,
          lastUpdateTimestampMs: now,
        });
        return { errorCode: ErrorCode.NONE, producerId, producerEpoch: epoch };
      } catch (err) {
        return fail(codeOf(err));
      }
    });
  }

  // ------------------------------------------------------------------ AddPartitionsToTxn / AddOffsetsToTxn

  /** The shared checks of AddPartitions/AddOffsets/EndTxn/TxnOffsetCommit. */
  private check(txn: TxnMetadata | undefined, producerId: bigint, producerEpoch: number): number {
    if (!txn || txn.state === 'Dead') return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort' || txn.state === 'PrepareEpochFence' || txn.completing) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.NONE;
  }

  /**
   * AddPartitionsToTxn for one transaction: an error code per partition. `verifyOnly` (KIP-890)
   * only says whether each partition is already in the transaction.
   */
  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: MarkerTarget[], verifyOnly = false): Promise<number[]> {
    return this.locked(transactionalId, async () => {
      const ready = await this.ready();
      if (ready !== ErrorCode.NONE) return partitions.map(() => ready);
      const txn = this.txns.get(transactionalId);
      const code = this.check(txn, producerId, producerEpoch);
      if (code !== ErrorCode.NONE || !txn) return partitions.map(() => code);
      if (verifyOnly) return partitions.map((p) => (txn.state === 'Ongoing' && txn.partitions.has(pkey(p.topic, p.partition)) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE));
      const unknown = partitions.map((p) => (this.broker.topics.get(p.topic)?.partitions[p.partition] ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      if (unknown.some((c) => c !== ErrorCode.NONE)) return unknown.map((c) => (c === ErrorCode.NONE ? ErrorCode.OPERATION_NOT_ATTEMPTED : c));
      const added = new Map(txn.partitions);
      for (const p of partitions) added.set(pkey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
      if (added.size === txn.partitions.size && txn.state === 'Ongoing') return partitions.map(() => ErrorCode.NONE);
      const now = Date.now();
      try {
        await this.persist(txn, {
          state: 'Ongoing',
          partitions: added,
          startTimestampMs: txn.state === 'Ongoing' ? txn.startTimestampMs : now,
          lastUpdateTimestampMs: now,
        });
      } catch (err) {
        return partitions.map(() => codeOf(err));
      }
      return partitions.map(() => ErrorCode.NONE);
    });
  }

  /** AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction. */
  async addOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    try {
      await this.groups.offsetsLog.ensureTopic();
    } catch (err) {
      return codeOf(err);
    }
    const [code] = await this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic: OFFSETS_TOPIC, partition: this.groups.partitionFor(groupId) }]);
    return code;
  }

  /**
   * TxnOffsetCommit: offsets held for the transaction until its commit marker. The group checks
   * the member/generation now, as Kafka's group coordinator does.
   */
  txnOffsetCommit(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    request: { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null; partitions: OffsetCommitPartition[] },
  ): Promise<number[]> {
    return this.locked(transactionalId, async () => {
      const txn = this.txns.get(transactionalId);
      let code = this.check(txn, producerId, producerEpoch);
      const offsetsPartition = pkey(OFFSETS_TOPIC, this.groups.partitionFor(request.groupId));
      if (code === ErrorCode.NONE && txn && (txn.state !== 'Ongoing' || !txn.partitions.has(offsetsPartition))) code = ErrorCode.INVALID_TXN_STATE;
      if (code === ErrorCode.NONE) code = this.groups.validateTxnOffsetCommit({ ...request, retentionTimeMs: -1 });
      if (code !== ErrorCode.NONE || !txn) return request.partitions.map(() => code);
      const codes = request.partitions.map((p) => (this.broker.topics.get(p.topic)?.partitions[p.partition] ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      const held = txn.pendingOffsets.get(request.groupId) ?? [];
      request.partitions.forEach((p, i) => {
        if (codes[i] !== ErrorCode.NONE) return;
        const at = held.findIndex((h) => h.topic === p.topic && h.partition === p.partition);
        if (at >= 0) held[at] = p;
        else held.push(p);
      });
      txn.pendingOffsets.set(request.groupId, held);
      return codes;
    });
  }

  /** True while a transaction holds an offset of the group's partition not yet committed or aborted. */
  hasPendingOffset(groupId: string, topic: string, partition: number): boolean {
    for (const txn of this.txns.values()) {
      if (txn.pendingOffsets.get(groupId)?.some((p) => p.topic === topic && p.partition === partition)) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ EndTxn

  endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    return this.locked(transactionalId, async () => {
      const ready = await this.ready();
      if (ready !== ErrorCode.NONE) return ready;
      const txn = this.txns.get(transactionalId);
      if (!txn || txn.state === 'Dead' || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
      switch (txn.state) {
        case 'Ongoing':
          break;
        case 'CompleteCommit':
          return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
        case 'CompleteAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
        case 'PrepareCommit':
          return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
        case 'PrepareAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
        default:
          return ErrorCode.INVALID_TXN_STATE;
      }
      try {
        await this.persist(txn, { state: commit ? 'PrepareCommit' : 'PrepareAbort', lastUpdateTimestampMs: Date.now() });
      } catch (err) {
        return codeOf(err);
      }
      // Answered once PREPARE_* is stored: the outcome is decided; markers follow.
      this.complete(txn);
      return ErrorCode.NONE;
    });
  }

  /** Aborts an ongoing transaction (timed out, or a new producer instance): PREPARE_ABORT, then markers. */
  private abortOngoing(txn: TxnMetadata, bumpEpoch: boolean): void {
    if (txn.completing) return;
    const next: Partial<TxnMetadata> = { state: 'PrepareAbort', lastUpdateTimestampMs: Date.now() };
    // The bumped epoch is the markers' epoch: batches of the old one are refused from then on.
    if (bumpEpoch && txn.producerEpoch < EXHAUSTED_EPOCH) Object.assign(next, { lastProducerEpoch: txn.producerEpoch, lastProducerId: txn.producerId, producerEpoch: txn.producerEpoch + 1 });
    txn.completing = this.persist(txn, next).then(
      () => {
        txn.completing = null;
        this.complete(txn);
      },
      (err: unknown) => {
        txn.completing = null;
        this.broker.logger.warn(`aborting transaction ${txn.transactionalId}: ${(err as Error).message}`);
      },
    );
  }

  /** Writes the markers of a PREPARE_* transaction, then COMPLETE_*. Retries until done. */
  private complete(txn: TxnMetadata): void {
    if (txn.completing) return;
    const commit = txn.state === 'PrepareCommit';
    const run = async () => {
      const targets = [...txn.partitions.values()];
      await this.markers.writeAll({ producerId: txn.producerId, producerEpoch: txn.producerEpoch, coordinatorEpoch: this.coordinatorEpoch, commit }, targets);
      if (commit) {
        for (const [groupId, partitions] of txn.pendingOffsets) {
          const codes = await this.groups.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, partitions }, { transactional: true });
          if (codes.some((c) => c !== ErrorCode.NONE)) this.broker.logger.warn(`transaction ${txn.transactionalId}: offsets of group ${groupId} not committed: ${codes.join(',')}`);
        }
      }
      for (;;) {
        try {
          await this.persist(txn, {
            state: commit ? 'CompleteCommit' : 'CompleteAbort',
            partitions: new Map(),
            pendingOffsets: new Map(),
            lastUpdateTimestampMs: Date.now(),
          });
          return;
        } catch (err) {
          this.broker.logger.warn(`completing transaction ${txn.transactionalId}: ${(err as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    txn.completing = run().finally(() => (txn.completing = null));
  }

  /** Proactive abort of transactions open longer than their timeout; expiry of idle ids. */
  async abortTimedOut(now = Date.now()): Promise<number> {
    let aborted = 0;
    const expiration = this.int('transactional.id.expiration.ms', 604_800_000);
    for (const txn of [...this.txns.values()]) {
      if (txn.state === 'Ongoing' && !txn.completing && now - txn.startTimestampMs > txn.timeoutMs) {
        aborted++;
        await this.locked(txn.transactionalId, async () => {
          if (txn.state === 'Ongoing') this.abortOngoing(txn, true);
        });
      } else if ((txn.state === 'Empty' || txn.state === 'CompleteCommit' || txn.state === 'CompleteAbort') && !txn.completing && now - txn.lastUpdateTimestampMs > expiration) {
        await this.locked(txn.transactionalId, async () => {
          await this.log.write(txn.transactionalId, null);
          this.txns.delete(txn.transactionalId);
        });
      }
    }
    return aborted;
  }

  /**
   * KIP-890 part 1 on one broker: a transactional batch is taken only from the current epoch of
   * a producer whose ongoing transaction has the partition. Returns an error code, NONE when allowed.
   */
  verifyTransactionalWrite(topic: string, partition: number, producerId: bigint, producerEpoch: number): number {
    for (const txn of this.txns.values()) {
      if (txn.producerId !== producerId) continue;
      if (producerEpoch < txn.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      if (txn.state !== 'Ongoing' || !txn.partitions.has(pkey(topic, partition))) return ErrorCode.INVALID_TXN_STATE;
      return ErrorCode.NONE;
    }
    // In a cluster the producer's coordinator may be another broker: not verifiable here without
    // KIP-890's round trip, so allowed (as brokers before KIP-890 do).
    return this.broker.metadata.clustered ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
  }
}

function newTxn(transactionalId: string, producerId: bigint, timeoutMs: number, now: number): TxnMetadata {
  return {
    transactionalId,
    producerId,
    lastProducerId: -1n,
    producerEpoch: -1,
    lastProducerEpoch: -1,
    timeoutMs,
    state: 'Empty',
    partitions: new Map(),
    startTimestampMs: -1,
    lastUpdateTimestampMs: now,
    pendingOffsets: new Map(),
    completing: null,
  };
}

function toLog(t: Pick<TxnMetadata, 'producerId' | 'producerEpoch' | 'timeoutMs' | 'state' | 'partitions' | 'lastUpdateTimestampMs' | 'startTimestampMs'>): TxnLogValue {
  return {
    producerId: t.producerId,
    producerEpoch: t.producerEpoch,
    timeoutMs: t.timeoutMs,
    state: t.state,
    partitions: [...t.partitions.values()],
    lastUpdateTimestampMs: t.lastUpdateTimestampMs,
    startTimestampMs: t.startTimestampMs,
  };
}

function fromLog(transactionalId: string, v: TxnLogValue): TxnMetadata {
  const txn = newTxn(transactionalId, v.producerId, v.timeoutMs, v.lastUpdateTimestampMs);
  txn.producerEpoch = v.producerEpoch;
  txn.state = v.state;
  txn.startTimestampMs = v.startTimestampMs;
  for (const p of v.partitions) txn.partitions.set(pkey(p.topic, p.partition), p);
  return txn;
}

function codeOf(err: unknown): number {
  if (err instanceof KafkaError) return err.code;
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
