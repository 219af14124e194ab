/**
 * A KafkaJS-shaped facade over the native client, so a kafkajs user switches by changing the
 * import: `new Kafka({ clientId, brokers }).producer() / .consumer({ groupId }) / .admin()`.
 * Offsets and timestamps are strings, as in kafkajs; heartbeats run in the background, so the
 * `heartbeat()` handed to handlers is a no-op kept for compatibility.
 */
import { saslAuthenticator, type SaslOptions } from '../connection/sasl.js';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { CompressionName } from '@sluice/protocol';
import { Admin, OffsetSpec } from '../admin/admin.js';
import type { ClusterOptions } from '../cluster/cluster.js';
import { Consumer, type ConsumerRecord } from '../consumer/consumer.js';
import type { AssignorName } from '../consumer/assignors.js';
import { MisuseError } from '../errors.js';
import { Producer } from '../producer/producer.js';
import { defaultPartitioner, murmur2Partition, type Partitioner } from '../producer/partitioners.js';

export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
const CODEC_NAMES: Record<number, CompressionName> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;

/** kafkajs partitioner factories; the default is Java-compatible murmur2 as in kafkajs 2.x. */
type KafkaJSPartitionerArgs = { topic: string; partitionMetadata: Array<{ partitionId: number }>; message: KafkaJSMessage };
type KafkaJSPartitioner = () => (args: KafkaJSPartitionerArgs) => number;
export const Partitioners: Record<'DefaultPartitioner' | 'JavaCompatiblePartitioner' | 'LegacyPartitioner', KafkaJSPartitioner> = {
  DefaultPartitioner: () => javaCompatible(),
  JavaCompatiblePartitioner: () => javaCompatible(),
  LegacyPartitioner: () => javaCompatible(),
};

function javaCompatible(): (args: KafkaJSPartitionerArgs) => number {
  const sticky = defaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const key = toBuffer(message.key);
    return key !== null ? murmur2Partition(key, partitionMetadata.length) : sticky.partition({ topic, key: null, value: null, partitionCount: partitionMetadata.length });
  };
}

export interface KafkaConfig {
  brokers: string[];
  clientId?: string;
  ssl?: boolean | TlsOptions;
  /** SASL mechanisms arrive with the security work; passing one now is refused rather than ignored. */
  sasl?: unknown;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number };
  logLevel?: number;
}

export interface KafkaJSMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, Buffer | string | undefined>;
  timestamp?: string;
}

export interface KafkaJSRecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  baseOffset: string;
  logAppendTime: string;
  logStartOffset: string;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v);
}

function kafkajsSasl(sasl: unknown): SaslOptions {
  const o = sasl as { mechanism?: unknown; username?: unknown; password?: unknown; oauthBearerProvider?: unknown } | null;
  const mechanism = typeof o?.mechanism === 'string' ? o.mechanism.toLowerCase() : '';
  if (mechanism === 'oauthbearer') {
    if (typeof o!.oauthBearerProvider !== 'function') throw new MisuseError('sasl.oauthBearerProvider must be a function returning { value: token }');
    return { mechanism: 'oauthbearer', oauthBearerProvider: o!.oauthBearerProvider as () => Promise<{ value: string }> };
  }
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    if (typeof o!.username !== 'string' || typeof o!.password !== 'string') throw new MisuseError(`sasl ${mechanism} needs a username and a password`);
    return { mechanism, username: o!.username, password: o!.password };
  }
  throw new MisuseError(`SASL mechanism ${String(o?.mechanism)} is not supported (plain, scram-sha-256, scram-sha-512, oauthbearer)`);
}

export class Kafka {
  private readonly base: ClusterOptions;

  constructor(config: KafkaConfig) {
    this.base = {
      // kafkajs's sasl shapes: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password } or { mechanism: 'oauthbearer', oauthBearerProvider }.
      ...(config.sasl !== undefined ? { sasl: saslAuthenticator(kafkajsSasl(config.sasl)) } : {}),
      brokers: config.brokers,
      clientId: config.clientId ?? 'kafkajs',
      tls: config.ssl,
      connectTimeoutMs: config.connectionTimeout,
      requestTimeoutMs: config.requestTimeout,
      retry: config.retry ? { retries: config.retry.retries, initialRetryTimeMs: config.retry.initialRetryTime, maxRetryTimeMs: config.retry.maxRetryTime } : undefined,
    };
  }

