/**
 * The client's view of a cluster: bootstrap, the metadata cache (brokers, topics, partition
 * leaders), one pipelined connection per broker, and a retry loop with exponential backoff that
 * refreshes metadata when a leader moved.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ApiKey, ErrorCode, KafkaError, type MetadataResponse } from '@sluice/protocol';
import { Connection, type SaslAuthenticator } from '../connection/connection.js';
import { ConnectionError, MisuseError, RequestTimeoutError, isRetriable } from '../errors.js';

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First backoff (default 100 ms); doubles each attempt with ±20% jitter. */
  initialRetryTimeMs?: number;
  /** Backoff ceiling (default 1000 ms). */
  maxRetryTimeMs?: number;
}

export interface ClusterOptions {
  /** Bootstrap servers as `host:port`. */
  brokers: string[];
  clientId?: string;
  tls?: TlsOptions | boolean;
  sasl?: SaslAuthenticator;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** Refresh metadata at least this often while in use (default 300000). */
  metadataMaxAgeMs?: number;
  /** Ask brokers to auto-create topics on metadata requests (default false). */
  allowAutoTopicCreation?: boolean;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string | undefined;
  isInternal: boolean;
  partitions: PartitionMetadata[];
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Errors after which the cached leader is wrong and metadata must be refreshed. */
const STALE_METADATA_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

export function needsMetadataRefresh(error: unknown): boolean {
  // A request timeout counts: Kafka's clients drop the connection and update metadata, since the
  // usual cause is a broker that is gone or paused and has likely lost its leadership.
  return error instanceof ConnectionError || error instanceof RequestTimeoutError || (error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code));
}

