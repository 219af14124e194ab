/**
 * KafkaStreams: runs a topology against a Kafka-protocol cluster. One consumer in the group
 * `<application.id>` (with the Streams assignor handing out whole tasks), one producer (one
 * transactional producer per instance under exactly_once_v2, offsets committed inside the
 * transaction), tasks with their state stores restored from changelogs when assigned.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, Consumer, Producer, murmur2Partition, type ConsumerBatch, type TopicPartition } from '@sluice/client';
import { StreamsConfig, type StreamsProperties } from '../config.js';
import { taskIdString, type TaskId } from '../processor/processor.js';
import type { Subtopology, Topology } from '../processor/topology.js';
import type { Serializer } from '../serdes.js';
import type { ReadOnlyKeyValueStore } from '../state/key-value-store.js';
import type { StateStore } from '../state/store.js';
import { unwrapTimestamped } from '../state/timestamped.js';
import type { ReadOnlySessionStore, ReadOnlyWindowStore } from '../state/window-store.js';
import { streamsAssignor, type TaskLayout } from './assignor.js';
import { StreamsError } from './errors.js';
import { deleteCheckpoint, readCheckpoint, restoreStores, writeCheckpoint, type StateRestoreListener } from './restore.js';
import { StreamTask, type RecordCollector } from './task.js';
import { StandbyTasks, standbyPlacement } from './standby.js';

export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'PENDING_ERROR' | 'ERROR';

const TRANSITIONS: Record<KafkaStreamsState, KafkaStreamsState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'PENDING_ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'PENDING_ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'PENDING_ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING'],
  NOT_RUNNING: [],
  PENDING_ERROR: ['ERROR'],
  ERROR: [],
};

export interface KeyQueryMetadata {
  /** `application.server` of the instance running the key's task, if any instance does. */
  activeHost: { host: string; port: number } | null;
  partition: number;
}

export class KafkaStreams {
  readonly config: StreamsConfig;
  private currentState: KafkaStreamsState = 'CREATED';
  private stateListener: ((next: KafkaStreamsState, previous: KafkaStreamsState) => void) | null = null;
  private restoreListener: StateRestoreListener | undefined;
  private uncaughtHandler: ((error: Error) => void) | null = null;
  private readonly subtopologies: Subtopology[];
  private readonly layout: TaskLayout = { sourceTopics: new Map() };
  private readonly topicToSub = new Map<string, number>();
  private readonly partitionCounts = new Map<string, number>();
  private readonly tasks = new Map<string, StreamTask>();
  private readonly offsets = new Map<string, { topic: string; partition: number; offset: bigint }>();
  private admin: Admin | null = null;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private globalTask: StreamTask | null = null;
  private standby: StandbyTasks | null = null;
  /** Tasks revoked in an eager rebalance, kept open in case they come back (then nothing to restore). */
  private readonly suspended = new Map<string, StreamTask>();
  private globalConsumer: Consumer | null = null;
  private loop: Promise<void> | null = null;
  private globalLoop: Promise<void> | null = null;
  private running = false;
  private inTransaction = false;
  private sendErrors: Error[] = [];
  private inflight = new Set<Promise<unknown>>();
  private lock: Promise<void> = Promise.resolve();
  private lastCommit = Date.now();
  private processIdValue: string | null = null;
  /** Records processed since start (all tasks), for tests and metrics. */
  processedRecords = 0;

  constructor(
    private readonly topology: Topology,
    properties: StreamsProperties,
  ) {
    this.config = new StreamsConfig(properties, { requireBootstrap: true });
    topology.serdeDefaults.key = this.config.defaultKeySerde;
    topology.serdeDefaults.value = this.config.defaultValueSerde;
    topology.dslStoreType = this.config.dslStoreType;
    this.subtopologies = topology.subtopologies();
    for (const s of this.subtopologies) {
      const topics = s.sourceTopics.map((t) => this.topicName(t));
      this.layout.sourceTopics.set(s.id, topics);
      for (const t of topics) this.topicToSub.set(t, s.id);
    }
  }