  producer(config: KafkaJSProducer['config'] = {}): KafkaJSProducer {
    return new KafkaJSProducer(this.base, config);
  }

  consumer(config: KafkaJSConsumerConfig): KafkaJSConsumer {
    return new KafkaJSConsumer(this.base, config);
  }

  admin(): KafkaJSAdmin {
    return new KafkaJSAdmin(this.base);
  }
}

export class KafkaJSProducer {
  private readonly base: ClusterOptions;
  private readonly config: {
    allowAutoTopicCreation?: boolean;
    idempotent?: boolean;
    maxInFlightRequests?: number;
    createPartitioner?: KafkaJSPartitioner;
    transactionalId?: string;
    transactionTimeout?: number;
  };
  private readonly producers = new Map<string, Producer>();

  constructor(base: ClusterOptions, config: KafkaJSProducer['config']) {
    this.base = base;
    this.config = config;
  }

  /** One native producer per (acks, compression) pair, since those are per-send in kafkajs. */
  private producerFor(acks: number, compression: number): Producer {
    // A transactional id has one producer: two instances would fence each other.
    const key = this.config.transactionalId !== undefined ? 'transactional' : `${acks}/${compression}`;
    let p = this.producers.get(key);
    if (p === undefined) {
      const custom = this.config.createPartitioner?.();
      const partitioner: Partitioner | undefined = custom
        ? ({ topic, key: k, value, partitionCount }) =>
            custom({ topic, partitionMetadata: Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId })), message: { key: k, value } })
        : undefined;
      p = new Producer({
        ...this.base,
        allowAutoTopicCreation: this.config.allowAutoTopicCreation ?? true,
        acks: acks === -1 ? 'all' : (acks as 0 | 1),
        compression: CODEC_NAMES[compression] ?? 'none',
        enableIdempotence: this.config.idempotent ?? this.config.transactionalId !== undefined,
        transactionalId: this.config.transactionalId,
        transactionTimeoutMs: this.config.transactionTimeout,
        maxInFlightRequestsPerConnection: this.config.maxInFlightRequests,
        lingerMs: 0,
        partitioner,
      });
      this.producers.set(key, p);
    }
    return p;
  }

  async connect(): Promise<void> {
    const producer = this.producerFor(-1, 0);
    if (this.config.transactionalId !== undefined) await producer.initTransactions();
    else await producer.connect();
  }

  /** kafkajs's producer.transaction(): begins a transaction and returns its send/sendOffsets/commit/abort. */
  async transaction(): Promise<KafkaJSTransaction> {
    if (this.config.transactionalId === undefined) throw new MisuseError('transaction() needs a transactionalId');
    const producer = this.producerFor(-1, 0);
    await producer.initTransactions();
    producer.beginTransaction();
    let active = true;
    const end = async (commit: boolean) => {
      if (commit) await producer.commitTransaction();
      else await producer.abortTransaction();
      active = false;
    };
    return {
      send: (request) => this.send(request),
      sendBatch: (request) => this.sendBatch(request),
      sendOffsets: async ({ consumerGroupId, topics }) => {
        await producer.sendOffsetsToTransaction(
          topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) }))),
          { groupId: consumerGroupId },
        );
      },
      commit: () => end(true),
      abort: () => end(false),
      isActive: () => active,
    };
  }

  async send(request: { topic: string; messages: KafkaJSMessage[]; acks?: number; timeout?: number; compression?: number }): Promise<KafkaJSRecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: request.topic, messages: request.messages }], acks: request.acks, compression: request.compression });
  }

  async sendBatch(request: { topicMessages: Array<{ topic: string; messages: KafkaJSMessage[] }>; acks?: number; compression?: number }): Promise<KafkaJSRecordMetadata[]> {
    const producer = this.producerFor(request.acks ?? -1, request.compression ?? 0);
    const records = request.topicMessages.flatMap(({ topic, messages }) =>
      messages.map((m) => {
        const headers: Record<string, Buffer | string | null> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = v;
        return { topic, key: m.key ?? null, value: m.value, partition: m.partition, headers, timestamp: m.timestamp !== undefined ? BigInt(m.timestamp) : undefined };
      }),
    );
    const results = await producer.sendBatch(records);
    // kafkajs answers one entry per partition with the batch's first offset.
    const byPartition = new Map<string, KafkaJSRecordMetadata>();
    for (const r of results) {
      const k = `${r.topic}\0${r.partition}`;
      const cur = byPartition.get(k);
      if (cur === undefined || BigInt(cur.baseOffset) > r.offset) {
        byPartition.set(k, { topicName: r.topic, partition: r.partition, errorCode: 0, baseOffset: String(r.offset), logAppendTime: '-1', logStartOffset: '-1' });
      }
    }
    return [...byPartition.values()];
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.producers.values()].map((p) => p.close()));
    this.producers.clear();
  }
}

