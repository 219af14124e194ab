/**
 * The follower side of replication, as Kafka's ReplicaFetcherManager and ReplicaFetcherThread:
 * one fetcher per (leader broker, fetcher id), each with one connection to the leader, fetching
 * its partitions with this broker's replica id and appending the leader's batches as they are
 * (offsets, epochs, CRCs). Each fetch carries the epoch of our last batch, and the leader answers a
 * DivergingEpoch where our log went another way (KIP-320): we truncate there and fetch again. A log
 * without epochs, or a leader older than Fetch v12, goes through OffsetForLeaderEpoch first
 * (KIP-101/279: truncate to where the leader's log and ours diverge).
 */
import { ApiKey, BufferPool, ErrorCode, type FetchResponse } from '@sluice/protocol';
import { Connection, type ConnectionOptions } from '@sluice/client';
import type { Logger } from '../logger.js';
import type { BrokerRegistration } from '../metadata/metadata-store.js';
import type { Partition } from './partition.js';
import { isThrottledReplica, type ReplicationQuota } from './replication-quota.js';

export interface ReplicaFetcherConfig {
  numReplicaFetchers: number;
  fetchMaxBytes: number;
  fetchResponseMaxBytes: number;
  fetchWaitMaxMs: number;
  fetchMinBytes: number;
  fetchBackoffMs: number;
  /** follower.replication.throttled.rate, for replicas the topic lists as follower-throttled. */
  followerQuota?: ReplicationQuota;
  /** TLS and SASL for connections to other brokers (the inter-broker listener's security). */
  connectionOptions?: Pick<ConnectionOptions, 'tls' | 'sasl'>;
}

/** Fetch v12: topics by name, replica_id in the body, lastFetchedEpoch; every sluice and Kafka broker serves it. */
const FETCH_VERSION = 12;
/** KIP-320: from Fetch v12 the leader answers DivergingEpoch, so truncation happens on fetch. */
const TRUNCATE_ON_FETCH_VERSION = 12;
/** OffsetForLeaderEpoch v3+ carries the replica id. */
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;
/** Bounds KIP-279's rounds (each one moves to an older epoch, so a handful is plenty). */
const MAX_TRUNCATION_ROUNDS = 16;

interface FetchState {
  partition: Partition;
  /** The leader epoch this fetch state was made for: a becomeFollower at a new epoch truncates again. */
  leaderEpoch: number;
  truncating: boolean;
  /** Backing off after an error until this time. */
  delayedUntil: number;
}

const key = (topic: string, index: number) => `${topic}\u0000${index}`;

/** Where a fetch response's records stop being whole batches (a leader may cut the last one). */
export function wholeBatches(records: Buffer): Buffer {
  let at = 0;
  while (at + 12 <= records.length) {
    const size = 12 + records.readInt32BE(at + 8);
    if (at + size > records.length) break;
    at += size;
  }
  return at === records.length ? records : records.subarray(0, at);
}

export class ReplicaFetcherThread {
  private readonly partitions = new Map<string, FetchState>();
  private connection: Connection | null = null;
  private running = true;
  private wakeUp: (() => void) | null = null;
  private readonly done: Promise<void>;
  /** Fetch responses land in these buffers and go back once their batches are appended: replication allocates no fresh ones. */
  private readonly frames = new BufferPool(32 << 20);