  /**
   * The instance's process id, kept in the state directory (as Kafka Streams does) so that a
   * restarted instance reuses its transactional id and so fences and aborts its predecessor's
   * open transaction at once instead of waiting for the transaction timeout.
   */
  private processId(): string {
    if (this.processIdValue) return this.processIdValue;
    const dir = join(this.config.stateDir, this.config.applicationId);
    const file = join(dir, 'kafka-streams-process-metadata');
    if (existsSync(file)) {
      const id = (JSON.parse(readFileSync(file, 'utf8')) as { processId?: string }).processId;
      if (id) return (this.processIdValue = id);
    }
    mkdirSync(dir, { recursive: true });
    this.processIdValue = randomUUID();
    writeFileSync(file, JSON.stringify({ processId: this.processIdValue }));
    return this.processIdValue;
  }

  private topicName(name: string): string {
    return this.topology.internalTopics.has(name) ? `${this.config.applicationId}-${name}` : name;
  }

  private changelogTopic(store: string): string {
    return `${this.config.applicationId}-${store}-changelog`;
  }

  state(): KafkaStreamsState {
    return this.currentState;
  }

  setStateListener(listener: (next: KafkaStreamsState, previous: KafkaStreamsState) => void): void {
    this.stateListener = listener;
  }

  /** Reports restoration progress (start, each batch, end) for every store. */
  setGlobalStateRestoreListener(listener: StateRestoreListener): void {
    this.restoreListener = listener;
  }

  /** Called with the error that stopped processing (the instance is then in ERROR). */
  setUncaughtExceptionHandler(handler: (error: Error) => void): void {
    this.uncaughtHandler = handler;
  }

  private setState(next: KafkaStreamsState): void {
    const previous = this.currentState;
    if (previous === next) return;
    if (!TRANSITIONS[previous].includes(next)) return;
    this.currentState = next;
    this.stateListener?.(next, previous);
  }

