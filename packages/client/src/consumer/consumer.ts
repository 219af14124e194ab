/**
 * The consumer: `subscribe` (group) or `assign` (manual), records as an async iterator with
 * back-pressure (the fetcher stops when the buffer is full), `run({ eachMessage | eachBatch })`
 * on top, commits (auto, sync, async), seeks, offsetsForTimes, pause/resume.
 *
 * Commit semantics: a record counts as consumed when the application asks for the next one (or
 * the eachMessage handler returns), so auto-commit never commits a record still being processed.
 *
 * Parts, as in Kafka's client: `SubscriptionState` (assignment, positions with leader epochs,
 * pause, reset strategy), the `Fetcher`, `GroupMembership` (join/sync/heartbeat) and the
 * `ConsumerCoordinator` (commits and OffsetFetch, with the membership's generation).
 */
import { ConsumerMetrics, registerSnapshot, type ConsumerMetricsSnapshot, type MetricRegistry } from '../metrics.js';
import { ErrorCode, KafkaError, type KafkaRecord, type RecordHeader } from '@sluice/protocol';
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { MisuseError, isRetriable } from '../errors.js';
import { listOffsetsVia, OffsetSpec } from '../admin/admin.js';
import { builtInAssignors, type Assignor, type AssignorName, type TopicPartition } from './assignors.js';
import { Fetcher } from './fetcher.js';
import { GroupMembership, tpKey } from './group.js';
import { ConsumerCoordinator, isRebalanceError, type OffsetToCommit } from './consumer-coordinator.js';
import { SubscriptionState, leaderEpochOf, type FetchedBatch, type FetchPosition, type PartitionState } from './subscription-state.js';

export type { OffsetToCommit } from './consumer-coordinator.js';

export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: K;
  value: V;
  headers: RecordHeader[];
}

export interface ConsumerBatch<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  highWatermark: bigint;
  records: Array<ConsumerRecord<K, V>>;
}

/** Runs before ownership changes; the consumer waits for the returned promise. */
export interface RebalanceListener {
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** The partitions were already taken away (session or poll interval expired): do not commit. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** Turns a record's key or value bytes into an application value. */
export type Deserializer<T> = (data: Buffer | null, topic: string) => T;

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> extends ClusterOptions {
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
  groupId?: string;
  /** Static membership (KIP-345). */
  groupInstanceId?: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest the application may hold one record before the member leaves (default 300000). */
  maxPollIntervalMs?: number;
  assignors?: Array<Assignor | AssignorName>;
  rebalanceListener?: RebalanceListener;
  enableAutoCommit?: boolean;
  autoCommitIntervalMs?: number;
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  fetchMaxBytes?: number;
  maxPartitionFetchBytes?: number;
  /** client.rack (KIP-392): brokers with replica.selector.class set to the rack-aware selector let the consumer read from a replica in this rack. */
  clientRack?: string;
}

export class Consumer<K = Buffer | null, V = Buffer | null> {
  readonly cluster: Cluster;
  private readonly options: ConsumerOptions<K, V>;
  private readonly toKey: Deserializer<K>;
  private readonly toValue: Deserializer<V>;
  private readonly groupId: string | null;
  private readonly subscriptions: SubscriptionState;
  private readonly fetcher: Fetcher;
  private readonly coordinator: ConsumerCoordinator | null;
  private group: GroupMembership | null = null;
  private connected: Promise<void> | null = null;
  private recordWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private holding: { state: PartitionState; version: number; next: bigint; leaderEpoch: number } | null = null;
  private holdingSince = 0;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private metadataTimer: NodeJS.Timeout | null = null;
  private subscriptionSnapshot = '';
  private errors: Error[] = [];
  private closed = false;

  private readonly metricsState = new ConsumerMetrics(() => {
    const lags: Record<string, number> = {};
    for (const s of this.subscriptions.partitions()) {
      const position = s.consumedPosition ?? s.fetchPosition;
      if (position !== null && s.highWatermark >= 0n) lags[`${s.topic}-${s.partition}`] = Math.max(0, Number(s.highWatermark - position));
    }
    return lags;
  });

