/**
 * The consumer: `subscribe` (group) or `assign` (manual), records as an async iterator with
 * back-pressure (the fetcher stops when the buffer is full), `run({ eachMessage | eachBatch })`
 * on top, commits (auto, sync, async), seeks, offsetsForTimes, pause/resume.
 *
 * Commit semantics: a record counts as consumed when the application asks for the next one (or
 * the eachMessage handler returns), so auto-commit never commits a record still being processed.
 */
import { ApiKey, ErrorCode, KafkaError, type KafkaRecord, type RecordHeader } from '@sluice/protocol';
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { MisuseError, isRetriable } from '../errors.js';
import { groupBy, listOffsetsVia, OffsetSpec } from '../admin/admin.js';
import { builtInAssignors, type Assignor, type AssignorName, type TopicPartition } from './assignors.js';
import { Fetcher, type FetchedBatch, type PartitionState } from './fetcher.js';
import { GroupMembership, groupTopicPartitions, tpKey } from './group.js';

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
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (last processed + 1). */
  offset: bigint;
  metadata?: string | null;
}

type Subscription = { kind: 'none' } | { kind: 'topics'; topics: string[]; patterns: RegExp[] } | { kind: 'manual' };

export class Consumer<K = Buffer | null, V = Buffer | null> {
  readonly cluster: Cluster;
  private readonly options: ConsumerOptions<K, V>;
  private readonly toKey: Deserializer<K>;
  private readonly toValue: Deserializer<V>;
  private readonly groupId: string | null;
  private readonly states = new Map<string, PartitionState>();
  private readonly fetcher: Fetcher;
  private group: GroupMembership | null = null;
  private subscription: Subscription = { kind: 'none' };
  private connected: Promise<void> | null = null;
  private recordWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private holding: { state: PartitionState; epoch: number; next: bigint } | null = null;
  private holdingSince = 0;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private lastCommitted = new Map<string, bigint>();
  private metadataTimer: NodeJS.Timeout | null = null;
  private subscriptionSnapshot = '';
  private errors: Error[] = [];
  private closed = false;
  private readonly resetPolicy: 'earliest' | 'latest' | 'none';

  constructor(options: ConsumerOptions<K, V>) {
    this.cluster = new Cluster(options);
    this.options = options;
    // Without deserializers K and V are Buffer | null (the defaults), so the bytes pass through.
    this.toKey = options.keyDeserializer ?? ((b) => b as K);
    this.toValue = options.valueDeserializer ?? ((b) => b as V);
    this.groupId = options.groupId ?? null;
    if (this.groupId === '') throw new MisuseError('groupId must not be empty');
    this.resetPolicy = options.autoOffsetReset ?? 'latest';
    this.fetcher = new Fetcher(
      this.cluster,
      {
        minBytes: options.fetchMinBytes ?? 1,
        maxWaitMs: options.fetchMaxWaitMs ?? 500,
        maxBytes: options.fetchMaxBytes ?? 52_428_800,
        maxPartitionFetchBytes: options.maxPartitionFetchBytes ?? 1_048_576,
        isolationLevel: options.isolationLevel === 'read_committed' ? 1 : 0,
      },
      () => this.states.values(),
    );
    this.fetcher.onRecords = () => this.wakeRecords();
    this.fetcher.onOutOfRange = (s) => void this.resetPositions([s]).catch((e: unknown) => this.fail(e));
    this.fetcher.onError = (e) => this.fail(e);
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
    if (this.subscription.kind === 'manual') throw new MisuseError('cannot subscribe after assign()');
    const list = Array.isArray(topics) ? topics : [topics];
    if (list.length === 0) throw new MisuseError('subscribe needs at least one topic or pattern');
    await this.connect();
    this.subscription = {
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
      this.group.start();
      this.startAutoCommit();
      this.startMetadataWatch();
    } else {
      this.group.requestRejoin();
    }
    this.fetcher.start();
  }

