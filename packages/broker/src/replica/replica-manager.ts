/**
 * Kafka's ReplicaManager: owns a Partition per replica this broker hosts and is the only way
 * handlers and coordinators reach partition data. Leadership, the leader-epoch fence, the high
 * watermark and the delayed operations live here and in Partition, so replication changes these
 * files and not the handlers.
 */
import { BATCH_HEADER_SIZE, BatchIterator, BatchOffsets, ErrorCode, KafkaError, ProtocolError } from '@sluice/protocol';
import type { ReadBuffers, TopicConfig } from '@sluice/storage';
import { errorOf } from '../broker-context.js';
import type { Logger } from '../logger.js';
import { needsRecompression, recompress, targetCodec } from '../produce/recompress.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { LogLayer } from '../topics/log-layer.js';
import { DelayedFetch, DelayedProduce } from './delayed-operations.js';
import { isThrottledReplica, type ReplicationQuota } from './replication-quota.js';
import { Partition, type PartitionState } from './partition.js';
import type { ReplicaSelector, ReplicaView } from './replica-selector.js';
import { ReplicaAlterLogDirsManager } from './replica-alter-log-dirs.js';
import { ReplicaFetcherManager, type ReplicaFetcherConfig } from './replica-fetcher-manager.js';

/** What replication needs beyond one broker: the cluster metadata and Kafka's replica.* settings. */
export interface ReplicationConfig extends ReplicaFetcherConfig {
  replicaLagTimeMaxMs: number;
  /** leader.replication.throttled.rate, for replicas the topic lists as leader-throttled. */
  leaderQuota?: ReplicationQuota;
}

/** A hosted replica's leadership changed: leader or follower at `leaderEpoch`, or no longer hosted (null). */
export type LeadershipListener = (topic: string, index: number, role: 'leader' | 'follower' | null, leaderEpoch: number) => void;

export type LookupResult = { partition: Partition; errorCode: typeof ErrorCode.NONE } | { partition: null; errorCode: number };

/** Who is appending: clients' batches are recompressed and sequence-checked, the coordinators' are the broker's own. */
export type AppendOrigin = 'client' | 'coordinator';

export interface AppendParams {
  /** 0, 1 or -1 (all: wait until the ISR has the batch). */
  acks: number;
  /** How long acks=-1 waits for the ISR before REQUEST_TIMED_OUT. */
  timeoutMs: number;
  origin: AppendOrigin;
  /** The Produce request's transactional id (KIP-890 verification finds its coordinator by it). */
  transactionalId?: string | null;
}

export interface AppendOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: bigint;
  lastOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
}

export interface FetchTarget {
  /** Null when the partition could not be resolved; `errorCode` says why. */
  partition: Partition | null;
  errorCode: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  /** KIP-320 (Fetch v12+): the epoch of the last batch the fetcher has; -1 when unknown or not sent. */
  lastFetchedEpoch?: number;
}

export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** read_committed: the aborted transactions overlapping the records returned. */
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  /** Pooled when non-empty: the connection releases it after writing (or the caller, if unsent). */
  records: Buffer;
  /** KIP-392: the replica the consumer should fetch this partition from instead (no records come with it). */
  preferredReadReplica?: number;
  /** KIP-320: the fetcher's log diverged from ours; it truncates to this epoch's end here (no records come with it). */
  divergingEpoch?: { epoch: number; endOffset: bigint };
}

export interface FetchParams {
  targets: readonly FetchTarget[];
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
  buffers: ReadBuffers;
  /** A follower broker's fetch (replica id >= 0): reads to the log end and moves its state; -1 for consumers. */
  replicaId?: number;
  /** Fetch isolation_level: 1 (read_committed) reads only below the last stable offset. */
  isolationLevel?: number;
  /** KIP-392: the consumer's rack (Fetch v11+ rack_id, '' if none); null when the request version has no client metadata. */
  clientRack?: string | null;
}