function parseBroker(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  if (i <= 0) throw new MisuseError(`broker '${s}' is not host:port`);
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new MisuseError(`broker '${s}' has an invalid port`);
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Cluster {
  readonly options: ClusterOptions;
  readonly clientId: string;
  private readonly bootstrap: Array<{ host: string; port: number }>;
  private readonly connections = new Map<string, Connection>();
  private readonly brokerById = new Map<number, BrokerAddress>();
  private readonly topicByName = new Map<string, TopicMetadata>();
  private readonly interest = new Set<string>();
  private refreshing: Promise<void> | null = null;
  private readonly coordinators = new Map<string, { host: string; port: number }>();
  private lastRefresh = 0;
  private closed = false;
  clusterId: string | null = null;
  controllerId = -1;

  constructor(options: ClusterOptions) {
    if (!Array.isArray(options.brokers) || options.brokers.length === 0) throw new MisuseError('at least one bootstrap broker is required');
    this.options = options;
    this.clientId = options.clientId ?? 'sluice';
    this.bootstrap = options.brokers.map(parseBroker);
  }

  private connectionFor(host: string, port: number): Connection {
    const key = `${host}:${port}`;
    let c = this.connections.get(key);
    if (c === undefined) {
      c = new Connection({
        host,
        port,
        clientId: this.clientId,
        tls: this.options.tls,
        sasl: this.options.sasl,
        connectTimeoutMs: this.options.connectTimeoutMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
      });
      this.connections.set(key, c);
    }
    return c;
  }

  /** Connects to a bootstrap broker and loads the broker list. */
  async connect(): Promise<void> {
    if (this.closed) throw new MisuseError('client is closed');
    await this.refreshMetadata();
  }

  /**
   * A connected broker, the least loaded first (as Kafka's leastLoadedNode): an open connection
   * with nothing outstanding, else a new connection to a known or bootstrap broker, else the open
   * connection with the fewest requests outstanding. A broker that stopped answering (paused,
   * partitioned) collects unanswered requests, so metadata is asked elsewhere meanwhile.
   */
  async anyConnection(): Promise<Connection> {
    let busiest: Connection | null = null;
    for (const c of this.connections.values()) {
      if (!c.isOpen) continue;
      if (c.inFlight === 0) return c;
      if (busiest === null || c.inFlight < busiest.inFlight) busiest = c;
    }
    const candidates = [...this.brokerById.values(), ...this.bootstrap];
    let lastError: unknown = null;
    for (const b of candidates) {
      const c = this.connectionFor(b.host, b.port);
      if (c.isOpen) continue;
      try {
        await c.connect();
        return c;
      } catch (error) {
        lastError = error;
      }
    }
    if (busiest !== null) return busiest;
    throw lastError instanceof Error ? lastError : new ConnectionError(this.bootstrap.map((b) => `${b.host}:${b.port}`).join(','), 'no broker reachable');
  }

  async connectionTo(nodeId: number): Promise<Connection> {
    let broker = this.brokerById.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata();
      broker = this.brokerById.get(nodeId);
      if (broker === undefined) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `broker ${nodeId} is not in the metadata`);
    }
    const c = this.connectionFor(broker.host, broker.port);
    await c.connect();
    return c;
  }

  /** Connection to a host/port the broker named (a coordinator). */
  async connectionToAddress(host: string, port: number): Promise<Connection> {
    const c = this.connectionFor(host, port);
    await c.connect();
    return c;
  }

  brokers(): BrokerAddress[] {
    return [...this.brokerById.values()];
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topicByName.get(name);
  }

  topicNames(): string[] {
    return [...this.topicByName.keys()];
  }

  /** Adds topics the client keeps metadata for (refreshes include them). */
  addInterest(topics: Iterable<string>): void {
    for (const t of topics) this.interest.add(t);
  }

  /**
   * Refreshes metadata for the topics of interest (plus `extra`); `all: true` lists every topic.
   * Concurrent calls share one request.
   */
  async refreshMetadata(options: { extra?: string[]; all?: boolean } = {}): Promise<void> {
    if (options.extra) this.addInterest(options.extra);
    if (this.refreshing && !options.all) return this.refreshing;
    const run = this.fetchMetadata(options.all === true);
    if (!options.all) {
      this.refreshing = run.finally(() => {
        this.refreshing = null;
      });
      return this.refreshing;
    }
    return run;
  }

  private async fetchMetadata(all: boolean): Promise<void> {
    const response = await this.withRetry(async () => {
      const c = await this.anyConnection();
      const topics = all ? null : [...this.interest].map((name) => ({ name }));
      return c.request(ApiKey.Metadata, { topics, allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? false });
    });
    this.applyMetadata(response, all);
  }

  private applyMetadata(response: MetadataResponse, all: boolean): void {
    this.lastRefresh = Date.now();
    this.brokerById.clear();
    for (const b of response.brokers) this.brokerById.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null });
    this.clusterId = response.clusterId ?? null;
    this.controllerId = response.controllerId ?? -1;
    if (all) this.topicByName.clear();
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0 && t.partitions.length === 0) {
        this.topicByName.delete(t.name);
        continue;
      }
      this.topicByName.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal ?? false,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch ?? -1,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
  }

  /** Metadata of `topics`, fetching what is missing; throws UNKNOWN_TOPIC_OR_PARTITION after retries. */
  async ensureTopics(topics: Iterable<string>): Promise<void> {
    const wanted = [...topics];
    this.addInterest(wanted);
    const stale = Date.now() - this.lastRefresh > (this.options.metadataMaxAgeMs ?? 300_000);
    if (!stale && wanted.every((t) => this.hasLeaders(t))) return;
    await this.withRetry(async () => {
      await this.refreshMetadata();
      const missing = wanted.find((t) => !this.hasLeaders(t));
      if (missing !== undefined) {
        const known = this.topicByName.has(missing);
        throw new KafkaError(known ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, missing);
      }
    });
  }

  private hasLeaders(topic: string): boolean {
    const t = this.topicByName.get(topic);
    return t !== undefined && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
  }

  leaderOf(topic: string, partition: number): number {
    const t = this.topicByName.get(topic);
    const p = t?.partitions[partition];
    if (p === undefined || p.partition !== partition) {
      const found = t?.partitions.find((x) => x.partition === partition);
      if (found === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`);
      return found.leader;
    }
    return p.leader;
  }

  /** The leader epoch metadata gave for a partition (-1 when unknown): Fetch's currentLeaderEpoch (KIP-320). */
  leaderEpochOf(topic: string, partition: number): number {
    const t = this.topicByName.get(topic);
    const p = t?.partitions[partition]?.partition === partition ? t.partitions[partition] : t?.partitions.find((x) => x.partition === partition);
    return p?.leaderEpoch ?? -1;
  }

  partitionCount(topic: string): number {
    return this.topicByName.get(topic)?.partitions.length ?? 0;
  }

  /**
   * Runs `fn`, retrying retriable failures with exponential backoff; refreshes metadata first when
   * the failure means the cached leader or coordinator is stale.
   */
  async withRetry<T>(fn: (attempt: number) => Promise<T>, retry: RetryOptions = this.options.retry ?? {}): Promise<T> {
    const retries = retry.retries ?? 5;
    const initial = retry.initialRetryTimeMs ?? 100;
    const max = retry.maxRetryTimeMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (error) {
        if (this.closed || attempt >= retries || !isRetriable(error)) throw error;
        const backoff = Math.min(max, initial * 2 ** attempt) * (0.8 + Math.random() * 0.4);
        await sleep(backoff);
        if (needsMetadataRefresh(error) && this.refreshing === null && !(error instanceof ConnectionError && this.brokerById.size === 0)) {
          try {
            await this.fetchMetadataOnce();
          } catch {
            // the next attempt reports the failure
          }
        }
      }
    }
  }

  private async fetchMetadataOnce(): Promise<void> {
    const c = await this.anyConnection();
    const topics = [...this.interest].map((name) => ({ name }));
    this.applyMetadata(await c.request(ApiKey.Metadata, { topics, allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? false }), false);
  }

  /**
   * The connection to a group's coordinator (FindCoordinator, cached until `forgetCoordinator`);
   * keyType 1: a transactional id's transaction coordinator.
   */
  async coordinatorFor(groupId: string, keyType: 0 | 1 = 0): Promise<Connection> {
    const cacheKey = keyType === 0 ? groupId : `\u0001txn\u0000${groupId}`;
    const cached = this.coordinators.get(cacheKey);
    if (cached !== undefined) return this.connectionToAddress(cached.host, cached.port);
    return this.withRetry(async () => {
      const c = await this.anyConnection();
      const version = c.versionOf(ApiKey.FindCoordinator);
      let host: string;
      let port: number;
      if (version >= 4) {
        const r = await c.request(ApiKey.FindCoordinator, { keyType, coordinatorKeys: [groupId] });
        const found = r.coordinators?.[0];
        if (found === undefined) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, groupId);
        if (found.errorCode !== 0) throw new KafkaError(found.errorCode, found.errorMessage ?? groupId);
        host = found.host;
        port = found.port;
      } else {
        const r = await c.request(ApiKey.FindCoordinator, { key: groupId, keyType });
        if ((r.errorCode ?? 0) !== 0) throw new KafkaError(r.errorCode ?? 0, r.errorMessage ?? groupId);
        host = r.host ?? '';
        port = r.port ?? 0;
      }
      this.coordinators.set(cacheKey, { host, port });
      return this.connectionToAddress(host, port);
    });
  }

  forgetCoordinator(groupId: string, keyType: 0 | 1 = 0): void {
    this.coordinators.delete(keyType === 0 ? groupId : `\u0001txn\u0000${groupId}`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
