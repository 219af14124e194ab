/**
 * The fetcher: one Fetch loop per leader broker over the consumer's assigned, unpaused partitions.
 * Decoded records are buffered per partition; a partition is not fetched again while its buffer
 * holds `maxPartitionFetchBytes` or more, so a slow consumer stops fetching (back-pressure).
 */
import {
  ApiKey,
  ErrorCode,
  KafkaError,
  iterateRecordBatches,
  type FetchResponsePartitionData,
  type KafkaRecord,
} from '@sluice/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { needsMetadataRefresh, sleep } from '../cluster/cluster.js';
import { LogTruncationError, isRetriable } from '../errors.js';
import type { FetchedBatch, PartitionState, SubscriptionState } from './subscription-state.js';

export interface FetcherOptions {
  minBytes: number;
  maxWaitMs: number;
  maxBytes: number;
  maxPartitionFetchBytes: number;
  isolationLevel: 0 | 1;
  /** client.rack (KIP-392): sent in every Fetch; a leader with a rack-aware selector may point us at a replica in this rack. */
  clientRack?: string;
  /** How long a preferred read replica is used before asking the leader again (Kafka: metadata.max.age.ms). */
  preferredReadReplicaMaxAgeMs?: number;
}

export class Fetcher {
  private readonly cluster: Cluster;
  private readonly options: FetcherOptions;
  private readonly subscriptions: SubscriptionState;
  private readonly activeNodes = new Set<number>();
  private running = false;
  /** KIP-392: the replica a leader told us to fetch a partition from, until when. */
  private readonly preferredReadReplicas = new Map<PartitionState, { nodeId: number; until: number }>();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Called after new records were buffered. */
  onRecords: () => void = () => {};
  onOutOfRange: (state: PartitionState) => void = () => {};
  /** Set by the consumer: the offset after the last record handed to the application (held ones included). */
  deliveredPosition: (state: PartitionState) => bigint | null = (s) => s.consumedPosition ?? s.fetchPosition;
  /** The leader's log no longer has what was consumed from `divergedAt` to `consumed` (KIP-320); the consumer goes on from `divergedAt`. */
  onTruncation: (state: PartitionState, consumed: bigint, divergedAt: bigint) => void = () => {};
  onError: (error: Error) => void = () => {};
  /** Set by the consumer: each Fetch's round trip (ms). */
  onFetchLatency: (ms: number) => void = () => {};

  constructor(cluster: Cluster, options: FetcherOptions, subscriptions: SubscriptionState) {
    this.cluster = cluster;
    this.options = options;
    this.subscriptions = subscriptions;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
  }

  /** Re-evaluates what to fetch (assignment, seek, resume, buffer drained). */
  nudge(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fetchable(s: PartitionState): boolean {
    // Up to two fetches' worth buffered per partition, so the next fetch is on the wire while the
    // application works through the previous one.
    return !s.paused && !s.needsReset && s.fetchPosition !== null && s.bufferedBytes < 2 * this.options.maxPartitionFetchBytes;
  }

  /** Starts a fetch for every leader with fetchable partitions and none in flight; sleeps otherwise. */
  private async schedule(): Promise<void> {
    while (this.running) {
      const byNode = new Map<number, PartitionState[]>();
      let missingLeader = false;
      for (const s of this.subscriptions.partitions()) {
        if (!this.fetchable(s)) continue;
        let leader = -1;
        try {
          leader = this.cluster.leaderOf(s.topic, s.partition);
        } catch {
          leader = -1;
        }
        if (leader < 0) {
          missingLeader = true;
          continue;
        }
        leader = this.readReplicaOf(s) ?? leader;
        if (this.activeNodes.has(leader)) continue;
        (byNode.get(leader) ?? byNode.set(leader, []).get(leader)!).push(s);
      }
      for (const [node, states] of byNode) {
        this.activeNodes.add(node);
        void this.fetchFrom(node, states).finally(() => {
          this.activeNodes.delete(node);
          this.nudge();
        });
      }
      if (missingLeader) {
        try {
          await this.cluster.refreshMetadata();
        } catch (error) {
          this.onError(error instanceof Error ? error : new Error(String(error)));
        }
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (missingLeader) setTimeout(() => this.nudge(), 200);
      });
    }
  }