const EMPTY = Buffer.alloc(0);
const key = (topic: string, index: number) => `${topic}\u0000${index}`;

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly delayedProduces = new Map<Partition, Set<DelayedProduce>>();
  private readonly delayedFetches = new Set<DelayedFetch>();
  /** High-watermark listeners by topic and partition, kept across the Partition being re-created. */
  private readonly hwWatchers = new Map<string, Set<(highWatermark: bigint) => void>>();
  private stopping = false;
  private transactionVerifier: TransactionVerifier | null = null;
  private readonly leadershipListeners = new Set<LeadershipListener>();
  private metadata: MetadataStore | null = null;
  private replication: ReplicationConfig | null = null;
  private fetcherManager: ReplicaFetcherManager | null = null;
  private isrTimer: NodeJS.Timeout | null = null;
  private replicaSelector: { select: ReplicaSelector; rackOf: (brokerId: number) => string | null } | null = null;

  /** AlterReplicaLogDirs: replicas being moved between this broker's log directories. */
  readonly logDirMoves: ReplicaAlterLogDirsManager;

  constructor(
    readonly localBrokerId: number,
    private readonly logs: LogLayer,
    private readonly logger: Logger,
  ) {
    this.logDirMoves = new ReplicaAlterLogDirsManager(logs, logger);
  }

  /**
   * AlterReplicaLogDirs for one replica: a hosted replica starts moving to `dir` (a future replica
   * copied, then swapped in); one not hosted yet will be created there (Kafka remembers the
   * destination). LOG_DIR_NOT_FOUND when `dir` is not one of log.dirs.
   */
  alterReplicaLogDir(topic: string, index: number, dir: string): number {
    if (!this.logs.logDirs.includes(dir)) return ErrorCode.LOG_DIR_NOT_FOUND;
    const partition = this.getPartition(topic, index);
    if (!partition) {
      this.logs.preferLogDir(topic, index, dir);
      return ErrorCode.NONE;
    }
    // A hosted replica moves even while its log is closed for a moment (the previous move's swap
    // closes the old log before the new one is in place); a replica being removed cancels the move.
    this.logDirMoves.start(partition, dir);
    return ErrorCode.NONE;
  }

  /**
   * Turns on the cluster side: followers fetch from their leaders (ReplicaFetcherManager) and
   * leaders shrink their ISR every replica.lag.time.max.ms / 2 (Kafka's isr-expiration task).
   */
  startReplication(metadata: MetadataStore, config: ReplicationConfig): void {
    this.metadata = metadata;
    this.replication = config;
    this.fetcherManager = new ReplicaFetcherManager(this.localBrokerId, (id) => metadata.brokers().find((b) => b.nodeId === id), config, this.logger);
    this.isrTimer = setInterval(() => this.maybeShrinkIsr(), Math.max(1, Math.floor(config.replicaLagTimeMaxMs / 2)));
    this.isrTimer.unref();
    const refollow = () => {
      for (const p of this.partitions.values()) if (p.role === 'follower' && !p.log.isClosed) this.fetcherManager?.addFetcherForPartition(p);
    };
    // A leader that (re)registers, perhaps at a new address, is fetched from there.
    metadata.onChange((change) => {
      if (change.kind === 'broker-registered') refollow();
    });
    // Partitions made followers before this call.
    refollow();
  }

  /** KIP-392: replica.selector.class, and each broker's rack (null: consumers read from leaders only). */
  setReplicaSelector(select: ReplicaSelector | null, rackOf: (brokerId: number) => string | null): void {
    this.replicaSelector = select ? { select, rackOf } : null;
  }

  /**
   * Kafka's findPreferredReadReplica, on the leader: the candidates are this broker and the ISR
   * followers that are registered and hold the fetch offset; the selector picks one. Null when it
   * picks the leader (or there is no selector, or the consumer named no rack).
   */
  private preferredReadReplica(partition: Partition, fetchOffset: bigint, clientRack: string, nowMs = Date.now()): number | null {
    const selector = this.replicaSelector;
    if (!selector || clientRack === '' || partition.role !== 'leader') return null;
    const alive = new Set((this.metadata?.brokers() ?? []).map((b) => b.nodeId));
    const leader: ReplicaView = { brokerId: this.localBrokerId, rack: selector.rackOf(this.localBrokerId), logEndOffset: partition.logEndOffset, timeSinceLastCaughtUpMs: 0 };
    const replicas: ReplicaView[] = [leader];
    for (const id of partition.state.replicas) {
      if (id === this.localBrokerId || !partition.isr.includes(id) || !alive.has(id)) continue;
      const f = partition.follower(id);
      if (!f || f.logEndOffset < fetchOffset || fetchOffset < partition.logStartOffset) continue;
      replicas.push({ brokerId: id, rack: selector.rackOf(id), logEndOffset: f.logEndOffset, timeSinceLastCaughtUpMs: nowMs - f.lastCaughtUpTimeMs });
    }
    const chosen = selector.select(clientRack, { leader, replicas });
    return chosen.brokerId === this.localBrokerId ? null : chosen.brokerId;
  }

  /** The follower side (null until startReplication): which fetcher serves which followed partition. */
  get replicaFetcherManager(): ReplicaFetcherManager | null {
    return this.fetcherManager;
  }

  /** Kafka's maybeShrinkIsr over every led partition: followers not caught up within the lag time leave. */
  maybeShrinkIsr(nowMs = Date.now()): void {
    if (!this.replication) return;
    for (const p of this.partitions.values()) {
      if (p.role !== 'leader' || p.isrChangePending || p.log.isClosed) continue;
      const out = p.outOfSyncReplicas(this.replication.replicaLagTimeMaxMs, nowMs);
      if (out.length > 0) this.alterIsr(p, p.isr.filter((id) => !out.includes(id)), `out of sync: ${out.join(',')}`);
    }
  }

  /**
   * Kafka's maybeExpandIsr: a follower that reached the HW (and this epoch's start) joins, if it is
   * a registered broker (KIP-841: one whose session expired stays out even while it still fetches).
   */
  private maybeExpandIsr(partition: Partition, replicaId: number): void {
    if (!this.metadata || partition.isrChangePending || !partition.isrCandidate(replicaId)) return;
    if (!this.metadata.brokers().some((b) => b.nodeId === replicaId)) return;
    this.alterIsr(partition, [...partition.isr, replicaId], `caught up: ${replicaId}`);
  }

  /**
   * Sends the ISR change to the metadata store (a compare-and-swap on the partition epoch). It
   * applies only when it comes back as new state through the reconciler; meanwhile the HW counts
   * the maximal ISR (pending). A refused change is dropped and re-evaluated on the next check.
   */
  private alterIsr(partition: Partition, isr: number[], why: string): void {
    const metadata = this.metadata;
    if (!metadata) return;
    const name = `${partition.topic}-${partition.index}`;
    const old = [...partition.isr];
    const epoch = partition.state.partitionEpoch;
    partition.setPendingIsr(isr);
    metadata.alterPartition(partition.topic, partition.index, epoch, { isr }).then(
      () => this.logger.info(`ISR of ${name} updated from [${old.join(',')}] to [${isr.join(',')}] (${why}, leader epoch ${partition.leaderEpoch}, partition epoch ${epoch})`),
      (err: unknown) => {
        // Stale epoch (INVALID_UPDATE_VERSION) or refused: our state catches up from the metadata first.
        if (partition.state.partitionEpoch === epoch) partition.setPendingIsr(null);
        this.logger.info(`ISR change of ${name} from [${old.join(',')}] to [${isr.join(',')}] refused: ${(err as Error).message}`);
      },
    );
  }

  /** Every log directory of this broker (log.dirs). */
  get logDirs(): readonly string[] {
    return this.logs.logDirs;
  }

  /** The log directory holding a hosted replica's log. */
  logDirOf(topic: string, index: number): string | undefined {
    return this.logs.logDirOf(topic, index);
  }

  /** Every replica hosted here (metrics walk them at scrape time). */
  hostedPartitions(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  getPartition(topic: string, index: number): Partition | undefined {
    return this.partitions.get(key(topic, index));
  }

  private async hosted(topic: string, index: number, state: PartitionState, config: TopicConfig): Promise<Partition> {
    const existing = this.getPartition(topic, index);
    // A log closed underneath (topic deleted and re-created) is a new partition.
    if (existing && !existing.log.isClosed) return existing;
    const log = await this.logs.create(topic, index, config);
    const partition = new Partition(topic, index, log, this.localBrokerId, state);
    const k = key(topic, index);
    partition.onHighWatermark((hw) => {
      for (const listener of [...(this.hwWatchers.get(k) ?? [])]) listener(hw);
    });
    this.partitions.set(k, partition);
    return partition;
  }

  /** Opens (or creates) the replica and makes it leader at `state.leaderEpoch` (Kafka's makeLeader). */
  async becomeLeader(topic: string, index: number, state: PartitionState, config: TopicConfig): Promise<Partition> {
    const partition = await this.hosted(topic, index, state, config);
    this.fetcherManager?.removeFetcherForPartition(topic, index);
    await partition.makeLeader(state);
    this.leadershipChanged(topic, index, 'leader', state.leaderEpoch);
    return partition;
  }

  /** Opens (or creates) the replica as a follower; writes waiting on it as leader fail. */
  async becomeFollower(topic: string, index: number, state: PartitionState, config: TopicConfig): Promise<Partition> {
    const partition = await this.hosted(topic, index, state, config);
    await partition.makeFollower(state);
    this.failDelayedProduces(partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // Parked replica fetches of the old leadership answer now.
    partition.logEndChanged();
    this.fetcherManager?.addFetcherForPartition(partition);
    this.leadershipChanged(topic, index, 'follower', state.leaderEpoch);
    return partition;
  }

  /** Stops hosting the replica (its log stays unless the topic is deleted). */
  stopReplica(topic: string, index: number): void {
    const partition = this.getPartition(topic, index);
    if (!partition) return;
    this.partitions.delete(key(topic, index));
    this.logDirMoves.cancel(topic, index);
    this.fetcherManager?.removeFetcherForPartition(topic, index);
    this.failDelayedProduces(partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.leadershipChanged(topic, index, null, partition.leaderEpoch);
  }

  /** Stops hosting the replica and deletes its log: the partition was moved off this broker. */
  async deleteReplica(topic: string, index: number): Promise<void> {
    this.stopReplica(topic, index);
    await this.logs.deletePartition(topic, index);
  }

  /** Coordinators load and unload their shards on these (Kafka's onLeadershipChange callback). */
  onLeadershipChange(listener: LeadershipListener): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  private leadershipChanged(topic: string, index: number, role: 'leader' | 'follower' | null, leaderEpoch: number): void {
    for (const listener of [...this.leadershipListeners]) listener(topic, index, role, leaderEpoch);
  }

  /** Stops every replica of the topic and removes its data (in the background). */
  async deleteTopic(topic: string): Promise<void> {
    for (const p of [...this.partitions.values()]) if (p.topic === topic) this.stopReplica(topic, p.index);
    await this.logs.deleteTopic(topic);
  }

  /** The transaction coordinator's check of transactional client writes. */
  setTransactionVerifier(verify: TransactionVerifier | null): void {
    this.transactionVerifier = verify;
  }

  /** Calls `listener` whenever the high watermark of this topic partition moves, whichever Partition hosts it. */
  watchHighWatermark(topic: string, index: number, listener: (highWatermark: bigint) => void): () => void {
    const k = key(topic, index);
    let set = this.hwWatchers.get(k);
    if (!set) this.hwWatchers.set(k, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.hwWatchers.get(k) === set) this.hwWatchers.delete(k);
    };
  }

  /**
   * A partition this broker leads, fenced by the caller's leader epoch. Hosted but led elsewhere:
   * NOT_LEADER_OR_FOLLOWER. Not hosted here: NOT_LEADER_OR_FOLLOWER too when the cluster's
   * metadata has the partition (Kafka's getPartitionOrError: the client refreshes its metadata
   * and goes to the leader), else UNKNOWN_TOPIC_OR_PARTITION.
   */
  lookup(topic: string, index: number, currentLeaderEpoch?: number, options: { allowFollower?: boolean } = {}): LookupResult {
    const partition = this.getPartition(topic, index);
    if (!partition || partition.log.isClosed) {
      const known = this.metadata?.topic(topic)?.partitions.some((p) => p.partition === index) ?? false;
      return { partition: null, errorCode: known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    const fenced = partition.checkLeaderEpoch(currentLeaderEpoch);
    if (fenced !== ErrorCode.NONE) return { partition: null, errorCode: fenced };
    // KIP-392: a consumer with client metadata (Fetch v11+) may read a follower, up to its HW.
    if (partition.role !== 'leader' && !options.allowFollower) return { partition: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    return { partition, errorCode: ErrorCode.NONE };
  }

  /**
   * Appends one partition's records as its leader. acks=-1 completes once the high watermark
   * passes the batch (a DelayedProduce), or with REQUEST_TIMED_OUT after `timeoutMs`.
   */
  async appendRecords(partition: Partition, records: Buffer, params: AppendParams): Promise<AppendOutcome> {
    const outcome: AppendOutcome = { errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: -1n, lastOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
    const name = `${partition.topic}-${partition.index}`;
    if (partition.role !== 'leader') return { ...outcome, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    // Kafka's appendRecordsToLeader: acks=all to an ISR below min.insync.replicas is refused unwritten.
    const minIsr = partition.config.minInsyncReplicas;
    if (params.acks === -1 && partition.isr.length < minIsr) {
      return { ...outcome, errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, errorMessage: `The ISR of ${name} has ${partition.isr.length} replica(s), fewer than min.insync.replicas=${minIsr}.` };
    }
    let requiredOffset: bigint;
    const leaderEpoch = partition.leaderEpoch;
    try {
      const options = { leaderEpoch };
      const log = partition.log;
      let appended: { baseOffset: bigint; lastOffset: bigint; logAppendTime: bigint; logStartOffset: bigint };
      if (params.origin === 'coordinator') {
        appended = await partition.writeAsLeader(leaderEpoch, (l) => l.appendAsLeader(records, { ...options, fromCoordinator: true }));
      } else {
        const target = targetCodec(log.config.compressionType);
        const prepare = async (bytes: Buffer) =>
          target !== null && needsRecompression(bytes, target)
            ? // Cap the decompressed size well above what a batch may hold, against bombs.
              recompress(bytes, target, Math.max(64 << 20, log.config.maxMessageBytes * 64))
            : bytes;
        const txnWrite = transactionalWriteOf(records);
        if (txnWrite) {
          if (!this.transactionVerifier) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The transaction coordinator is not started.');
          const ongoingHere = log.loadedTransactionState?.openTransactions().has(txnWrite.producerId) ?? false;
          const verdict = this.transactionVerifier({ topic: partition.topic, partition: partition.index, ...txnWrite, transactionalId: params.transactionalId ?? null, ongoingHere });
          const code = typeof verdict === 'number' ? verdict : await verdict;
          if (code !== ErrorCode.NONE) throw new KafkaError(code, `Producer ${txnWrite.producerId} has no ongoing transaction with ${name}.`);
        }
        // The log checks batches of idempotent producers (a retry is answered with its first offsets)
        // and stores what `prepare` gives once that check passed.
        appended = await partition.writeAsLeader(leaderEpoch, (l) => l.appendAsLeader(records, { ...options, prepare }));
      }
      partition.maybeIncrementLeaderHW();
      partition.logEndChanged();
      Object.assign(outcome, { baseOffset: appended.baseOffset, lastOffset: appended.lastOffset, logAppendTimeMs: appended.logAppendTime, logStartOffset: appended.logStartOffset });
      requiredOffset = appended.lastOffset + 1n;
    } catch (err) {
      // Bytes that fail to decompress while recompressing are a corrupt batch, not a broker fault.
      const { code, message } = err instanceof ProtocolError ? { code: ErrorCode.CORRUPT_MESSAGE, message: err.message } : errorOf(err, this.logger, `append to ${name}`);
      if (params.acks === 0) this.logger.warn(`acks=0 produce to ${name} failed: ${message}`);
      return { ...outcome, errorCode: code, errorMessage: message };
    }
    if (params.acks !== -1 || partition.highWatermark >= requiredOffset) return outcome;
    // Leadership moved while the batch was being written: the new leader may never have it.
    if (partition.role !== 'leader' || partition.leaderEpoch !== leaderEpoch) return { ...outcome, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    const code = await this.delayProduce(partition, requiredOffset, params.timeoutMs, minIsr);
    return code === ErrorCode.NONE ? outcome : { ...outcome, errorCode: code };
  }

  private async delayProduce(partition: Partition, requiredOffset: bigint, timeoutMs: number, minInsyncReplicas: number): Promise<number> {
    const delayed = new DelayedProduce(partition, requiredOffset, timeoutMs, minInsyncReplicas);
    let pending = this.delayedProduces.get(partition);
    if (!pending) this.delayedProduces.set(partition, (pending = new Set()));
    pending.add(delayed);
    try {
      return await delayed.completion;
    } finally {
      pending.delete(delayed);
      if (pending.size === 0) this.delayedProduces.delete(partition);
    }
  }

  private failDelayedProduces(partition: Partition, code: number): void {
    for (const d of this.delayedProduces.get(partition) ?? []) d.complete(code);
  }

  /**
   * Reads every target (up to its partition max bytes and the response's max bytes, the first
   * non-empty partition always getting at least one whole batch), and while fewer than minBytes
   * came back, parks on those partitions (a DelayedFetch) until the high watermark of one moves or
   * maxWaitMs passes, then reads again. Reads stop at the high watermark.
   */
  async fetchMessages(params: FetchParams): Promise<FetchPartitionResult[]> {
    const deadline = Date.now() + Math.max(0, params.maxWaitMs);
    const replicaId = params.replicaId ?? -1;
    if (replicaId >= 0) params = { ...params, targets: params.targets.map((t) => this.followerFetched(t, replicaId)) };
    const watched = params.targets.flatMap((t) => (t.partition ? [t.partition] : []));
    for (;;) {
      // A follower waits for the leader's log end to move (an append); a consumer for the HW.
      const delayed = new DelayedFetch(watched, replicaId >= 0 ? 'log-end' : 'high-watermark');
      this.delayedFetches.add(delayed);
      try {
        const { results, bytes, anyError, throttledForMs } = await this.readAll(params);
        const remaining = deadline - Date.now();
        if (bytes >= params.minBytes || anyError || remaining <= 0 || this.stopping) return results;
        // Not enough yet: these bytes are read again after the wait, so their buffers can go back now.
        for (const r of results) if (r.records.length) params.buffers.release(r.records);
        // A throttled follower is answered again once the replication quota allows more.
        await delayed.until(throttledForMs === null ? remaining : Math.max(1, Math.min(remaining, throttledForMs)));
      } finally {
        delayed.cancel();
        this.delayedFetches.delete(delayed);
      }
    }
  }

  /**
   * Kafka's updateFollowerFetchState, on receipt of a follower's fetch: the fetch offset is its log
   * end; the HW may move (waking acks=all produces) and the follower may join the ISR. A broker
   * that is not a replica of the partition is refused.
   */
  private followerFetched(target: FetchTarget, replicaId: number): FetchTarget {
    const partition = target.partition;
    if (!partition || target.errorCode !== ErrorCode.NONE) return target;
    if (!partition.state.replicas.includes(replicaId) || replicaId === this.localBrokerId) return { ...target, partition: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    // A diverged follower's fetch offset is not its log end as we know it: no state update (Kafka's
    // fetchRecords updates it only when there is no diverging epoch), and readAll answers the divergence.
    if (partition.divergingEpoch(target.fetchOffset, target.lastFetchedEpoch ?? -1) !== null) return target;
    if (target.fetchOffset > partition.logEndOffset || target.fetchOffset < partition.logStartOffset) return { ...target, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
    partition.updateFollowerFetchState(replicaId, target.fetchOffset);
    this.maybeExpandIsr(partition, replicaId);
    return target;
  }

  private async readAll(params: FetchParams) {
    let bytes = 0;
    let anyError = false;
    /** When a throttled partition was left out: how long until its quota allows more. */
    let throttledForMs: number | null = null;
    const results: FetchPartitionResult[] = [];
    // Sequential: each read's size limit depends on what the earlier partitions returned.
    for (const target of params.targets) {
      const partition = target.partition;
      if (!partition || partition.log.isClosed || target.errorCode !== ErrorCode.NONE) {
        anyError = true;
        const errorCode = target.errorCode !== ErrorCode.NONE ? target.errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        // OFFSET_OUT_OF_RANGE to a follower carries the log start it must restart at.
        const open = partition && !partition.log.isClosed ? partition : null;
        const hw = open ? open.highWatermark : -1n;
        results.push({ errorCode, highWatermark: hw, lastStableOffset: hw, logStartOffset: open ? open.logStartOffset : -1n, abortedTransactions: null, records: EMPTY });
        continue;
      }
      const budget = Math.min(target.partitionMaxBytes, params.maxBytes - bytes);
      const highWatermark = partition.highWatermark;
      const follower = (params.replicaId ?? -1) >= 0;
      const readCommitted = !follower && params.isolationLevel === 1;
      let txns = partition.log.loadedTransactionState;
      // Kafka answers the LSO whatever the isolation level: a log that has had a transaction since
      // it opened has its state loaded for a read_uncommitted fetch too (plain logs never pay).
      if (!txns && (readCommitted || (!follower && partition.log.hasTransactionalAppends))) {
        try {
          txns = await partition.log.transactionState();
        } catch (err) {
          results.push({ errorCode: errorOf(err, this.logger, `transaction state of ${partition.topic}-${partition.index}`).code, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: null, records: EMPTY });
          anyError = true;
          continue;
        }
      }
      const lastStableOffset = txns ? txns.lastStableOffset(highWatermark) : highWatermark;
      // KIP-392: a consumer sent to the leader with a rack a follower is in is pointed there.
      if (!follower && params.clientRack) {
        const preferred = this.preferredReadReplica(partition, target.fetchOffset, params.clientRack);
        if (preferred !== null) {
          anyError = true; // Answered at once, as Kafka does when it names a preferred read replica.
          results.push({ errorCode: ErrorCode.NONE, highWatermark, lastStableOffset, logStartOffset: partition.logStartOffset, abortedTransactions: null, records: EMPTY, preferredReadReplica: preferred });
          continue;
        }
      }
      // A follower whose HW is behind ours is answered at once, so it can serve consumers up to it.
      if (follower && partition.sendHighWatermark(params.replicaId!, highWatermark)) anyError = true;
      // KIP-320: checked before the offset range, so a fetcher past our end learns where to truncate.
      const diverging = partition.divergingEpoch(target.fetchOffset, target.lastFetchedEpoch ?? -1);
      if (diverging !== null) {
        anyError = true; // Answered at once, as Kafka's DelayedFetch does for a diverging epoch.
        results.push({ errorCode: ErrorCode.NONE, highWatermark, lastStableOffset, logStartOffset: partition.logStartOffset, abortedTransactions: null, records: EMPTY, divergingEpoch: diverging });
        continue;
      }
      // Followers read up to the log end: the HW only moves once they have the records.
      // read_committed stops at the LSO: records of open transactions are not given out yet.
      const upTo = follower ? partition.logEndOffset : readCommitted ? lastStableOffset : highWatermark;
      const result: FetchPartitionResult = { errorCode: ErrorCode.NONE, highWatermark, lastStableOffset, logStartOffset: partition.logStartOffset, abortedTransactions: readCommitted ? [] : null, records: EMPTY };
      // Kafka's shouldLeaderThrottle: an out-of-sync throttled follower gets nothing while the quota is spent.
      const quota = follower ? this.leaderQuotaFor(partition, params.replicaId!) : null;
      if (quota !== null && quota.isQuotaExceeded()) {
        throttledForMs = Math.min(throttledForMs ?? Infinity, quota.delayMs());
        results.push(result);
        continue;
      }
      if (target.fetchOffset !== upTo && budget > 0) {
        try {
          const read = await partition.read(target.fetchOffset, Math.max(0, budget), { maxOffset: upTo, minOneBatch: bytes === 0, buffers: params.buffers });
          result.records = read.records;
          result.highWatermark = read.highWatermark;
          result.logStartOffset = read.logStartOffset;
          if (readCommitted && txns && read.records.length > 0) {
            result.abortedTransactions = (await partition.log.abortedTransactions(target.fetchOffset, upTo)).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
          }
          bytes += read.records.length;
          quota?.record(read.records.length);
        } catch (err) {
          result.errorCode = errorOf(err, this.logger, `fetch from ${partition.topic}-${partition.index}`).code;
          anyError = true;
        }
      }
      results.push(result);
    }
    return { results, bytes, anyError, throttledForMs };
  }

  /** The leader-side quota when `replicaId`'s fetches of `partition` are throttled (listed for this broker, not in the ISR). */
  private leaderQuotaFor(partition: Partition, replicaId: number): ReplicationQuota | null {
    const quota = this.replication?.leaderQuota;
    if (quota === undefined || partition.isr.includes(replicaId)) return null;
    return isThrottledReplica(partition.config.leaderReplicationThrottledReplicas, partition.index, this.localBrokerId) ? quota : null;
  }

  /** New topic configs, applied to the topic's logs at once. */
  updateTopicConfig(topic: string, config: TopicConfig): void {
    this.logs.updateTopicConfig(topic, config);
  }

  /**
   * Stops following leaders for good (controlled shutdown does this first, so leaders do not add
   * this broker back to the ISRs it is leaving).
   */
  stopFetchers(): Promise<void> {
    const fetchers = this.fetcherManager;
    this.fetcherManager = null;
    return fetchers ? fetchers.shutdown() : Promise.resolve();
  }

  /** Shutdown: parked fetches answer at once with what they have; log directory moves stop (their future logs go). */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.logDirMoves.shutdown();
    for (const d of [...this.delayedFetches]) d.wake();
    if (this.isrTimer) clearInterval(this.isrTimer);
    this.isrTimer = null;
    const fetchers = this.fetcherManager;
    this.fetcherManager = null;
    if (fetchers) await fetchers.shutdown();
  }
}

/** What the ReplicaManager asks about a transactional batch before appending it (KIP-890). */
export interface TransactionalWriteCheck {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  /** From the Produce request. */
  transactionalId: string | null;
  /** The partition's log already has an open transaction of this producer. */
  ongoingHere: boolean;
}

/** The transaction coordinator's answer to a TransactionalWriteCheck: an error code, NONE when allowed. */
export type TransactionVerifier = (write: TransactionalWriteCheck) => number | Promise<number>;

const TRANSACTIONAL_ATTRIBUTE = 0x10;
const CONTROL_ATTRIBUTE = 0x20;

/**
 * Client batches: control batches (markers) come only from transaction coordinators; a
 * transactional batch must be of a transaction the coordinator added the partition to
 * (KIP-890 part 1, here without a round trip: the coordinator is in this process).
 */
/** The producer of a transactional data batch, null for other batches; control batches from clients are refused. */
function transactionalWriteOf(records: Buffer): { producerId: bigint; producerEpoch: number } | null {
  if (records.length < BATCH_HEADER_SIZE) return null;
  for (const it = new BatchIterator(records); it.next(); ) {
    if (it.isControl) throw new KafkaError(ErrorCode.INVALID_RECORD, 'Clients cannot write control batches.');
  }
  const attributes = records.readInt16BE(BatchOffsets.attributes);
  if ((attributes & TRANSACTIONAL_ATTRIBUTE) === 0 || (attributes & CONTROL_ATTRIBUTE) !== 0) return null;
  const producerId = records.readBigInt64BE(BatchOffsets.producerId);
  if (producerId < 0n) throw new KafkaError(ErrorCode.INVALID_RECORD, 'A transactional batch needs a producer id.');
  return { producerId, producerEpoch: records.readInt16BE(BatchOffsets.producerEpoch) };
}
