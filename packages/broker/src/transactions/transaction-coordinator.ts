/**
 * The transaction coordinator (Kafka's TransactionCoordinator) for the transactional ids whose
 * `__transaction_state` partitions this broker leads: one TransactionStateShard per partition, run
 * by a CoordinatorRuntime exactly as the group coordinator's shards are (loaded when this broker
 * becomes the partition's leader, unloaded when it resigns; NOT_COORDINATOR and
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile). Every state change is written to the partition before
 * it is acted on or answered; markers go to each partition's leader through the
 * TransactionMarkerWriter, and a transaction a shard loads in PREPARE_* is completed by it.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { ConnectionOptions } from '@sluice/client';
import type { BrokerContext } from '../broker-context.js';
import { CoordinatorRuntime, type LoadSummary } from '../coordinator/runtime.js';
import type { GroupCoordinator } from '../groups/index.js';
import { OFFSETS_TOPIC } from '../groups/offsets-log.js';
import type { ProducerIdAllocator } from '../producers/producer-ids.js';
import { RemoteTransactionVerifier } from './remote-verifier.js';
import type { TransactionalWriteCheck } from '../replica/replica-manager.js';
import { TransactionMarkerWriter, type MarkerTarget } from './marker-writer.js';
import { TRANSACTION_STATE_TOPIC, TransactionLog } from './transaction-log.js';
import { newTxn, partitionKey as pkey, toLog, TransactionStateShard, type TxnMetadata } from './transaction-state-shard.js';

export type { TxnMetadata } from './transaction-state-shard.js';

/** As Kafka: an epoch of Short.MAX_VALUE - 1 is exhausted, and the producer gets a new id. */
const EXHAUSTED_EPOCH = 32766;

export type InitResult = { errorCode: number; producerId: bigint; producerEpoch: number };

export class TransactionCoordinator {
  readonly log: TransactionLog;
  readonly markers: TransactionMarkerWriter;
  /** Asks other brokers' coordinators about transactional writes here (KIP-890). */
  readonly verifier: RemoteTransactionVerifier;
  readonly runtime: CoordinatorRuntime<TransactionStateShard>;
  /** One operation at a time per transactional id (Kafka holds the metadata lock). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  /** Set by load() on a single broker: it leads every partition, also any the topic gains later. */
  private leadsEveryPartition = false;
  /** Partitions whose leadership this broker has been told about (loaded or resigned). */
  private readonly decided = new Set<number>();

  constructor(
    private readonly broker: BrokerContext,
    private readonly producerIds: ProducerIdAllocator,
    private readonly groups: GroupCoordinator,
    connectionOptions: Pick<ConnectionOptions, 'tls' | 'sasl'> = {},
  ) {
    this.log = new TransactionLog(broker);
    this.markers = new TransactionMarkerWriter(broker, connectionOptions);
    this.verifier = new RemoteTransactionVerifier(broker, (transactionalId) => this.log.partitionFor(transactionalId), connectionOptions);
    this.runtime = new CoordinatorRuntime({
      topic: TRANSACTION_STATE_TOPIC,
      log: broker.logger,
      partition: (p) => this.log.partition(p),
      newShard: (context) => new TransactionStateShard(context, (shard) => this.onShardLoaded(shard)),
    });
  }

  private int(name: string, fallback: number): number {
    try {
      return this.broker.config.int(name);
    } catch {
      return fallback;
    }
  }

  // ------------------------------------------------------------------ leadership and lifecycle

  /** This broker leads `partition` of __transaction_state: load its transactional ids. */
  onBecomeLeader(partition: number, leaderEpoch: number): Promise<LoadSummary> {
    this.decided.add(partition);
    return this.runtime.onBecomeLeader(partition, leaderEpoch);
  }

  /** This broker no longer leads `partition`: its ids get NOT_COORDINATOR, its marker writing stops. */
  onResign(partition: number, leaderEpoch?: number): void {
    this.decided.add(partition);
    this.runtime.onResign(partition, leaderEpoch);
  }