  /** Kafka's consumer fetch-manager and coordinator metrics, as a snapshot (see metrics.ts). */
  metrics(): ConsumerMetricsSnapshot {
    return this.metricsState.snapshot();
  }

  /** Puts these metrics on a prom-client Registry (`kafka_consumer_consumer_metrics_*{client_id}`; records_lag per partition). */
  registerMetrics(registry: MetricRegistry): void {
    registerSnapshot(registry, 'kafka_consumer_consumer_metrics', this.cluster.clientId, () => this.metricsState.snapshot());
  }

  constructor(options: ConsumerOptions<K, V>) {
    this.cluster = new Cluster(options);
    this.options = options;
    // Without deserializers K and V are Buffer | null (the defaults), so the bytes pass through.
    this.toKey = options.keyDeserializer ?? ((b) => b as K);
    this.toValue = options.valueDeserializer ?? ((b) => b as V);
    this.groupId = options.groupId ?? null;
    if (this.groupId === '') throw new MisuseError('groupId must not be empty');
    this.subscriptions = new SubscriptionState(options.autoOffsetReset ?? 'latest');
    this.coordinator = this.groupId !== null ? new ConsumerCoordinator(this.cluster, this.groupId, options.groupInstanceId ?? null) : null;
    this.fetcher = new Fetcher(
      this.cluster,
      {
        minBytes: options.fetchMinBytes ?? 1,
        maxWaitMs: options.fetchMaxWaitMs ?? 500,
        maxBytes: options.fetchMaxBytes ?? 52_428_800,
        maxPartitionFetchBytes: options.maxPartitionFetchBytes ?? 1_048_576,
        isolationLevel: options.isolationLevel === 'read_committed' ? 1 : 0,
        clientRack: options.clientRack ?? '',
        preferredReadReplicaMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
      },
      this.subscriptions,
    );
    this.subscriptions.onPositionsChanged = () => this.fetcher.nudge();
    this.fetcher.onRecords = () => this.wakeRecords();
    this.fetcher.onOutOfRange = (s) => void this.resetPositions([s]).catch((e: unknown) => this.fail(e));
    this.fetcher.onError = (e) => this.fail(e);
    this.fetcher.deliveredPosition = (s) => {
      const h = this.holding;
      return h !== null && h.state === s && h.version === s.version ? h.next : (s.consumedPosition ?? s.fetchPosition);
    };
    this.fetcher.onFetchLatency = (ms) => this.metricsState.fetched(ms);
  }

  /** The assigned partitions' states (read by tests). */
  private get states(): Map<string, PartitionState> {
    return this.subscriptions.states;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new MisuseError('consumer is closed'));
    this.connected ??= this.cluster.connect().catch((error: unknown) => {
      this.connected = null;
      throw error;
    });
    return this.connected;
  }

  // ---- subscription and assignment ----

  /** Joins the group for these topics (names or patterns). Needs `groupId`. */
  async subscribe(topics: string | RegExp | Array<string | RegExp>): Promise<void> {
    if (this.groupId === null) throw new MisuseError('subscribe needs a groupId; use assign() without a group');
    if (this.subscriptions.subscription.kind === 'manual') throw new MisuseError('cannot subscribe after assign()');
    const list = Array.isArray(topics) ? topics : [topics];
    if (list.length === 0) throw new MisuseError('subscribe needs at least one topic or pattern');
    await this.connect();
    this.subscriptions.subscription = {
      kind: 'topics',
      topics: list.filter((t): t is string => typeof t === 'string'),
      patterns: list.filter((t): t is RegExp => t instanceof RegExp),
    };
    if (this.group === null) {
      const assignors = (this.options.assignors ?? ['cooperative-sticky']).map((a) => (typeof a === 'string' ? builtInAssignors[a] : a));
      if (assignors.some((a) => a === undefined)) throw new MisuseError(`unknown assignor in ${String(this.options.assignors)}`);
      const protocols = new Set(assignors.map((a) => a.protocol));
      if (protocols.size > 1) throw new MisuseError('assignors must all be eager or all cooperative');
      this.group = new GroupMembership(
        this.cluster,
        {
          groupId: this.groupId,
          groupInstanceId: this.options.groupInstanceId ?? null,
          sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
          rebalanceTimeoutMs: this.options.maxPollIntervalMs ?? 300_000,
          heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3_000,
          assignors,
        },
        {
          subscribedTopics: () => this.resolveSubscription(),
          owned: () => this.assignment(),
          waitUntilIdle: (ms) => this.waitUntilIdle(ms),
          processingForMs: () => (this.holding !== null ? Date.now() - this.holdingSince : 0),
          revoke: (tps, lost) => this.revoke(tps, lost),
          assign: (tps) => this.addPartitions(tps),
          onError: (e) => this.fail(e),
        },
      );
      this.group.metrics = this.metricsState;
      this.coordinator?.attach(this.group);
      this.group.start();
      this.startAutoCommit();
      this.startMetadataWatch();
    } else {
      this.group.requestRejoin();
    }
    this.fetcher.start();
  }