  /** The preferred read replica of a partition while it is fresh and a known broker (KIP-392), else null (the leader). */
  private readReplicaOf(s: PartitionState): number | null {
    const preferred = this.preferredReadReplicas.get(s);
    if (preferred === undefined) return null;
    if (Date.now() >= preferred.until || !this.cluster.brokers().some((b) => b.nodeId === preferred.nodeId)) {
      this.preferredReadReplicas.delete(s);
      return null;
    }
    return preferred.nodeId;
  }

  private async fetchFrom(node: number, states: PartitionState[]): Promise<void> {
    const versions = states.map((s) => s.version);
    const positions = states.map((s) => s.fetchPosition!);
    const topics = new Map<string, Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number; logStartOffset: bigint }>>();
    states.forEach((s, i) => {
      (topics.get(s.topic) ?? topics.set(s.topic, []).get(s.topic)!).push({
        partition: s.partition,
        fetchOffset: positions[i],
        partitionMaxBytes: this.options.maxPartitionFetchBytes,
        // KIP-320: a leader on another epoch answers FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH
        // (metadata is refreshed and the fetch retried) instead of serving a stale view.
        currentLeaderEpoch: this.cluster.leaderEpochOf(s.topic, s.partition),
        // KIP-320: the leader checks our position against its epochs on every fetch and answers
        // DivergingEpoch when its log went another way (an unclean election truncated what we read).
        lastFetchedEpoch: s.fetchLeaderEpoch ?? -1,
        logStartOffset: -1n,
      });
    });
    let response;
    const sentAt = performance.now();
    try {
      const c = await this.cluster.connectionTo(node);
      response = await c.request(
        ApiKey.Fetch,
        {
          replicaId: -1,
          maxWaitMs: this.options.maxWaitMs,
          minBytes: this.options.minBytes,
          maxBytes: this.options.maxBytes,
          isolationLevel: this.options.isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
          forgottenTopicsData: [],
          rackId: this.options.clientRack ?? '',
        },
        { timeoutMs: this.options.maxWaitMs + (this.cluster.options.requestTimeoutMs ?? 30_000) },
      );
    } catch (error) {
      if (!this.running) return;
      if (needsMetadataRefresh(error)) await this.cluster.refreshMetadata().catch(() => undefined);
      if (!isRetriable(error)) this.onError(error instanceof Error ? error : new Error(String(error)));
      await sleep(100);
      return;
    }
    this.onFetchLatency(performance.now() - sentAt);
    if ((response.errorCode ?? 0) !== 0) {
      this.onError(new KafkaError(response.errorCode ?? 0, 'Fetch'));
      await sleep(100);
      return;
    }
    const index = new Map<string, number>();
    states.forEach((s, i) => index.set(`${s.topic}\0${s.partition}`, i));
    let got = false;
    let refresh = false;
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const i = index.get(`${t.topic}\0${p.partitionIndex}`);
        if (i === undefined) continue;
        const s = states[i];
        // Stale: the partition was sought, paused or revoked while this fetch was out.
        if (s.version !== versions[i] || s.fetchPosition !== positions[i]) continue;
        const fromReadReplica = this.preferredReadReplicas.get(s)?.nodeId === node;
        if (p.errorCode !== 0 && fromReadReplica) {
          // Kafka's consumer: any error from a preferred read replica (out of range on a lagging
          // follower included) sends the partition back to its leader, with no offset reset.
          this.preferredReadReplicas.delete(s);
          continue;
        }
        if ((p.preferredReadReplica ?? -1) >= 0 && p.preferredReadReplica !== node) {
          this.preferredReadReplicas.set(s, { nodeId: p.preferredReadReplica!, until: Date.now() + (this.options.preferredReadReplicaMaxAgeMs ?? 300_000) });
          continue;
        }
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          this.subscriptions.requestReset(s);
          this.onOutOfRange(s);
          continue;
        }
        if (p.errorCode !== 0) {
          const error = new KafkaError(p.errorCode, `${s.topic}-${s.partition}`);
          if (needsMetadataRefresh(error)) refresh = true;
          else if (!error.retriable) this.onError(error);
          continue;
        }
        s.highWatermark = p.highWatermark;
        if (p.divergingEpoch !== undefined && (p.divergingEpoch.epoch ?? -1) >= 0) {
          this.diverged(s, p.divergingEpoch.epoch!, p.divergingEpoch.endOffset ?? -1n);
          continue;
        }
        if (this.absorb(s, p, positions[i])) got = true;
      }
    }
    if (refresh) await this.cluster.refreshMetadata().catch(() => undefined);
    if (got) this.onRecords();
  }

  /**
   * The leader's log ends our last fetched epoch at `endOffset`, before our fetch position.
   * Records fetched ahead and not yet consumed are dropped and fetched again from the consumed
   * position (checked again against the leader). Records the application already consumed past
   * `endOffset` were truncated away by an unclean election: as Kafka's consumer does with a reset
   * policy, we go on from the first offset known to diverge, so the new leader's records there are
   * read (none lost) and none before it twice.
   */
  private diverged(s: PartitionState, epoch: number, endOffset: bigint): void {
    const consumed = this.deliveredPosition(s);
    if (consumed === null || endOffset < 0n) return;
    if (endOffset < consumed) {
      if (this.subscriptions.resetStrategy === 'none') {
        // Kafka's LogTruncationException: the application chooses where to go on (a seek).
        this.subscriptions.requestReset(s);
        this.onError(new LogTruncationError(s.topic, s.partition, consumed, endOffset));
        return;
      }
      this.onTruncation(s, consumed, endOffset);
      this.subscriptions.seek(s, { offset: endOffset, leaderEpoch: epoch });
    } else {
      // The leader's `epoch` covers the consumed position: the next fetch is checked against it.
      this.subscriptions.seek(s, { offset: consumed, leaderEpoch: epoch });
    }
  }

  /** Decodes a partition's records into its buffer; returns whether any were added. */
  private absorb(s: PartitionState, p: FetchResponsePartitionData, from: bigint): boolean {
    const data = p.records;
    if (data === null || data.length === 0) return false;
    const aborted = this.options.isolationLevel === 1 && p.abortedTransactions ? [...p.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
    const abortingProducers = new Set<bigint>();
    const records: KafkaRecord[] = [];
    const epochs: FetchedBatch['epochs'] = [];
    let lastEpoch = -1;
    let next = from;
    let bytes = 0;
    try {
      for (const batch of iterateRecordBatches(data)) {
        const h = batch.header;
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (last < from) continue;
        next = last + 1n;
        lastEpoch = h.partitionLeaderEpoch;
        bytes += batch.size;
        while (aborted.length > 0 && aborted[0].firstOffset <= last) abortingProducers.add(aborted.shift()!.producerId);
        if (batch.attributes.isControl) {
          // A commit or abort marker ends the producer's transaction either way.
          abortingProducers.delete(h.producerId);
          continue;
        }
        if (batch.attributes.isTransactional && abortingProducers.has(h.producerId)) continue;
        const before = records.length;
        for (const r of batch.records) if (r.offset >= from) records.push(r);
        if (records.length > before) epochs.push({ lastOffset: last, leaderEpoch: h.partitionLeaderEpoch });
      }
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    if (next === from) {
      // A single batch larger than the fetch limit: ask for more next time.
      return false;
    }
    this.subscriptions.fetched(s, next, lastEpoch);
    if (records.length === 0) return false;
    s.buffered.push({ state: s, version: s.version, records, index: 0, bytes, epochs, epochAt: 0 });
    s.bufferedBytes += bytes;
    return true;
  }
}