  /** A shard finished loading: complete the transactions it found half-way (PREPARE_*). */
  private onShardLoaded(shard: TransactionStateShard): void {
    let resumed = 0;
    for (const txn of shard.txns.values()) {
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
        resumed++;
        this.complete(shard, txn);
      }
    }
    if (shard.txns.size > 0) {
      this.broker.logger.info(`${TRANSACTION_STATE_TOPIC}-${shard.context.partition}: loaded ${shard.txns.size} transactional id(s) at coordinator epoch ${shard.coordinatorEpoch}${resumed > 0 ? `, completing ${resumed}` : ''}`);
    }
  }

  /**
   * Start-up: a single broker leads every partition (also of a topic not created yet); a broker of
   * a cluster loads those it leads now, and the leadership hooks do the rest. Then the periodic
   * abort of timed-out transactions starts.
   */
  async start(): Promise<void> {
    const topic = this.broker.topics.get(TRANSACTION_STATE_TOPIC);
    const clustered = this.broker.metadata.clustered;
    this.leadsEveryPartition = !clustered;
    for (let p = 0; p < this.log.partitionCount; p++) {
      if (this.decided.has(p)) continue;
      if (clustered && this.broker.replicaManager.getPartition(TRANSACTION_STATE_TOPIC, p)?.role !== 'leader') continue;
      await this.onBecomeLeader(p, topic?.partitions[p]?.leaderEpoch ?? 0);
    }
    const interval = this.int('transaction.abort.timed.out.transaction.cleanup.interval.ms', 10_000);
    this.timer = setInterval(() => void this.abortTimedOut().catch((err: unknown) => this.broker.logger.warn(`aborting timed-out transactions: ${(err as Error).message}`)), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.leadsEveryPartition = false;
    this.markers.stop();
    this.verifier.stop();
    this.runtime.close();
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

  /** The id's shard, or the code to answer instead (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS). */
  private shardFor(transactionalId: string): TransactionStateShard | number {
    const partition = this.log.partitionFor(transactionalId);
    if (this.leadsEveryPartition && !this.decided.has(partition)) {
      // The topic was created (or grown) after start-up: a single broker leads the new partition too.
      const epoch = this.broker.topics.get(TRANSACTION_STATE_TOPIC)?.partitions[partition]?.leaderEpoch ?? 0;
      this.onBecomeLeader(partition, epoch).catch((err: unknown) => this.broker.logger.warn(`loading ${TRANSACTION_STATE_TOPIC}-${partition} failed: ${(err as Error).message}`));
    }
    try {
      return this.runtime.shard(partition);
    } catch (err) {
      return codeOf(err);
    }
  }

  /** The id's metadata if its shard is loaded here. */
  get(transactionalId: string): TxnMetadata | undefined {
    const partition = this.log.partitionFor(transactionalId);
    if (this.runtime.status(partition) !== 'active') return undefined;
    return this.runtime.shard(partition).txns.get(transactionalId);
  }

  /** The error DescribeTransactions answers for an id whose shard cannot serve here, NONE when it can. */
  coordinatorError(transactionalId: string): number {
    const shard = this.shardFor(transactionalId);
    return typeof shard === 'number' ? shard : ErrorCode.NONE;
  }

  /** True while some shard here is still loading (ListTransactions cannot be complete yet). */
  get loading(): boolean {
    return this.runtime.loading;
  }

  all(): TxnMetadata[] {
    return this.runtime.activeShards().flatMap((shard) => [...shard.txns.values()]);
  }

  private async persist(shard: TransactionStateShard, txn: TxnMetadata, next: Partial<TxnMetadata>): Promise<void> {
    await shard.write(txn.transactionalId, toLog({ ...txn, ...next }));
    Object.assign(txn, next);
  }

  // ------------------------------------------------------------------ InitProducerId

  initProducerId(transactionalId: string, timeoutMs: number, heldId: bigint, heldEpoch: number): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === '') return Promise.resolve(fail(ErrorCode.INVALID_REQUEST));
    if (timeoutMs <= 0 || timeoutMs > this.int('transaction.max.timeout.ms', 900_000)) return Promise.resolve(fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT));
    return this.locked(transactionalId, async () => {
      const shard = this.shardFor(transactionalId);
      if (typeof shard === 'number') return fail(shard);
      try {
        const now = Date.now();
        let txn = shard.txns.get(transactionalId);
        if (!txn || txn.state === 'Dead') {
          const producerId = await this.producerIds.allocate();
          txn = newTxn(transactionalId, producerId, timeoutMs, now);
          // Written before it is known: an id that is not stored was never handed out.
          await shard.write(transactionalId, toLog({ ...txn, producerEpoch: 0 }));
          txn.producerEpoch = 0;
          shard.txns.set(transactionalId, txn);
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
          this.abortOngoing(shard, txn, true);
          return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
        }
        let producerId = txn.producerId;
        let epoch = txn.producerEpoch + 1;
        if (txn.producerEpoch >= EXHAUSTED_EPOCH) {
          producerId = await this.producerIds.allocate();
          epoch = 0;
        }
        await this.persist(shard, txn, {
          lastProducerId: txn.producerId,
          lastProducerEpoch: txn.producerEpoch,
          producerId,
          producerEpoch: epoch,
          timeoutMs,
          state: 'Empty',
          partitions: new Map(),
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

  /** The shared checks of AddPartitions/AddOffsets/EndTxn. */
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
      const shard = this.shardFor(transactionalId);
      if (typeof shard === 'number') return partitions.map(() => shard);
      const txn = shard.txns.get(transactionalId);
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
        await this.persist(shard, txn, {
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

  // ------------------------------------------------------------------ EndTxn

  endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    return this.locked(transactionalId, async () => {
      const shard = this.shardFor(transactionalId);
      if (typeof shard === 'number') return shard;
      const txn = shard.txns.get(transactionalId);
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
        await this.persist(shard, txn, { state: commit ? 'PrepareCommit' : 'PrepareAbort', lastUpdateTimestampMs: Date.now() });
      } catch (err) {
        return codeOf(err);
      }
      // Answered once PREPARE_* is stored: the outcome is decided; markers follow.
      this.complete(shard, txn);
      return ErrorCode.NONE;
    });
  }

  /** Aborts an ongoing transaction (timed out, or a new producer instance): PREPARE_ABORT, then markers. */
  private abortOngoing(shard: TransactionStateShard, txn: TxnMetadata, bumpEpoch: boolean): void {
    if (txn.completing) return;
    const next: Partial<TxnMetadata> = { state: 'PrepareAbort', lastUpdateTimestampMs: Date.now() };
    // The bumped epoch is the markers' epoch: batches of the old one are refused from then on.
    if (bumpEpoch && txn.producerEpoch < EXHAUSTED_EPOCH) Object.assign(next, { lastProducerEpoch: txn.producerEpoch, lastProducerId: txn.producerId, producerEpoch: txn.producerEpoch + 1 });
    txn.completing = this.persist(shard, txn, next).then(
      () => {
        txn.completing = null;
        this.complete(shard, txn);
      },
      (err: unknown) => {
        txn.completing = null;
        this.broker.logger.warn(`aborting transaction ${txn.transactionalId}: ${(err as Error).message}`);
      },
    );
  }

  /**
   * Writes the markers of a PREPARE_* transaction to every partition's leader, then COMPLETE_*.
   * Retries until done, unless the shard is unloaded first: its next leader resumes from PREPARE_*.
   */
  private complete(shard: TransactionStateShard, txn: TxnMetadata): void {
    if (txn.completing) return;
    const commit = txn.state === 'PrepareCommit';
    const current = () => !shard.unloaded;
    const run = async () => {
      const targets = [...txn.partitions.values()];
      const written = await this.markers.writeAll({ producerId: txn.producerId, producerEpoch: txn.producerEpoch, coordinatorEpoch: shard.coordinatorEpoch, commit }, targets, current);
      if (!written) return;
      while (current()) {
        try {
          await this.persist(shard, txn, {
            state: commit ? 'CompleteCommit' : 'CompleteAbort',
            partitions: new Map(),
            lastUpdateTimestampMs: Date.now(),
          });
          return;
        } catch (err) {
          if (!current()) return;
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
    for (const shard of this.runtime.activeShards()) {
      for (const txn of [...shard.txns.values()]) {
        if (txn.state === 'Ongoing' && !txn.completing && now - txn.startTimestampMs > txn.timeoutMs) {
          aborted++;
          await this.locked(txn.transactionalId, async () => {
            if (txn.state === 'Ongoing' && !shard.unloaded) this.abortOngoing(shard, txn, true);
          });
        } else if ((txn.state === 'Empty' || txn.state === 'CompleteCommit' || txn.state === 'CompleteAbort') && !txn.completing && now - txn.lastUpdateTimestampMs > expiration) {
          await this.locked(txn.transactionalId, async () => {
            if (shard.unloaded) return;
            await shard.write(txn.transactionalId, null);
            shard.txns.delete(txn.transactionalId);
          });
        }
      }
    }
    return aborted;
  }

  /**
   * KIP-890 part 1: a transactional batch is taken only from the current epoch of a producer whose
   * ongoing transaction has the partition. Answered here when this broker coordinates the
   * producer's transactional id; otherwise its coordinator is asked, once per transaction and
   * partition (`ongoingHere`: the transaction already has batches in the partition, so its first
   * one was verified). Returns an error code, NONE when allowed.
   */
  verifyTransactionalWrite(write: TransactionalWriteCheck): number | Promise<number> {
    for (const txn of this.all()) {
      if (txn.producerId !== write.producerId) continue;
      if (write.producerEpoch < txn.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      if (txn.state !== 'Ongoing' || !txn.partitions.has(pkey(write.topic, write.partition))) return ErrorCode.INVALID_TXN_STATE;
      return ErrorCode.NONE;
    }
    if (!this.broker.metadata.clustered) return ErrorCode.INVALID_TXN_STATE;
    // Without its transactional id (a produce request before v3 never carries transactions) the
    // coordinator cannot be found: allowed, as brokers before KIP-890 do.
    if (write.transactionalId === null || write.ongoingHere) return ErrorCode.NONE;
    if (this.verifier.coordinatorOf(write.transactionalId) === this.broker.nodeId) {
      // Coordinated here, yet no transaction of this producer: unless the shard is still loading.
      return typeof this.shardFor(write.transactionalId) === 'number' ? ErrorCode.NOT_ENOUGH_REPLICAS : ErrorCode.INVALID_TXN_STATE;
    }
    return this.verifier.verify({ transactionalId: write.transactionalId, producerId: write.producerId, producerEpoch: write.producerEpoch, topic: write.topic, partition: write.partition });
  }
}

function codeOf(err: unknown): number {
  if (!(err instanceof KafkaError)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  // Kafka maps failed writes of the transaction log to codes the client retries.
  switch (err.code) {
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return err.code;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    default:
      return err.code;
  }
}