  private async resolveSubscription(): Promise<string[]> {
    if (this.subscription.kind !== 'topics') return [];
    const { topics, patterns } = this.subscription;
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
    if (this.subscription.kind === 'topics') throw new MisuseError('cannot assign() while subscribed');
    await this.connect();
    this.subscription = { kind: 'manual' };
    const wanted = new Set(partitions.map(tpKey));
    const removed = this.assignment().filter((tp) => !wanted.has(tpKey(tp)));
    for (const tp of removed) this.dropPartition(tp);
    await this.addPartitions(partitions.filter((tp) => !this.states.has(tpKey(tp))));
    if (this.groupId !== null) this.startAutoCommit();
    this.fetcher.start();
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private async addPartitions(tps: TopicPartition[]): Promise<void> {
    if (tps.length > 0) {
      await this.cluster.ensureTopics(new Set(tps.map((t) => t.topic)));
      const added: PartitionState[] = [];
      for (const tp of tps) {
        const s: PartitionState = {
          topic: tp.topic,
          partition: tp.partition,
          fetchPosition: null,
          consumedPosition: null,
          paused: false,
          epoch: 0,
          buffered: [],
          bufferedBytes: 0,
          highWatermark: -1n,
          needsReset: false,
        };
        this.states.set(tpKey(tp), s);
        added.push(s);
      }
      await this.initPositions(added);
    }
    await this.options.rebalanceListener?.onPartitionsAssigned?.(tps);
    this.fetcher.nudge();
  }

  private dropPartition(tp: TopicPartition): void {
    const s = this.states.get(tpKey(tp));
    if (s === undefined) return;
    s.epoch++;
    this.states.delete(tpKey(tp));
    this.lastCommitted.delete(tpKey(tp));
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
    const committed = this.groupId !== null ? await this.committed(states) : new Map<string, bigint>();
    for (const s of states) {
      const offset = committed.get(tpKey(s));
      if (offset !== undefined && offset >= 0n) {
        s.fetchPosition = offset;
        s.consumedPosition = offset;
        this.lastCommitted.set(tpKey(s), offset);
      } else needReset.push(s);
    }
    await this.resetPositions(needReset);
  }

  private async resetPositions(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    if (this.resetPolicy === 'none') throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `no committed offset and autoOffsetReset is 'none' for ${states.map((s) => `${s.topic}-${s.partition}`).join(', ')}`);
    const spec = this.resetPolicy === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest;
    await this.seekTo(states, spec);
  }