  /** Runs `fn` with no processing, commit or rebalance step interleaved. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(() => undefined, () => undefined);
    return run;
  }

  async start(): Promise<void> {
    if (this.currentState !== 'CREATED') throw new StreamsError(`KafkaStreams can only be started once (state ${this.currentState})`);
    this.setState('REBALANCING');
    const brokers = this.config.bootstrapServers;
    try {
      this.admin = new Admin({ brokers, clientId: `${this.config.clientId}-admin` });
      await this.prepareTopics();
      const eos = this.config.processingGuarantee === 'exactly_once_v2';
      this.producer = new Producer({
        brokers,
        clientId: `${this.config.clientId}-producer`,
        acks: 'all',
        enableIdempotence: true,
        lingerMs: 5,
        ...(eos ? { transactionalId: `${this.config.applicationId}-${this.processId()}-1`, transactionTimeoutMs: 10_000 } : {}),
      });
      if (eos) await this.producer.initTransactions();
      else await this.producer.connect();
      await this.startGlobal();
      const server = this.config.applicationServer;
      this.consumer = new Consumer({
        brokers,
        groupId: this.config.applicationId,
        // application.server travels in the client id, where describeGroups shows it to metadataForKey.
        clientId: server ? `${this.config.clientId}@${server}` : this.config.clientId,
        assignors: [streamsAssignor(this.layout, () => ({ active: [...new Set([...this.tasks.keys(), ...this.suspended.keys()])], standby: this.standbyTasks() }))],
        enableAutoCommit: false,
        autoOffsetReset: 'earliest',
        isolationLevel: eos ? 'read_committed' : 'read_uncommitted',
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        rebalanceListener: {
          onPartitionsRevoked: (tps) => this.exclusive(() => this.onRevoked(tps, true)),
          onPartitionsLost: (tps) => this.exclusive(() => this.onRevoked(tps, false)),
          onPartitionsAssigned: (tps) => this.exclusive(() => this.onAssigned(tps)),
        },
      });
      this.running = true;
      await this.consumer.subscribe([...this.topicToSub.keys()]);
      this.loop = this.runLoop();
    } catch (e) {
      await this.fail(e as Error);
      throw e;
    }
  }

  /** Source topics must exist; internal topics are created; partitions must agree per sub-topology. */
  private async prepareTopics(): Promise<void> {
    const admin = this.admin as Admin;
    const external = [...new Set(this.subtopologies.flatMap((s) => s.sourceTopics).filter((t) => !this.topology.internalTopics.has(t)))];
    external.push(...this.topology.globalStores.map((g) => g.topic));
    const existing = new Set(await admin.listTopics());
    const missing = external.filter((t) => !existing.has(t));
    if (missing.length) throw new StreamsError(`MissingSourceTopicException: source topics ${missing.join(', ')} do not exist`);
    for (const md of await admin.describeTopics(external)) this.partitionCounts.set(md.name, md.partitions.length);
    // Sub-topologies in order: a repartition topic takes the partition count of the sub-topology writing it.
    const rf = this.config.replicationFactor;
    const toCreate: Array<{ topic: string; numPartitions: number; replicationFactor?: number; configs?: Record<string, string> }> = [];
    // An internal topic read together with external topics (a foreign-key join's subscription and
    // response topics) is co-partitioned with them.
    for (const s of this.subtopologies) {
      const externalCounts = s.sourceTopics.filter((t) => !this.topology.internalTopics.has(t)).map((t) => this.partitionCounts.get(t) as number);
      if (externalCounts.length === 0) continue;
      for (const t of s.sourceTopics) {
        if (this.topology.internalTopics.has(t) && !this.partitionCounts.has(this.topicName(t))) this.partitionCounts.set(this.topicName(t), this.topology.internalTopics.get(t)?.partitions ?? Math.max(...externalCounts));
      }
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const s of this.subtopologies) {
        for (const sink of s.sinkTopics) {
          if (!this.topology.internalTopics.has(sink) || this.partitionCounts.has(this.topicName(sink))) continue;
          const counts = s.sourceTopics.map((t) => this.partitionCounts.get(this.topicName(t)));
          if (counts.some((c) => c === undefined)) continue;
          const spec = this.topology.internalTopics.get(sink);
          this.partitionCounts.set(this.topicName(sink), spec?.partitions ?? Math.max(...(counts as number[])));
          changed = true;
        }
      }
    }
    for (const s of this.subtopologies) {
      const counts = s.sourceTopics.map((t) => [t, this.partitionCounts.get(this.topicName(t))] as const);
      if (counts.some(([, c]) => c === undefined)) throw new StreamsError(`cannot determine the partition count of ${counts.filter(([, c]) => c === undefined).map(([t]) => t).join(', ')}`);
      if (new Set(counts.map(([, c]) => c)).size > 1) {
        throw new StreamsError(`TopologyException: Topics not co-partitioned: [${counts.map(([t, c]) => `${t}=${c}`).join(', ')}] (sub-topology ${s.id} reads them together)`);
      }
      const n = counts[0][1] as number;
      for (const t of s.sourceTopics) if (this.topology.internalTopics.has(t)) toCreate.push({ topic: this.topicName(t), numPartitions: this.partitionCounts.get(this.topicName(t)) as number, ...(rf > 0 ? { replicationFactor: rf } : {}), configs: { 'cleanup.policy': 'delete' } });
      for (const storeName of s.stores) {
        const builder = this.topology.storeBuilders.get(storeName);
        if (!builder?.loggingEnabled) continue;
        const probe = builder.build();
        toCreate.push({ topic: this.changelogTopic(storeName), numPartitions: n, ...(rf > 0 ? { replicationFactor: rf } : {}), configs: probe.changelogConfigs });
        this.partitionCounts.set(this.changelogTopic(storeName), n);
      }
    }
    if (toCreate.length) await admin.createTopics(toCreate, { ignoreExisting: true });
    for (const t of toCreate) {
      const [md] = await admin.describeTopics([t.topic]);
      if (md.partitions.length !== t.numPartitions) throw new StreamsError(`internal topic ${t.topic} has ${md.partitions.length} partitions, expected ${t.numPartitions}`);
    }
  }

  /** Records the tasks produced since the last flush: sent in one batch per processed batch. */
  private outbox: Array<{ topic: string; key: Buffer | null; value: Buffer | null; timestamp: number; headers: Array<{ key: string; value: Buffer | null }>; partition?: number }> = [];

  private collector(): RecordCollector {
    return {
      send: (r) => {
        this.outbox.push({ topic: r.topic, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers.map((h) => ({ key: h.key, value: h.value })), ...(r.partition === undefined ? {} : { partition: r.partition }) });
      },
      partitionCount: (topic) => this.partitionCounts.get(topic) ?? this.producer?.cluster.topic(topic)?.partitions.length,
    };
  }

  /** Hands the outbox to the producer (inside the open transaction under exactly-once). */
  private flushOutbox(): void {
    if (this.outbox.length === 0) return;
    const records = this.outbox;
    this.outbox = [];
    const producer = this.producer as Producer;
    if (this.config.processingGuarantee === 'exactly_once_v2' && !this.inTransaction) {
      producer.beginTransaction();
      this.inTransaction = true;
    }
    const p = producer.sendBatch(records);
    this.inflight.add(p);
    p.then(
      () => this.inflight.delete(p),
      (error: Error) => {
        this.inflight.delete(p);
        // The handler decides per failed send; a batch fails as a whole here.
        if (this.config.productionHandler({ topic: records[0].topic, error }) === 'FAIL') this.sendErrors.push(error);
      },
    );
  }

  private createTask(id: TaskId): StreamTask {
    const sub = this.subtopologies[id.subtopology];
    return new StreamTask({
      id,
      applicationId: this.config.applicationId,
      topology: this.topology,
      nodes: sub.nodes,
      stateDirectory: join(this.config.stateDir, this.config.applicationId),
      collector: this.collector(),
      topicName: (n) => this.topicName(n),
      changelogLogger: (store) => {
        const topic = this.changelogTopic(store);
        const collector = this.collector();
        return (key, value, timestamp) => collector.send({ topic, key, value, timestamp, headers: [], partition: id.partition });
      },
      deserializationHandler: this.config.deserializationHandler,
      clock: () => Date.now(),
      appConfigs: this.config.originals,
      sharedStores: this.globalTask?.stores,
    });
  }

  private async onAssigned(tps: TopicPartition[]): Promise<void> {
    if (!this.running) return;
    this.setState('REBALANCING');
    const ids = new Map<string, TaskId>();
    for (const tp of tps) {
      const sub = this.topicToSub.get(tp.topic);
      if (sub !== undefined) ids.set(`${sub}_${tp.partition}`, { subtopology: sub, partition: tp.partition });
    }
    const created: StreamTask[] = [];
    const handedOver = new Map<StreamTask, Map<string, bigint>>();
    const checkpoints = new Map<StreamTask, Map<string, bigint> | null>();
    for (const [name, id] of ids) {
      if (this.tasks.has(name)) continue;
      const resumed = this.suspended.get(name);
      if (resumed) {
        this.suspended.delete(name);
        this.tasks.set(name, resumed);
        continue;
      }
      const standby = this.standby?.take(name);
      if (standby) {
        // A standby becomes active: its stores are open and caught up to its positions.
        created.push(standby.task);
        this.tasks.set(name, standby.task);
        handedOver.set(standby.task, standby.positions);
        continue;
      }
      const task = this.createTask(id);
      // Without a checkpoint (crash, or never closed cleanly) local files are not trusted: rebuild.
      const checkpoint = readCheckpoint(task.directory);
      if (!checkpoint) rmSync(task.directory, { recursive: true, force: true });
      task.openStores();
      created.push(task);
      this.tasks.set(name, task);
      checkpoints.set(task, checkpoint);
    }
    const targets = created.flatMap((task) =>
      [...task.stores.values()]
        .filter((s) => s.loggingEnabled)
        .map((store) => {
          const checkpoint = checkpoints.get(task);
          const standbyPosition = handedOver.get(task)?.get(store.name);
          const from = standbyPosition !== undefined ? standbyPosition : store.persistent ? (checkpoint?.get(store.name) ?? null) : null;
          return { store, topic: this.changelogTopic(store.name), partition: task.id.partition, from };
        }),
    );
    await restoreStores(
      { brokers: this.config.bootstrapServers, clientId: this.config.clientId, readCommitted: this.config.processingGuarantee === 'exactly_once_v2', admin: this.admin as Admin, listener: this.restoreListener, isClosed: () => !this.running },
      targets,
    );
    for (const task of created) {
      // From here on the local state runs ahead of any checkpoint until the next clean close.
      deleteCheckpoint(task.directory);
      task.initializeProcessors();
    }
    // Suspended tasks that went elsewhere are closed (persistent stores keep a checkpoint).
    for (const [name, task] of this.suspended) {
      this.suspended.delete(name);
      await this.closeTask(task, true);
    }
    if (this.config.numStandbyReplicas > 0) await this.updateStandbys();
    if (this.running) this.setState('RUNNING');
  }

  /** Recomputes this instance's standby tasks from the group's current assignment. */
  private async updateStandbys(): Promise<void> {
    const consumer = this.consumer as Consumer;
    try {
      const [group] = await (this.admin as Admin).describeGroups([this.config.applicationId]);
      if (!group) return;
      const ids = standbyPlacement(group, this.topicToSub, consumer.groupMetadata().memberId, this.config.numStandbyReplicas);
      this.standby ??= new StandbyTasks({
        brokers: this.config.bootstrapServers,
        clientId: this.config.clientId,
        readCommitted: this.config.processingGuarantee === 'exactly_once_v2',
        createTask: (id) => this.createTask(id),
        changelogTopic: (store) => this.changelogTopic(store),
      });
      // Only tasks with stores are worth a standby.
      await this.standby.update(ids.filter((id) => this.subtopologies[id.subtopology].stores.length > 0), new Set(this.tasks.keys()));
    } catch (e) {
      console.warn(`sluice-streams: standby tasks not updated: ${(e as Error).message}`);
    }
  }

  /** Tasks this instance keeps standby replicas of. */
  standbyTasks(): string[] {
    return this.standby?.names() ?? [];
  }

  private async onRevoked(tps: TopicPartition[], clean: boolean): Promise<void> {
    const revoked = new Set<string>();
    for (const tp of tps) {
      const sub = this.topicToSub.get(tp.topic);
      if (sub !== undefined) revoked.add(`${sub}_${tp.partition}`);
    }
    if (this.running) this.setState('REBALANCING');
    if (clean && revoked.size) {
      try {
        await this.commitNow();
      } catch (e) {
        console.warn(`sluice-streams: commit before revocation failed: ${(e as Error).message}`);
        clean = false;
      }
    }
    for (const name of revoked) {
      const task = this.tasks.get(name);
      if (!task) continue;
      this.tasks.delete(name);
      // Committed and consistent: kept for the next assignment, where it most likely comes back.
      if (clean && this.running) this.suspended.set(name, task);
      else await this.closeTask(task, clean);
    }
    for (const [k, o] of this.offsets) if (revoked.has(`${this.topicToSub.get(o.topic)}_${o.partition}`)) this.offsets.delete(k);
  }

  /** Clean: flush and checkpoint the changelog end offsets; dirty: drop the local state. */
  private async closeTask(task: StreamTask, clean: boolean): Promise<void> {
    const dir = task.directory;
    const names = [...task.stores.values()].filter((s) => s.loggingEnabled && s.persistent).map((s) => s.name);
    task.flushStores();
    task.close();
    if (!clean) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const offsets = new Map<string, bigint>();
    for (const name of names) {
      const [end] = await (this.admin as Admin).listOffsets(this.changelogTopic(name), -1n, [task.id.partition], this.config.processingGuarantee === 'exactly_once_v2' ? 1 : 0);
      offsets.set(name, end.offset);
    }
    writeCheckpoint(dir, offsets);
  }

  private async runLoop(): Promise<void> {
    const consumer = this.consumer as Consumer;
    let next: Promise<ConsumerBatch | null> | null = null;
    try {
      while (this.running) {
        next ??= consumer.poll(this.config.maxPollRecords);
        const batch = await Promise.race([next, new Promise<'tick'>((r) => setTimeout(() => r('tick'), this.config.pollMs))]);
        if (!this.running) break;
        if (batch !== 'tick') {
          next = null;
          if (batch === null) break;
          await this.exclusive(async () => this.processBatch(batch));
        }
        await this.exclusive(async () => {
          const now = Date.now();
          for (const t of this.tasks.values()) t.punctuateWallClock(now);
          this.globalTask?.punctuateWallClock(now);
          this.flushOutbox();
          const requested = [...this.tasks.values()].some((t) => t.commitRequested);
          if (requested || now - this.lastCommit >= this.config.commitIntervalMs) await this.commitNow();
        });
      }
    } catch (e) {
      if (this.running) await this.fail(e as Error);
    }
  }

  private processBatch(batch: ConsumerBatch): void {
    const sub = this.topicToSub.get(batch.topic);
    const task = sub === undefined ? undefined : this.tasks.get(`${sub}_${batch.partition}`);
    if (!task) return; // revoked meanwhile: the new owner reads it from the committed offset
    for (const r of batch.records) {
      task.process({ topic: batch.topic, partition: batch.partition, offset: Number(r.offset), timestamp: Number(r.timestamp), key: r.key, value: r.value, headers: r.headers });
      this.processedRecords++;
      this.offsets.set(`${batch.topic}-${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: r.offset + 1n });
    }
    this.flushOutbox();
  }

  /** Commits what the tasks have processed: outputs and changelogs first, then input offsets. */
  private async commitNow(): Promise<void> {
    this.lastCommit = Date.now();
    for (const t of this.tasks.values()) t.commitRequested = false;
    const producer = this.producer as Producer;
    const consumer = this.consumer as Consumer;
    const offsets = [...this.offsets.values()];
    for (const t of this.tasks.values()) t.flushStores();
    this.flushOutbox();
    if (this.config.processingGuarantee === 'exactly_once_v2') {
      if (!this.inTransaction && offsets.length === 0) return;
      if (!this.inTransaction) {
        producer.beginTransaction();
        this.inTransaction = true;
      }
      try {
        await Promise.allSettled([...this.inflight]);
        if (this.sendErrors.length) throw this.sendErrors[0];
        if (offsets.length) await producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        await producer.commitTransaction();
        this.inTransaction = false;
        this.offsets.clear();
      } catch (e) {
        this.inTransaction = false;
        this.sendErrors = [];
        this.outbox = [];
        await producer.abortTransaction().catch(() => undefined);
        await this.resetAfterAbort();
        throw new StreamsError(`transaction aborted, tasks rewound to their last commit: ${(e as Error).message}`);
      }
      return;
    }
    await producer.flush();
    await Promise.allSettled([...this.inflight]);
    if (this.sendErrors.length) {
      const e = this.sendErrors[0];
      this.sendErrors = [];
      throw new StreamsError(`a record could not be produced: ${e.message}`);
    }
    if (offsets.length) await consumer.commit(offsets);
    this.offsets.clear();
  }

  /** After an abort the stores hold uncommitted updates: rebuild them and re-read from the committed offsets. */
  private async resetAfterAbort(): Promise<void> {
    const consumer = this.consumer as Consumer;
    const tasks = [...this.tasks.values()];
    const tps = consumer.assignment();
    for (const t of tasks) await this.closeTask(t, false);
    this.tasks.clear();
    this.offsets.clear();
    const committed = await consumer.committed(tps);
    for (const tp of tps) {
      const c = committed.get(`${tp.topic}-${tp.partition}`);
      if (c !== undefined && c >= 0n) consumer.seek(tp, c);
      else await consumer.seekToBeginning([tp]);
    }
    await this.onAssigned(tps);
  }

  /** Global stores: read their topics whole before processing starts, then keep following them. */
  private async startGlobal(): Promise<void> {
    if (this.topology.globalStores.length === 0) return;
    const names = new Set(this.topology.globalStores.flatMap((g) => [g.sourceName, g.processorName]));
    const task = new StreamTask({
      id: { subtopology: -1, partition: 0 },
      applicationId: this.config.applicationId,
      topology: this.topology,
      nodes: this.topology.allNodes().filter((n) => names.has(n.name)),
      stateDirectory: join(this.config.stateDir, this.config.applicationId, 'global'),
      collector: this.collector(),
      topicName: (n) => n,
      changelogLogger: () => null,
      deserializationHandler: this.config.deserializationHandler,
      clock: () => Date.now(),
      appConfigs: this.config.originals,
    });
    rmSync(task.directory, { recursive: true, force: true });
    task.openStores();
    task.initializeProcessors();
    this.globalTask = task;
    const consumer = new Consumer({ brokers: this.config.bootstrapServers, clientId: `${this.config.clientId}-global-consumer`, isolationLevel: this.config.processingGuarantee === 'exactly_once_v2' ? 'read_committed' : 'read_uncommitted' });
    this.globalConsumer = consumer;
    const tps = this.topology.globalStores.flatMap((g) => Array.from({ length: this.partitionCounts.get(g.topic) ?? 0 }, (_, partition) => ({ topic: g.topic, partition })));
    await consumer.assign(tps);
    await consumer.seekToBeginning(tps);
    const ends = new Map<string, bigint>();
    for (const g of this.topology.globalStores) for (const o of await (this.admin as Admin).listOffsets(g.topic)) ends.set(`${o.topic}-${o.partition}`, o.offset);
    const caughtUp = () => tps.every((tp) => (consumer.position(tp) ?? 0n) >= (ends.get(`${tp.topic}-${tp.partition}`) ?? 0n));
    let next: Promise<ConsumerBatch | null> | null = null;
    const step = async (): Promise<boolean> => {
      next ??= consumer.poll(1000);
      const batch = await Promise.race([next, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200))]);
      if (batch === 'tick') return true;
      next = null;
      if (batch === null) return false;
      for (const r of batch.records) task.process({ topic: batch.topic, partition: batch.partition, offset: Number(r.offset), timestamp: Number(r.timestamp), key: r.key, value: r.value, headers: r.headers });
      return true;
    };
    this.running = true;
    while (!caughtUp()) if (!(await step())) break;
    this.globalLoop = (async () => {
      try {
        while (this.running && (await step()));
      } catch (e) {
        if (this.running) await this.fail(e as Error);
      }
    })();
  }

  private async fail(error: Error): Promise<void> {
    if (this.currentState === 'ERROR' || this.currentState === 'PENDING_ERROR') return;
    this.setState('PENDING_ERROR');
    this.running = false;
    this.uncaughtHandler?.(error);
    if (!this.uncaughtHandler) console.error(`sluice-streams: stream thread failed: ${error.stack ?? error.message}`);
    await this.shutdown(false);
    this.setState('ERROR');
  }

  private async shutdown(clean: boolean): Promise<void> {
    this.running = false;
    await this.exclusive(async () => {
      if (clean && this.consumer && this.tasks.size) {
        try {
          await this.commitNow();
        } catch (e) {
          clean = false;
          console.warn(`sluice-streams: final commit failed: ${(e as Error).message}`);
        }
      }
      for (const t of this.tasks.values()) await this.closeTask(t, clean).catch(() => undefined);
      this.tasks.clear();
      for (const t of this.suspended.values()) await this.closeTask(t, true).catch(() => undefined);
      this.suspended.clear();
      this.globalTask?.close();
      this.globalTask = null;
      await this.standby?.close();
      this.standby = null;
    });
    // Leaving the group runs the revocation listener, which finds no tasks left.
    await this.consumer?.close().catch(() => undefined);
    await this.globalConsumer?.close().catch(() => undefined);
    if (this.inTransaction) await this.producer?.abortTransaction().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    await Promise.resolve(this.admin?.close()).catch(() => undefined);
    await Promise.race([Promise.all([this.loop, this.globalLoop]), new Promise((r) => setTimeout(r, 5000))]);
  }

  /** Commits, closes the tasks (checkpointing their stores), leaves the group. */
  async close(): Promise<void> {
    if (this.currentState === 'NOT_RUNNING' || this.currentState === 'ERROR') return;
    if (this.currentState === 'PENDING_SHUTDOWN') return;
    this.setState('PENDING_SHUTDOWN');
    await this.shutdown(true);
    this.setState('NOT_RUNNING');
  }

  /** Deletes this application's local state directory; only when not running. */
  cleanUp(): void {
    if (this.currentState === 'RUNNING' || this.currentState === 'REBALANCING' || this.currentState === 'PENDING_SHUTDOWN') {
      throw new StreamsError('Cannot clean up while running.');
    }
    const dir = join(this.config.stateDir, this.config.applicationId);
    // The process id survives, as in Kafka Streams: it names this instance's transactional id.
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) if (entry !== 'kafka-streams-process-metadata') rmSync(join(dir, entry), { recursive: true, force: true });
  }

  /** Task ids running here (e.g. ["0_0", "1_2"]). */
  activeTasks(): string[] {
    return [...this.tasks.values()].map((t) => taskIdString(t.id)).sort();
  }

  private localStores(name: string): StateStore[] {
    if (this.currentState !== 'RUNNING') throw new StreamsError(`InvalidStateStoreException: the state store ${name} may have migrated to another instance (state ${this.currentState})`);
    const global = this.globalTask?.stores.get(name);
    if (global) return [unwrapTimestamped(global)];
    if (!this.topology.storeBuilders.has(name)) throw new StreamsError(`InvalidStateStoreException: no store named ${name}`);
    return [...this.tasks.values()].flatMap((t) => (t.stores.has(name) ? [unwrapTimestamped(t.stores.get(name) as StateStore)] : []));
  }

  /** Interactive query over this instance's partitions of a key-value store. */
  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    const stores = () => this.localStores(name) as unknown as Array<ReadOnlyKeyValueStore<K, V>>;
    return {
      name,
      get: (key) => {
        for (const s of stores()) {
          const v = s.get(key);
          if (v !== null) return v;
        }
        return null;
      },
      range: (from, to) => stores().flatMap((s) => s.range(from, to)),
      all: () => stores().flatMap((s) => s.all()),
      approximateNumEntries: () => stores().reduce((n, s) => n + s.approximateNumEntries(), 0),
    };
  }

  windowStore<K, V>(name: string): ReadOnlyWindowStore<K, V> {
    const stores = () => this.localStores(name) as unknown as Array<ReadOnlyWindowStore<K, V>>;
    return {
      name,
      fetch: (key, start) => {
        for (const s of stores()) {
          const v = s.fetch(key, start);
          if (v !== null) return v;
        }
        return null;
      },
      fetchRange: (key, from, to) => stores().flatMap((s) => s.fetchRange(key, from, to)),
      all: () => stores().flatMap((s) => s.all()),
      fetchAll: (from, to) => stores().flatMap((s) => s.fetchAll(from, to)),
    };
  }

  sessionStore<K, V>(name: string): ReadOnlySessionStore<K, V> {
    const stores = () => this.localStores(name) as unknown as Array<ReadOnlySessionStore<K, V>>;
    return {
      name,
      fetch: (key) => stores().flatMap((s) => s.fetch(key)),
      fetchSession: (key, start, end) => {
        for (const s of stores()) {
          const v = s.fetchSession(key, start, end);
          if (v !== null) return v;
        }
        return null;
      },
    };
  }

  /**
   * Which instance holds a key of a store: the key's partition (default partitioner over the key
   * bytes) and the `application.server` of the group member running that task.
   */
  async queryMetadataForKey<K>(storeName: string, key: K, keySerializer: Serializer<K>): Promise<KeyQueryMetadata> {
    const sub = this.subtopologies.find((s) => s.stores.includes(storeName));
    if (!sub) throw new StreamsError(`no store named ${storeName}`);
    const topics = this.layout.sourceTopics.get(sub.id) as string[];
    const count = this.partitionCounts.get(topics[0]) as number;
    const bytes = keySerializer.serialize(topics[0], key);
    if (!bytes) throw new StreamsError('metadata for a null key');
    const partition = murmur2Partition(bytes, count);
    const admin = this.admin as Admin;
    const [group] = await admin.describeGroups([this.config.applicationId]);
    for (const m of group?.members ?? []) {
      if (!m.assignment.some((a) => topics.includes(a.topic) && a.partitions.includes(partition))) continue;
      const at = m.clientId.lastIndexOf('@');
      if (at < 0) return { activeHost: null, partition };
      const hostPort = m.clientId.slice(at + 1);
      const colon = hostPort.lastIndexOf(':');
      return { activeHost: { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) }, partition };
    }
    return { activeHost: null, partition };
  }
}