  private async resolveSubscription(): Promise<string[]> {
    const subscription = this.subscriptions.subscription;
    if (subscription.kind !== 'topics') return [];
    const { topics, patterns } = subscription;
    const out = new Set(topics);
    if (patterns.length > 0) {
      await this.cluster.refreshMetadata({ all: true });
      for (const name of this.cluster.topicNames()) if (!this.cluster.topic(name)?.isInternal && patterns.some((p) => new RegExp(p.source, p.flags.replace('g', '')).test(name))) out.add(name);
    } else {
      await this.cluster.refreshMetadata({ extra: topics });
    }
    const resolved = [...out].sort();
    this.subscriptionSnapshot = this.snapshotOf(resolved);
    return resolved;
  }

  private snapshotOf(topics: string[]): string {
    return topics.map((t) => `${t}:${this.cluster.partitionCount(t)}`).join(',');
  }

  /**
   * Every metadataMaxAgeMs, looks again at what the subscription covers: a new topic matching a
   * pattern, or partitions added to a subscribed topic, trigger a rebalance.
   */
  private startMetadataWatch(): void {
    const interval = this.options.metadataMaxAgeMs ?? 300_000;
    const tick = (): void => {
      this.metadataTimer = setTimeout(() => {
        const before = this.subscriptionSnapshot;
        void this.resolveSubscription()
          .then(() => {
            if (this.subscriptionSnapshot !== before) this.group?.requestRejoin();
          })
          .catch(() => undefined)
          .finally(() => {
            if (!this.closed) tick();
          });
      }, interval);
    };
    tick();
  }

  /** Takes these partitions without a group (commits still go to `groupId` when one is set). */
  async assign(partitions: TopicPartition[]): Promise<void> {
    if (this.subscriptions.subscription.kind === 'topics') throw new MisuseError('cannot assign() while subscribed');
    await this.connect();
    this.subscriptions.subscription = { kind: 'manual' };
    const wanted = new Set(partitions.map(tpKey));
    const removed = this.assignment().filter((tp) => !wanted.has(tpKey(tp)));
    for (const tp of removed) this.dropPartition(tp);
    await this.addPartitions(partitions.filter((tp) => !this.subscriptions.isAssigned(tp)));
    if (this.groupId !== null) this.startAutoCommit();
    this.fetcher.start();
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assignment();
  }

  /**
   * The group identity Kafka's `consumer.groupMetadata()` gives, for
   * `Producer.sendOffsetsToTransaction`: the broker fences a zombie by its stale generation (KIP-447).
   */
  groupMetadata(): { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null } {
    if (this.groupId === null) throw new MisuseError('groupMetadata needs a groupId');
    const g = this.group?.generation() ?? { generationId: -1, memberId: '' };
    return { groupId: this.groupId, generationId: g.generationId, memberId: g.memberId, groupInstanceId: this.options.groupInstanceId ?? null };
  }

  private async addPartitions(tps: TopicPartition[]): Promise<void> {
    if (tps.length > 0) {
      await this.cluster.ensureTopics(new Set(tps.map((t) => t.topic)));
      const added = this.subscriptions.add(tps);
      await this.initPositions(added);
    }
    await this.options.rebalanceListener?.onPartitionsAssigned?.(tps);
    this.fetcher.nudge();
  }