  constructor(
    readonly name: string,
    private readonly localBrokerId: number,
    private readonly leader: BrokerRegistration,
    private readonly config: ReplicaFetcherConfig,
    private readonly logger: Logger,
  ) {
    this.done = this.run();
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  addPartition(partition: Partition): void {
    this.partitions.set(key(partition.topic, partition.index), { partition, leaderEpoch: partition.leaderEpoch, truncating: true, delayedUntil: 0 });
    this.wake();
  }

  removePartition(topic: string, index: number): void {
    this.partitions.delete(key(topic, index));
  }

  hasPartition(partition: Partition): boolean {
    const s = this.partitions.get(key(partition.topic, partition.index));
    return s !== undefined && s.partition === partition && s.leaderEpoch === partition.leaderEpoch;
  }

  async shutdown(): Promise<void> {
    this.running = false;
    this.connection?.close();
    this.wake();
    await this.done;
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async conn(): Promise<Connection> {
    if (this.connection && this.connection.isOpen) return this.connection;
    this.connection?.close();
    const c = new Connection({ host: this.leader.host, port: this.leader.port, clientId: `broker-${this.localBrokerId}-${this.name}`, requestTimeoutMs: 30_000 + this.config.fetchWaitMaxMs, framePool: this.frames, ...this.config.connectionOptions });
    this.connection = c;
    await c.connect();
    return c;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const ready = [...this.partitions.values()].filter((s) => s.delayedUntil <= now && !s.partition.log.isClosed);
      if (ready.length === 0) {
        const next = Math.min(...[...this.partitions.values()].map((s) => s.delayedUntil));
        await this.sleep(Number.isFinite(next) ? Math.max(1, next - now) : 60_000);
        continue;
      }
      try {
        const truncating = ready.filter((s) => s.truncating);
        if (truncating.length > 0) await this.truncate(truncating);
        const current = ready.filter((s) => !s.truncating && this.current(s));
        // Kafka's shouldFollowerThrottle: out-of-sync throttled replicas wait while the quota is spent.
        const fetching = current.filter((s) => !this.throttled(s) || !this.config.followerQuota!.isQuotaExceeded());
        if (fetching.length > 0) await this.fetch(fetching);
        // Everything throttled: wait until the rate is back under the quota (at most the fetch backoff).
        else if (current.length > 0) await this.sleep(Math.max(1, Math.min(this.config.fetchBackoffMs, this.config.followerQuota!.delayMs())));
      } catch (err) {
        if (!this.running) break;
        this.logger.warn(`[${this.name}] replica fetch from broker ${this.leader.nodeId} (${this.leader.host}:${this.leader.port}) failed: ${(err as Error).message}; retrying in ${this.config.fetchBackoffMs} ms`);
        this.connection?.close();
        this.connection = null;
        await this.sleep(this.config.fetchBackoffMs);
      }
    }
  }

  /** A replica this broker fetches under follower.replication.throttled.rate: throttled by its topic and not in the ISR. */
  private throttled(s: FetchState): boolean {
    const p = s.partition;
    return this.config.followerQuota !== undefined && !p.state.isr.includes(this.localBrokerId) && isThrottledReplica(p.config.followerReplicationThrottledReplicas, p.index, this.localBrokerId);
  }

  /** Still ours: not removed or replaced while a request was out. */
  private current(s: FetchState): boolean {
    return this.partitions.get(key(s.partition.topic, s.partition.index)) === s;
  }

  private backoff(s: FetchState, why: string): void {
    this.logger.debug(`[${this.name}] ${s.partition.topic}-${s.partition.index}: ${why}; backing off ${this.config.fetchBackoffMs} ms`);
    s.delayedUntil = Date.now() + this.config.fetchBackoffMs;
  }

  /**
   * KIP-279: ask the leader where our latest epoch ends in its log; when it answers with an older
   * epoch (it never had ours), truncate to where that epoch ends here and ask again with it.
   */
  private async truncate(states: FetchState[]): Promise<void> {
    const conn = await this.conn();
    let pending = states;
    for (let round = 0; round < MAX_TRUNCATION_ROUNDS && pending.length > 0; round++) {
      // A log with no epochs has nothing the leader's epochs could contradict: truncate to the HW (Kafka's fallback).
      const again: FetchState[] = [];
      const asking: FetchState[] = [];
      for (const s of pending) {
        if (!this.current(s)) continue;
        if (round === 0 && s.partition.log.latestEpoch >= 0 && conn.versionOf(ApiKey.Fetch) >= TRUNCATE_ON_FETCH_VERSION) {
          // KIP-320: the leader checks our last fetched epoch on every fetch and answers a
          // DivergingEpoch when our log went another way; no OffsetForLeaderEpoch round trip first.
          s.truncating = false;
        } else if (s.partition.log.latestEpoch < 0) {
          await s.partition.writeAsFollower(s.leaderEpoch, (l) => l.truncateTo(l.highWatermark));
          s.truncating = false;
        } else asking.push(s);
      }
      if (asking.length === 0) break;
      const byTopic = new Map<string, FetchState[]>();
      for (const s of asking) byTopic.set(s.partition.topic, [...(byTopic.get(s.partition.topic) ?? []), s]);
      const response = await conn.request(
        ApiKey.OffsetForLeaderEpoch,
        {
          replicaId: this.localBrokerId,
          topics: [...byTopic].map(([topic, list]) => ({
            topic,
            partitions: list.map((s) => ({ partition: s.partition.index, currentLeaderEpoch: s.leaderEpoch, leaderEpoch: s.partition.log.latestEpoch })),
          })),
        },
        { version: OFFSET_FOR_LEADER_EPOCH_VERSION },
      );
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const s = byTopic.get(t.topic)?.find((x) => x.partition.index === p.partition);
          if (!s || !this.current(s)) continue;
          if (p.errorCode !== ErrorCode.NONE) {
            this.backoff(s, `OffsetForLeaderEpoch answered error ${p.errorCode}`);
            continue;
          }
          if (await this.truncateToLeaderEpochEnd(s, p.leaderEpoch ?? -1, p.endOffset ?? -1n, 'OffsetForLeaderEpoch')) s.truncating = false;
          else again.push(s); // The leader never had our epoch: go on from the older one.
        }
      }
      pending = again;
    }
    for (const s of pending) s.truncating = false;
  }

  /**
   * Kafka's getOffsetTruncationState: the leader ends `leaderEpoch` at `endOffset` (an
   * OffsetForLeaderEpoch answer or a KIP-320 DivergingEpoch). When we have that epoch too, our log
   * agrees up to the smaller of both ends: truncate there and we are done. When we do not (the
   * leader answered with an epoch we skipped), cut back to where our older epoch ends and ask again
   * with it (returns false). With no epoch to compare, the HW is all we can trust.
   */
  private async truncateToLeaderEpochEnd(s: FetchState, leaderEpoch: number, endOffset: bigint, via: string): Promise<boolean> {
    const partition = s.partition;
    const log = partition.log;
    const name = `${partition.topic}-${partition.index}`;
    const before = log.logEndOffset;
    const min = (a: bigint, b: bigint) => (a < b ? a : b);
    let target: bigint;
    let done = true;
    if (endOffset < 0n) target = partition.highWatermark;
    else if (leaderEpoch < 0) target = min(endOffset, before);
    else {
      const mine = log.endOffsetForEpoch(leaderEpoch);
      if (mine.epoch === leaderEpoch) target = min(endOffset, mine.endOffset);
      else if (mine.epoch >= 0) {
        target = min(mine.endOffset, before);
        done = false;
      } else target = min(endOffset, before);
    }
    if (target < before) {
      const truncated = await partition.writeAsFollower(s.leaderEpoch, async (l) => {
        if (l.logEndOffset !== before) return; // Moved meanwhile: decide again on the next answer.
        this.logger.info(`[${this.name}] truncating ${name} from ${before} to ${target} (${via}: leader ${this.leader.nodeId} ends epoch ${leaderEpoch} at ${endOffset})`);
        await l.truncateTo(target);
      });
      if (!truncated) return true; // No longer following this leadership: nothing more to do here.
    }
    return done;
  }

  private async fetch(states: FetchState[]): Promise<void> {
    const conn = await this.conn();
    const byTopic = new Map<string, FetchState[]>();
    for (const s of states) byTopic.set(s.partition.topic, [...(byTopic.get(s.partition.topic) ?? []), s]);
    const requested = new Map<FetchState, bigint>();
    const response = await conn.request(
      ApiKey.Fetch,
      {
        replicaId: this.localBrokerId,
        maxWaitMs: this.config.fetchWaitMaxMs,
        minBytes: this.config.fetchMinBytes,
        maxBytes: this.config.fetchResponseMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, list]) => ({
          topic,
          partitions: list.map((s) => {
            const fetchOffset = s.partition.logEndOffset;
            requested.set(s, fetchOffset);
            return { partition: s.partition.index, currentLeaderEpoch: s.leaderEpoch, fetchOffset, lastFetchedEpoch: s.partition.log.latestEpoch, logStartOffset: s.partition.logStartOffset, partitionMaxBytes: this.config.fetchMaxBytes };
          }),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      { version: FETCH_VERSION },
    );
    try {
      await this.applyFetchResponse(response, byTopic, requested);
    } finally {
      // Nothing refers to the response's bytes any more: the appends have written them.
      const view = response.responses.flatMap((t) => t.partitions).find((p) => p.records && p.records.length > 0)?.records;
      if (view) this.frames.release(view);
    }
  }

  private async applyFetchResponse(response: FetchResponse, byTopic: Map<string, FetchState[]>, requested: Map<FetchState, bigint>): Promise<void> {
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const s = byTopic.get(t.topic ?? '')?.find((x) => x.partition.index === p.partitionIndex);
        if (!s || !this.current(s)) continue;
        const partition = s.partition;
        const name = `${partition.topic}-${partition.index}`;
        switch (p.errorCode) {
          case ErrorCode.NONE: {
            // Our log moved meanwhile (truncated by a new leadership): this answer is for an older position.
            if (partition.logEndOffset !== requested.get(s) || partition.log.isClosed) continue;
            const diverging = p.divergingEpoch;
            if (diverging !== undefined && (diverging.epoch ?? -1) >= 0) {
              // KIP-320: our log diverged from the leader's; cut it back and fetch again from there
              // (a not-done truncation sends the older epoch it ends with, and the leader checks again).
              await this.truncateToLeaderEpochEnd(s, diverging.epoch ?? -1, diverging.endOffset ?? -1n, 'DivergingEpoch');
              break;
            }
            const records = p.records ? wholeBatches(p.records) : null;
            if (records && records.length > 0 && this.throttled(s)) this.config.followerQuota!.record(records.length);
            const fetchOffset = requested.get(s);
            // Checked again under the partition's write gate: leadership may have moved while the answer was out.
            await partition.writeAsFollower(s.leaderEpoch, async (l) => {
              if (l.logEndOffset !== fetchOffset) return;
              if (records && records.length > 0) await l.appendAsFollower(records);
              partition.updateFollowerHighWatermark(p.highWatermark);
            });
            break;
          }
          case ErrorCode.OFFSET_OUT_OF_RANGE: {
            // Below the leader's log start (retention ran there): start over where the leader starts.
            const ours = partition.logEndOffset;
            const leaderStart = p.logStartOffset ?? -1n;
            if (leaderStart >= 0n && ours < leaderStart) {
              this.logger.warn(`[${this.name}] ${name}: fetch offset ${ours} is below the leader's log start ${leaderStart}; restarting the log there`);
              await partition.writeAsFollower(s.leaderEpoch, (l) => l.truncateFullyAndStartAt(leaderStart));
            } else {
              s.truncating = true; // Above the leader's end: our log diverged, truncate again.
            }
            break;
          }
          default:
            // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION: the
            // metadata will tell us (becomeFollower again); until then, wait.
            this.backoff(s, `fetch answered error ${p.errorCode}`);
        }
      }
    }
  }
}