export interface KafkaJSTransaction {
  send(request: { topic: string; messages: KafkaJSMessage[]; acks?: number; timeout?: number; compression?: number }): Promise<KafkaJSRecordMetadata[]>;
  sendBatch(request: { topicMessages: Array<{ topic: string; messages: KafkaJSMessage[] }>; acks?: number; compression?: number }): Promise<KafkaJSRecordMetadata[]>;
  sendOffsets(request: { consumerGroupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface KafkaJSConsumerConfig {
  groupId: string;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  minBytes?: number;
  maxBytes?: number;
  maxWaitTimeInMs?: number;
  /** KafkaJS's rackId: the consumer's rack (client.rack, KIP-392). */
  rackId?: string;
  readUncommitted?: boolean;
  allowAutoTopicCreation?: boolean;
  /** Our assignor names, in preference order (kafkajs's assigner objects are not supported). */
  partitionAssigners?: AssignorName[];
}

export interface KafkaJSMessagePayload {
  topic: string;
  partition: number;
  message: { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | undefined>; timestamp: string; offset: string; attributes: number; size: number };
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface KafkaJSBatchPayload {
  batch: { topic: string; partition: number; highWatermark: string; messages: KafkaJSMessagePayload['message'][]; firstOffset(): string | null; lastOffset(): string };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
  pause(): () => void;
}

function toMessage(r: ConsumerRecord): KafkaJSMessagePayload['message'] {
  const headers: Record<string, Buffer | undefined> = {};
  for (const h of r.headers) headers[h.key] = h.value ?? undefined;
  return { key: r.key, value: r.value, headers, timestamp: String(r.timestamp), offset: String(r.offset), attributes: 0, size: 0 };
}

export class KafkaJSConsumer {
  private readonly base: ClusterOptions;
  private readonly config: KafkaJSConsumerConfig;
  private readonly topics: Array<string | RegExp> = [];
  private fromBeginning = false;
  private consumer: Consumer | null = null;
  private running: Promise<void> | null = null;
  private readonly pendingSeeks = new Map<string, bigint>();
  private readonly crashListeners: Array<(event: { payload: { error: Error } }) => void> = [];

  constructor(base: ClusterOptions, config: KafkaJSConsumerConfig) {
    if (!config?.groupId) throw new MisuseError('consumer({ groupId }) is required');
    this.base = base;
    this.config = config;
  }

  async connect(): Promise<void> {
    // Connection happens on run(), once the subscription (and fromBeginning) is known.
  }

  async subscribe(s: { topic?: string | RegExp; topics?: Array<string | RegExp>; fromBeginning?: boolean }): Promise<void> {
    if (this.consumer !== null) throw new MisuseError('subscribe before run(), as in kafkajs');
    const list = s.topics ?? (s.topic !== undefined ? [s.topic] : []);
    if (list.length === 0) throw new MisuseError('subscribe needs topic or topics');
    this.topics.push(...list);
    this.fromBeginning ||= s.fromBeginning ?? false;
  }

  on(event: 'consumer.crash', listener: (event: { payload: { error: Error } }) => void): () => void {
    if (event !== 'consumer.crash') throw new MisuseError(`event ${String(event)} is not supported`);
    this.crashListeners.push(listener);
    return () => this.crashListeners.splice(this.crashListeners.indexOf(listener), 1);
  }

  /** Starts consuming in the background and resolves once started, as kafkajs does. */
  async run(config: {
    autoCommit?: boolean;
    autoCommitInterval?: number | null;
    eachMessage?: (payload: KafkaJSMessagePayload) => Promise<void>;
    eachBatch?: (payload: KafkaJSBatchPayload) => Promise<void>;
    eachBatchAutoResolve?: boolean;
  }): Promise<void> {
    if (this.consumer !== null) throw new MisuseError('run() was already called');
    if (this.topics.length === 0) throw new MisuseError('subscribe before run()');
    const consumer = new Consumer({
      ...this.base,
      groupId: this.config.groupId,
      sessionTimeoutMs: this.config.sessionTimeout ?? 30_000,
      maxPollIntervalMs: this.config.rebalanceTimeout ?? 60_000,
      heartbeatIntervalMs: this.config.heartbeatInterval ?? 3_000,
      maxPartitionFetchBytes: this.config.maxBytesPerPartition,
      fetchMinBytes: this.config.minBytes,
      fetchMaxBytes: this.config.maxBytes,
      fetchMaxWaitMs: this.config.maxWaitTimeInMs ?? 5_000,
      ...(this.config.rackId !== undefined ? { clientRack: this.config.rackId } : {}),
      isolationLevel: this.config.readUncommitted ? 'read_uncommitted' : 'read_committed',
      assignors: this.config.partitionAssigners,
      autoOffsetReset: this.fromBeginning ? 'earliest' : 'latest',
      enableAutoCommit: config.autoCommit ?? true,
      autoCommitIntervalMs: config.autoCommitInterval ?? 5_000,
      rebalanceListener: {
        onPartitionsAssigned: (tps) => {
          for (const tp of tps) {
            const k = `${tp.topic}\0${tp.partition}`;
            const offset = this.pendingSeeks.get(k);
            if (offset !== undefined) {
              this.pendingSeeks.delete(k);
              consumer.seek(tp, offset);
            }
          }
        },
      },
    });
    this.consumer = consumer;
    await consumer.subscribe(this.topics);
    const pauseFn = (topic: string, partition: number) => () => {
      consumer.pause([{ topic, partition }]);
      return () => consumer.resume([{ topic, partition }]);
    };
    const heartbeat = async (): Promise<void> => undefined;
    const loop = config.eachBatch
      ? consumer.run({
          eachBatch: async (b) => {
            await config.eachBatch!({
              batch: {
                topic: b.topic,
                partition: b.partition,
                highWatermark: String(b.highWatermark),
                messages: b.records.map(toMessage),
                firstOffset: () => (b.records.length > 0 ? String(b.records[0].offset) : null),
                lastOffset: () => String(b.records[b.records.length - 1].offset),
              },
              resolveOffset: () => undefined,
              heartbeat,
              commitOffsetsIfNecessary: async () => undefined,
              isRunning: () => this.running !== null,
              isStale: () => false,
              pause: pauseFn(b.topic, b.partition),
            });
          },
        })
      : consumer.run({
          eachMessage: async (r) => {
            await config.eachMessage!({ topic: r.topic, partition: r.partition, message: toMessage(r), heartbeat, pause: pauseFn(r.topic, r.partition) });
          },
        });
    this.running = loop.catch((error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      for (const l of this.crashListeners) l({ payload: { error: e } });
    });
  }

  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    const o = BigInt(offset);
    const assigned = this.consumer?.assignment().some((tp) => tp.topic === topic && tp.partition === partition) ?? false;
    if (assigned) this.consumer!.seek({ topic, partition }, o);
    else this.pendingSeeks.set(`${topic}\0${partition}`, o);
  }

  pause(topics: Array<{ topic: string; partitions?: number[] }>): void {
    const c = this.requireRunning();
    c.pause(c.assignment().filter((tp) => topics.some((t) => t.topic === tp.topic && (t.partitions === undefined || t.partitions.includes(tp.partition)))));
  }

  resume(topics: Array<{ topic: string; partitions?: number[] }>): void {
    const c = this.requireRunning();
    c.resume(c.assignment().filter((tp) => topics.some((t) => t.topic === tp.topic && (t.partitions === undefined || t.partitions.includes(tp.partition)))));
  }

  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    await this.requireRunning().commit(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset) })));
  }

  private requireRunning(): Consumer {
    if (this.consumer === null) throw new MisuseError('the consumer is not running');
    return this.consumer;
  }

  async stop(): Promise<void> {
    await this.disconnect();
  }

  async disconnect(): Promise<void> {
    const c = this.consumer;
    if (c === null) return;
    await c.close();
    await this.running;
    this.running = null;
  }
}