  private dropPartition(tp: TopicPartition): void {
    if (this.subscriptions.remove(tp)) this.coordinator?.forget(tp);
  }

  private async revoke(tps: TopicPartition[], lost: boolean): Promise<void> {
    if (tps.length === 0) return;
    const listener = this.options.rebalanceListener;
    if (lost) {
      await listener?.onPartitionsLost?.(tps);
    } else {
      if (this.autoCommitEnabled) await this.commitConsumed(tps).catch((e: unknown) => this.fail(e));
      await listener?.onPartitionsRevoked?.(tps);
    }
    for (const tp of tps) this.dropPartition(tp);
  }

  /** Starting positions: the group's committed offsets, else the reset policy. */
  private async initPositions(states: PartitionState[]): Promise<void> {
    const needReset: PartitionState[] = [];
    const committed = this.coordinator !== null ? await this.coordinator.fetchCommitted(states) : new Map<string, FetchPosition>();
    for (const s of states) {
      const position = committed.get(tpKey(s));
      if (position !== undefined && position.offset >= 0n) {
        // The committed leader epoch comes along (KIP-320).
        this.subscriptions.seek(s, position);
        this.coordinator?.noteCommitted(s, position.offset);
      } else needReset.push(s);
    }
    await this.resetPositions(needReset);
  }