/** Kafka's ReplicaFetcherManager: which fetcher serves which followed partition. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<string, ReplicaFetcherThread>();
  /** The fetcher key of every followed partition. */
  private readonly assignment = new Map<string, string>();

  constructor(
    private readonly localBrokerId: number,
    private readonly brokerOf: (nodeId: number) => BrokerRegistration | undefined,
    private readonly config: ReplicaFetcherConfig,
    private readonly logger: Logger,
  ) {}

  /** Kafka's getFetcherId: a partition always goes to the same fetcher of a leader. */
  private fetcherId(topic: string, index: number): number {
    let h = 0;
    for (const c of topic) h = (h * 31 + c.charCodeAt(0)) | 0;
    return Math.abs(31 * h + index) % this.config.numReplicaFetchers;
  }

  /** Starts fetching `partition` (a follower) from its leader; a previous fetch state for it goes. */
  addFetcherForPartition(partition: Partition): void {
    const leaderId = partition.state.leader;
    const k = key(partition.topic, partition.index);
    const leader = this.brokerOf(leaderId);
    if (!leader || leaderId === this.localBrokerId || leaderId < 0) {
      this.removeFetcherForPartition(partition.topic, partition.index);
      if (leaderId >= 0 && leaderId !== this.localBrokerId) this.logger.warn(`${partition.topic}-${partition.index}: leader ${leaderId} is not a registered broker; not fetching`);
      return;
    }
    const fetcherKey = `${leaderId}:${leader.host}:${leader.port}:${this.fetcherId(partition.topic, partition.index)}`;
    const previous = this.assignment.get(k);
    if (previous && previous !== fetcherKey) this.removeFetcherForPartition(partition.topic, partition.index);
    let fetcher = this.fetchers.get(fetcherKey);
    if (!fetcher) {
      const id = fetcherKey.split(':')[3];
      fetcher = new ReplicaFetcherThread(`ReplicaFetcherThread-${id}-${leaderId}`, this.localBrokerId, leader, this.config, this.logger);
      this.fetchers.set(fetcherKey, fetcher);
    }
    if (!fetcher.hasPartition(partition)) fetcher.addPartition(partition);
    this.assignment.set(k, fetcherKey);
  }

  removeFetcherForPartition(topic: string, index: number): void {
    const k = key(topic, index);
    const fetcherKey = this.assignment.get(k);
    if (!fetcherKey) return;
    this.assignment.delete(k);
    const fetcher = this.fetchers.get(fetcherKey);
    if (!fetcher) return;
    fetcher.removePartition(topic, index);
    // Kafka's shutdownIdleFetcherThreads.
    if (fetcher.partitionCount === 0) {
      this.fetchers.delete(fetcherKey);
      void fetcher.shutdown();
    }
  }

  get fetcherCount(): number {
    return this.fetchers.size;
  }

  async shutdown(): Promise<void> {
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    this.assignment.clear();
    await Promise.all(all.map((f) => f.shutdown()));
  }
}