export class KafkaJSAdmin {
  private readonly admin: Admin;

  constructor(base: ClusterOptions) {
    this.admin = new Admin(base);
  }

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async disconnect(): Promise<void> {
    this.admin.close();
  }

  /** Resolves true when every topic was created, false when some already existed (as kafkajs). */
  async createTopics(request: {
    topics: Array<{ topic: string; numPartitions?: number; replicationFactor?: number; configEntries?: Array<{ name: string; value: string }> }>;
    validateOnly?: boolean;
    timeout?: number;
  }): Promise<boolean> {
    const created = await this.admin.createTopics(
      request.topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        configs: Object.fromEntries((t.configEntries ?? []).map((c) => [c.name, c.value])),
      })),
      { validateOnly: request.validateOnly, timeoutMs: request.timeout, ignoreExisting: true },
    );
    return created.every(Boolean);
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async deleteTopics(request: { topics: string[]; timeout?: number }): Promise<void> {
    await this.admin.deleteTopics(request.topics, { timeoutMs: request.timeout });
  }

  async createPartitions(request: { topicPartitions: Array<{ topic: string; count: number }>; validateOnly?: boolean; timeout?: number }): Promise<boolean> {
    await this.admin.createPartitions(request.topicPartitions, { validateOnly: request.validateOnly, timeoutMs: request.timeout });
    return true;
  }

  async fetchTopicMetadata(request: { topics?: string[] } = {}): Promise<{ topics: Array<{ name: string; partitions: Array<{ partitionErrorCode: number; partitionId: number; leader: number; replicas: number[]; isr: number[] }> }> }> {
    const names = request.topics ?? (await this.admin.listTopics());
    const topics = await this.admin.describeTopics(names);
    return {
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionErrorCode: p.errorCode, partitionId: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr })),
      })),
    };
  }

  async fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; offset: string; high: string; low: string }>> {
    const [high, low] = await Promise.all([this.admin.listOffsets(topic, OffsetSpec.latest), this.admin.listOffsets(topic, OffsetSpec.earliest)]);
    return high.map((h, i) => ({ partition: h.partition, offset: String(h.offset), high: String(h.offset), low: String(low[i].offset) }));
  }

  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<Array<{ partition: number; offset: string }>> {
    const found = await this.admin.listOffsets(topic, timestamp === undefined ? OffsetSpec.latest : BigInt(timestamp));
    const latest = await this.admin.listOffsets(topic, OffsetSpec.latest);
    // kafkajs reports the end offset when no record is that recent.
    return found.map((f, i) => ({ partition: f.partition, offset: String(f.offset < 0n ? latest[i].offset : f.offset) }));
  }

  async fetchOffsets(request: { groupId: string; topics?: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string | null }> }>> {
    const topics = request.topics ?? [];
    const committed = await this.admin.listConsumerGroupOffsets(request.groupId, topics.length > 0 ? topics : undefined);
    const names = topics.length > 0 ? topics : [...new Set(committed.map((c) => c.topic))];
    const described = await this.admin.describeTopics(names);
    return described.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        offset: String(committed.find((c) => c.topic === t.name && c.partition === p.partition)?.offset ?? -1n),
        metadata: null,
      })),
    }));
  }

  async setOffsets(request: { groupId: string; topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void> {
    await this.admin.alterConsumerGroupOffsets(request.groupId, request.partitions.map((p) => ({ topic: request.topic, partition: p.partition, offset: BigInt(p.offset) })));
  }

  async resetOffsets(request: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    const offsets = await this.admin.listOffsets(request.topic, request.earliest ? OffsetSpec.earliest : OffsetSpec.latest);
    await this.admin.alterConsumerGroupOffsets(request.groupId, offsets);
  }

  async listGroups(): Promise<{ groups: Array<{ groupId: string; protocolType: string }> }> {
    return { groups: (await this.admin.listGroups()).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })) };
  }

  async describeGroups(groupIds: string[]): Promise<{ groups: Array<{ groupId: string; state: string; protocolType: string; protocol: string; members: Array<{ memberId: string; clientId: string; clientHost: string }> }> }> {
    const groups = await this.admin.describeGroups(groupIds);
    return { groups: groups.map((g) => ({ groupId: g.groupId, state: g.state, protocolType: g.protocolType, protocol: g.protocol, members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost })) })) };
  }

  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    await this.admin.deleteGroups(groupIds);
    return groupIds.map((groupId) => ({ groupId, errorCode: 0 }));
  }

  async describeCluster(): Promise<{ brokers: Array<{ nodeId: number; host: string; port: number }>; controller: number | null; clusterId: string }> {
    const c = await this.admin.describeCluster();
    return { brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })), controller: c.controllerId >= 0 ? c.controllerId : null, clusterId: c.clusterId };
  }

  async deleteTopicRecords(request: { topic: string; partitions: Array<{ partition: number; offset: string }> }): Promise<void> {
    await this.admin.deleteRecords(request.topic, request.partitions.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })));
  }
}