  private async resetPositions(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    if (this.subscriptions.resetStrategy === 'none') {
      // A position lost to OFFSET_OUT_OF_RANGE fails the consumer (Kafka's OffsetOutOfRangeException).
      // A partition that never had one stays without: a seek() may still give it one, and poll()
      // raises the error only if it is still missing then (Kafka's NoOffsetForPartitionException).
      const lost = states.filter((st) => st.fetchPosition !== null);
      if (lost.length) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset out of range and autoOffsetReset is 'none' for ${lost.map((st) => `${st.topic}-${st.partition}`).join(', ')}`);
      this.wakeRecords();
      return;
    }
    const spec = this.subscriptions.resetStrategy === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest;
    await this.seekTo(states, spec);
  }

  private async seekTo(states: PartitionState[], spec: bigint): Promise<void> {
    const offsets = await listOffsetsVia(
      this.cluster,
      states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: spec })),
      this.options.isolationLevel === 'read_committed' ? 1 : 0,
    );
    for (const o of offsets) {
      const s = this.subscriptions.find(o);
      if (s !== undefined) this.subscriptions.seek(s, { offset: o.offset, leaderEpoch: null });
    }
  }

  /** Committed offsets of the group for these partitions. */
  async committed(tps: TopicPartition[]): Promise<Map<string, bigint>> {
    if (this.coordinator === null) throw new MisuseError('committed offsets need a groupId');
    const out = new Map<string, bigint>();
    for (const [key, position] of await this.coordinator.fetchCommitted(tps)) out.set(key, position.offset);
    return out;
  }

  // ---- positions ----

  private stateOf(tp: TopicPartition): PartitionState {
    return this.subscriptions.stateOf(tp);
  }

  /** The next offset the application will see for a partition. */
  position(tp: TopicPartition): bigint | null {
    const s = this.stateOf(tp);
    // Offsets the fetcher skipped (transaction markers, aborted records) count as passed once no
    // record before them waits to be consumed, as in Kafka's consumer: a read_committed reader
    // reaches the end offset even when a commit marker is the partition's last entry.
    if (s.consumedPosition !== null && s.fetchPosition !== null && s.fetchPosition > s.consumedPosition && s.buffered.length === 0) return s.fetchPosition;
    return s.consumedPosition;
  }

  /**
   * The next offset the fetcher will ask for: past transaction markers and aborted records that
   * position() never reaches because no record is delivered for them (Java's position() after an
   * empty poll). Lets a reader of a transactional topic tell that it has caught up.
   */
  fetchedPosition(tp: TopicPartition): bigint | null {
    return this.stateOf(tp).fetchPosition;
  }

  /** The next offset and the leader epoch of the record before it (KIP-320), as a commit stores them. */
  positionWithEpoch(tp: TopicPartition): FetchPosition | null {
    return this.subscriptions.position(tp);
  }

  seek(tp: TopicPartition, offset: bigint): void {
    if (offset < 0n) throw new MisuseError('seek offset must be >= 0');
    this.subscriptions.seek(this.stateOf(tp), { offset, leaderEpoch: null });
    this.dropHolding(tp);
  }

  async seekToBeginning(tps: TopicPartition[] = this.assignment()): Promise<void> {
    await this.seekTo(tps.map((tp) => this.stateOf(tp)), OffsetSpec.earliest);
  }

  async seekToEnd(tps: TopicPartition[] = this.assignment()): Promise<void> {
    await this.seekTo(tps.map((tp) => this.stateOf(tp)), OffsetSpec.latest);
  }

  /** For each partition, the first offset whose timestamp is >= the given one (-1n if none). */
  async offsetsForTimes(query: Array<TopicPartition & { timestamp: bigint | number }>): Promise<Array<TopicPartition & { offset: bigint }>> {
    await this.connect();
    return listOffsetsVia(
      this.cluster,
      query.map((q) => ({ topic: q.topic, partition: q.partition, timestamp: BigInt(q.timestamp) })),
      this.options.isolationLevel === 'read_committed' ? 1 : 0,
    );
  }

  pause(tps: TopicPartition[]): void {
    for (const tp of tps) this.subscriptions.pause(tp);
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.subscriptions.resume(tp);
  }

  paused(): TopicPartition[] {
    return this.subscriptions.paused();
  }

  // ---- commits ----

  private get autoCommitEnabled(): boolean {
    return this.coordinator !== null && (this.options.enableAutoCommit ?? true);
  }

  private startAutoCommit(): void {
    if (!this.autoCommitEnabled || this.autoCommitTimer !== null) return;
    const interval = this.options.autoCommitIntervalMs ?? 5_000;
    const tick = (): void => {
      this.autoCommitTimer = setTimeout(() => {
        void this.commitConsumed()
          .catch((e: unknown) => {
            // As Kafka's auto-commit: a commit that met a rebalance is not the application's
            // error; the rejoin is under way and the next tick commits again.
            if (!isRetriable(e) && !isRebalanceError(e)) this.fail(e);
          })
          .finally(() => {
            if (!this.closed) tick();
          });
      }, interval);
    };
    tick();
  }

  /** Commits the consumed position of every (or the given) assigned partition that moved since the last commit. */
  private async commitConsumed(tps?: TopicPartition[]): Promise<void> {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    const offsets = this.consumedOffsets(tps).filter((o) => !coordinator.isCommitted(o, o.offset));
    if (offsets.length > 0) await this.timedCommit(offsets);
  }

  private async timedCommit(offsets: OffsetToCommit[]): Promise<void> {
    const started = performance.now();
    await this.coordinator!.commit(offsets);
    this.metricsState.committed(performance.now() - started);
  }

  /** The consumed position (and its leader epoch) of every, or the given, assigned partition. */
  private consumedOffsets(tps?: TopicPartition[]): OffsetToCommit[] {
    const states = tps ? tps.map((tp) => this.subscriptions.find(tp)).filter((s): s is PartitionState => s !== undefined) : this.subscriptions.partitions();
    const out: OffsetToCommit[] = [];
    for (const s of states) if (s.consumedPosition !== null) out.push({ topic: s.topic, partition: s.partition, offset: s.consumedPosition, leaderEpoch: s.consumedLeaderEpoch });
    return out;
  }

  /** Commits the given offsets, or every partition's consumed position; resolves when stored. */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (this.coordinator === null) throw new MisuseError('commit needs a groupId');
    await this.timedCommit(offsets ?? this.consumedOffsets());
  }

  /** Fire-and-forget commit; the callback gets the outcome. */
  commitAsync(offsets?: OffsetToCommit[], callback?: (error: Error | null) => void): void {
    this.commit(offsets).then(
      () => callback?.(null),
      (e: unknown) => (callback ? callback(e instanceof Error ? e : new Error(String(e))) : this.fail(e)),
    );
  }

  // ---- consumption ----

  private fail(error: unknown): void {
    this.errors.push(error instanceof Error ? error : new Error(String(error)));
    this.wakeRecords();
  }

  private wakeRecords(): void {
    const w = this.recordWaiters;
    this.recordWaiters = [];
    for (const f of w) f();
  }

  private waitUntilIdle(timeoutMs: number): Promise<void> {
    if (this.holding === null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The application is done with the record it held: its offset counts as consumed. */
  private release(): void {
    const h = this.holding;
    if (h === null) return;
    this.holding = null;
    this.subscriptions.consumed(h.state, h.version, h.next, h.leaderEpoch);
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private dropHolding(tp: TopicPartition): void {
    if (this.holding !== null && this.holding.state.topic === tp.topic && this.holding.state.partition === tp.partition) this.holding.version = -1;
  }

  /** The next fetched batch still valid for delivery, round-robin over partitions. */
  private nextBatch(): FetchedBatch | null {
    for (const s of this.subscriptions.partitions()) {
      if (s.paused) continue;
      while (s.buffered.length > 0) {
        const b = s.buffered[0];
        if (b.version !== s.version || b.index >= b.records.length) {
          s.buffered.shift();
          s.bufferedBytes -= b.bytes;
          continue;
        }
        // Rotate so one busy partition does not starve the others.
        this.subscriptions.rotate(s);
        return b;
      }
    }
    return null;
  }

  private consumeFrom(b: FetchedBatch, max: number): KafkaRecord[] {
    const records = b.index === 0 && max >= b.records.length ? b.records : b.records.slice(b.index, b.index + max);
    b.index += records.length;
    if (b.index >= b.records.length && b.state.buffered[0] === b) {
      b.state.buffered.shift();
      b.state.bufferedBytes -= b.bytes;
      this.fetcher.nudge();
    }
    return records;
  }

  private async ready(): Promise<void> {
    if (this.group !== null) {
      await this.group.onPollAfterExpiry();
      await this.group.waitStable();
    }
  }

  /** autoOffsetReset 'none': a partition with neither a committed offset nor a seek() cannot be read. */
  private throwIfNoPosition(): void {
    if (this.subscriptions.resetStrategy !== 'none') return;
    const missing = [...this.subscriptions.states.values()].filter((st) => st.fetchPosition === null && !st.paused);
    if (missing.length) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `no committed offset and autoOffsetReset is 'none' for ${missing.map((st) => `${st.topic}-${st.partition}`).join(', ')}: seek() to a position first`);
  }

  private throwIfFailed(): void {
    const e = this.errors.shift();
    if (e !== undefined) throw e;
  }

  /** Waits for fetched records and takes up to `maxRecords` of one partition. */
  private async take(maxRecords: number): Promise<{ state: PartitionState; version: number; records: KafkaRecord[]; leaderEpoch: number } | null> {
    for (;;) {
      const b = await this.waitForBatch();
      if (b === null) return null;
      // Another poll() waiting at the same time (one abandoned by a caller's timeout) took them first.
      if (b.index >= b.records.length) continue;
      const records = this.consumeFrom(b, maxRecords);
      return { state: b.state, version: b.state.version, records, leaderEpoch: leaderEpochOf(b, records[records.length - 1].offset) };
    }
  }

  private hold(state: PartitionState, version: number, next: bigint, leaderEpoch: number): void {
    this.holding = { state, version, next, leaderEpoch };
    this.holdingSince = Date.now();
  }

  /**
   * Up to `maxRecords` records of one partition, waiting until some arrive; null once closed. The
   * previous batch counts as consumed when this is called.
   */
  async poll(maxRecords = Infinity): Promise<ConsumerBatch<K, V> | null> {
    this.release();
    const got = await this.take(maxRecords);
    if (got === null) return null;
    const { state: s, version, records, leaderEpoch } = got;
    this.metricsState.recordsConsumed(records.length);
    this.hold(s, version, records[records.length - 1].offset + 1n, leaderEpoch);
    return {
      topic: s.topic,
      partition: s.partition,
      highWatermark: s.highWatermark,
      records: records.map((r) => ({ topic: s.topic, partition: s.partition, offset: r.offset, timestamp: r.timestamp, key: this.toKey(r.key, s.topic), value: this.toValue(r.value, s.topic), headers: r.headers })),
    };
  }

  /**
   * Records one at a time. Records are taken from the buffer one by one, so breaking out of the
   * loop loses nothing: the next iteration continues after the last record handed out. Written
   * as a plain iterator (not an async generator) so a buffered record costs one resolved promise.
   */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord<K, V>, undefined> {
    let current: FetchedBatch | null = null;
    let finished = false;
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    const emit = (b: FetchedBatch): IteratorYieldResult<ConsumerRecord<K, V>> => {
      const s = b.state;
      const r = b.records[b.index++];
      if (b.index >= b.records.length) {
        s.buffered.shift();
        s.bufferedBytes -= b.bytes;
        this.fetcher.nudge();
      }
      this.hold(s, b.version, r.offset + 1n, leaderEpochOf(b, r.offset));
      this.metricsState.recordsConsumed(1);
      return { done: false, value: { topic: s.topic, partition: s.partition, offset: r.offset, timestamp: r.timestamp, key: this.toKey(r.key, s.topic), value: this.toValue(r.value, s.topic), headers: r.headers } };
    };
    const usable = (b: FetchedBatch | null): b is FetchedBatch =>
      b !== null && b.version === b.state.version && b.index < b.records.length && !b.state.paused && (this.group === null || this.group.isStable) && this.errors.length === 0;
    return {
      next: async (): Promise<IteratorResult<ConsumerRecord<K, V>, undefined>> => {
        this.release();
        if (finished) return done;
        if (usable(current)) return emit(current);
        current = await this.waitForBatch();
        if (current === null) {
          finished = true;
          return done;
        }
        return emit(current);
      },
      return: async (): Promise<IteratorResult<ConsumerRecord<K, V>, undefined>> => {
        finished = true;
        this.release();
        return done;
      },
    };
  }

  /** Waits (through rebalances) for a buffered batch with records left. */
  private async waitForBatch(): Promise<FetchedBatch | null> {
    for (;;) {
      if (this.closed) return null;
      this.throwIfFailed();
      await this.ready();
      if (this.closed) return null;
      this.throwIfNoPosition();
      const b = this.nextBatch();
      if (b !== null) return b;
      await new Promise<void>((resolve) => this.recordWaiters.push(resolve));
    }
  }

  /** Batches (records of one partition) as they arrive. */
  async *batches(maxRecords = Infinity): AsyncGenerator<ConsumerBatch<K, V>, void, void> {
    try {
      for (;;) {
        const batch = await this.poll(maxRecords);
        if (batch === null) return;
        yield batch;
      }
    } finally {
      this.release();
    }
  }

  /** Calls the handler for every record (or batch) until `close()`; a handler error stops the loop and rejects. */
  async run(handlers: { eachMessage?: (record: ConsumerRecord<K, V>) => Promise<void> | void; eachBatch?: (batch: ConsumerBatch<K, V>) => Promise<void> | void }): Promise<void> {
    if (handlers.eachBatch) {
      for await (const batch of this.batches()) await handlers.eachBatch(batch);
    } else if (handlers.eachMessage) {
      for await (const record of this) await handlers.eachMessage(record);
    } else throw new MisuseError('run needs eachMessage or eachBatch');
  }

  /** Commits (auto-commit), leaves the group and closes connections. In-progress iteration ends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.release();
    if (this.autoCommitTimer) clearTimeout(this.autoCommitTimer);
    if (this.metadataTimer) clearTimeout(this.metadataTimer);
    this.autoCommitTimer = null;
    try {
      if (this.autoCommitEnabled && this.subscriptions.size > 0) await this.commitConsumed().catch(() => undefined);
      if (this.group !== null) {
        await this.group.stop();
        await this.options.rebalanceListener?.onPartitionsRevoked?.(this.assignment());
        await this.group.leave('consumer closed');
      }
    } finally {
      this.closed = true;
      await this.fetcher.stop();
      this.wakeRecords();
      this.cluster.close();
    }
  }
}