  private async seekTo(states: PartitionState[], spec: bigint): Promise<void> {
    const offsets = await listOffsetsVia(
      this.cluster,
      states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: spec })),
      this.options.isolationLevel === 'read_committed' ? 1 : 0,
    );
    for (const o of offsets) {
      const s = this.states.get(tpKey(o));
      if (s !== undefined) this.setPosition(s, o.offset);
    }
  }

  private setPosition(s: PartitionState, offset: bigint): void {
    s.epoch++;
    s.buffered = [];
    s.bufferedBytes = 0;
    s.needsReset = false;
    s.fetchPosition = offset;
    s.consumedPosition = offset;
    this.fetcher.nudge();
  }

  /** Committed offsets of the group for these partitions. */
  async committed(tps: TopicPartition[]): Promise<Map<string, bigint>> {
    if (this.groupId === null) throw new MisuseError('committed offsets need a groupId');
    const groupId = this.groupId;
    const response = await this.cluster.withRetry(async () => {
      const c = await this.cluster.coordinatorFor(groupId);
      const r = await c.request(ApiKey.OffsetFetch, {
        groupId,
        topics: groupTopicPartitions(tps).map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
        requireStable: true,
      });
      const code = r.errorCode ?? 0;
      if (code !== 0) {
        if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE) this.cluster.forgetCoordinator(groupId);
        throw new KafkaError(code, `OffsetFetch ${groupId}`);
      }
      return r;
    });
    const out = new Map<string, bigint>();
    for (const t of response.topics ?? [])
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
        out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.committedOffset);
      }
    return out;
  }

  // ---- positions ----

  private stateOf(tp: TopicPartition): PartitionState {
    const s = this.states.get(tpKey(tp));
    if (s === undefined) throw new MisuseError(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return s;
  }

  /** The next offset the application will see for a partition. */
  position(tp: TopicPartition): bigint | null {
    return this.stateOf(tp).consumedPosition;
  }

  seek(tp: TopicPartition, offset: bigint): void {
    if (offset < 0n) throw new MisuseError('seek offset must be >= 0');
    this.setPosition(this.stateOf(tp), offset);
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
    for (const tp of tps) {
      const s = this.stateOf(tp);
      if (s.paused) continue;
      s.paused = true;
      // Drop what was fetched ahead; it is fetched again on resume.
      s.epoch++;
      s.buffered = [];
      s.bufferedBytes = 0;
      s.fetchPosition = s.consumedPosition;
    }
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.stateOf(tp).paused = false;
    this.fetcher.nudge();
  }

  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  // ---- commits ----

  private get autoCommitEnabled(): boolean {
    return this.groupId !== null && (this.options.enableAutoCommit ?? true);
  }

  private startAutoCommit(): void {
    if (!this.autoCommitEnabled || this.autoCommitTimer !== null) return;
    const interval = this.options.autoCommitIntervalMs ?? 5_000;
    const tick = (): void => {
      this.autoCommitTimer = setTimeout(() => {
        void this.commitConsumed()
          .catch((e: unknown) => {
            if (!isRetriable(e)) this.fail(e);
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
    const offsets: OffsetToCommit[] = [];
    for (const s of tps ? tps.map((tp) => this.states.get(tpKey(tp))).filter((s): s is PartitionState => s !== undefined) : this.states.values()) {
      if (s.consumedPosition === null) continue;
      if (this.lastCommitted.get(tpKey(s)) === s.consumedPosition) continue;
      offsets.push({ topic: s.topic, partition: s.partition, offset: s.consumedPosition });
    }
    if (offsets.length > 0) await this.commit(offsets);
  }

  /** Commits the given offsets, or every partition's consumed position; resolves when stored. */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (this.groupId === null) throw new MisuseError('commit needs a groupId');
    const groupId = this.groupId;
    const list: OffsetToCommit[] =
      offsets ??
      [...this.states.values()].filter((s) => s.consumedPosition !== null).map((s) => ({ topic: s.topic, partition: s.partition, offset: s.consumedPosition! }));
    if (list.length === 0) return;
    const group = this.group;
    let sentGeneration = -1;
    const response = await this.cluster.withRetry(async () => {
      const c = await this.cluster.coordinatorFor(groupId);
      sentGeneration = group?.generationId ?? -1;
      const r = await c.request(ApiKey.OffsetCommit, {
        groupId,
        generationIdOrMemberEpoch: sentGeneration,
        memberId: group?.memberId ?? '',
        groupInstanceId: this.options.groupInstanceId ?? null,
        retentionTimeMs: -1n,
        topics: [...groupBy(list, (o) => o.topic)].map(([name, ps]) => ({
          name,
          partitions: ps.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: o.metadata ?? null })),
        })),
      });
      const first = r.topics[0]?.partitions[0]?.errorCode ?? 0;
      if (first === ErrorCode.NOT_COORDINATOR || first === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
        this.cluster.forgetCoordinator(groupId);
        throw new KafkaError(first, groupId);
      }
      return r;
    });
    for (const t of response.topics)
      for (const p of t.partitions) {
        const rejoin = p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || p.errorCode === ErrorCode.ILLEGAL_GENERATION || p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID;
        // Only when the error is about the generation we are still in: a rebalance that finished
        // while the commit was in flight already took care of it.
        if (rejoin && group !== null && group.generationId === sentGeneration) group.requestRejoin();
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `commit ${t.name}-${p.partitionIndex}`);
      }
    for (const o of list) this.lastCommitted.set(tpKey(o), o.offset);
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
    // A revoked, sought or paused partition has a new epoch: its old position must not come back.
    if (h.state.epoch === h.epoch) h.state.consumedPosition = h.next;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private dropHolding(tp: TopicPartition): void {
    if (this.holding !== null && this.holding.state.topic === tp.topic && this.holding.state.partition === tp.partition) this.holding.epoch = -1;
  }

  /** The next fetched batch still valid for delivery, round-robin over partitions. */
  private nextBatch(): FetchedBatch | null {
    for (const s of this.states.values()) {
      if (s.paused) continue;
      while (s.buffered.length > 0) {
        const b = s.buffered[0];
        if (b.epoch !== s.epoch || b.index >= b.records.length) {
          s.buffered.shift();
          s.bufferedBytes -= b.bytes;
          continue;
        }
        // Rotate so one busy partition does not starve the others.
        this.states.delete(tpKey(s));
        this.states.set(tpKey(s), s);
        return b;
      }
    }
    return null;
  }

  private consumeFrom(b: FetchedBatch, max: number): KafkaRecord[] {
    const records = b.index === 0 && max >= b.records.length ? b.records : b.records.slice(b.index, b.index + max);
    b.index += records.length;
    if (b.index >= b.records.length) {
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

  private throwIfFailed(): void {
    const e = this.errors.shift();
    if (e !== undefined) throw e;
  }

  /** Waits for fetched records and takes up to `maxRecords` of one partition. */
  private async take(maxRecords: number): Promise<{ state: PartitionState; epoch: number; records: KafkaRecord[] } | null> {
    const b = await this.waitForBatch();
    if (b === null) return null;
    return { state: b.state, epoch: b.state.epoch, records: this.consumeFrom(b, maxRecords) };
  }

  private hold(state: PartitionState, epoch: number, next: bigint): void {
    this.holding = { state, epoch, next };
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
    const { state: s, epoch, records } = got;
    this.hold(s, epoch, records[records.length - 1].offset + 1n);
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
      this.hold(s, b.epoch, r.offset + 1n);
      return { done: false, value: { topic: s.topic, partition: s.partition, offset: r.offset, timestamp: r.timestamp, key: this.toKey(r.key, s.topic), value: this.toValue(r.value, s.topic), headers: r.headers } };
    };
    const usable = (b: FetchedBatch | null): b is FetchedBatch =>
      b !== null && b.epoch === b.state.epoch && b.index < b.records.length && !b.state.paused && (this.group === null || this.group.isStable) && this.errors.length === 0;
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
      if (this.autoCommitEnabled && this.states.size > 0) await this.commitConsumed().catch(() => undefined);
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
