/**
 * The consumer's side of its group coordinator, as Kafka's ConsumerCoordinator: offset commits and
 * OffsetFetch beside the group membership. A commit carries the generation and member id the
 * membership currently holds (asked through `generation()`, never read out of the group's fields)
 * and each offset's leader epoch (KIP-320); an error about the generation it was sent with asks
 * for a rejoin only if the member is still in that generation.
 */
import { ApiKey, ErrorCode, KafkaError } from '@sluice/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { groupBy } from '../admin/admin.js';
import type { TopicPartition } from './assignors.js';
import { groupTopicPartitions, tpKey, type GroupMembership } from './group.js';
import type { FetchPosition } from './subscription-state.js';

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (last processed + 1). */
  offset: bigint;
  /** Leader epoch of the last processed record (KIP-320); -1 or absent when unknown. */
  leaderEpoch?: number | null;
  metadata?: string | null;
}

export interface Generation {
  generationId: number;
  memberId: string;
}

/** What a member outside any generation (manual assignment, or not joined yet) commits with. */
export const NO_GENERATION: Readonly<Generation> = { generationId: -1, memberId: '' };

const REJOIN_ERRORS = new Set<number>([ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID]);

/** A commit refused because the group is rebalancing or the member's generation moved on: a rejoin is already asked for. */
export function isRebalanceError(error: unknown): boolean {
  return error instanceof KafkaError && REJOIN_ERRORS.has(error.code);
}

export class ConsumerCoordinator {
  readonly groupId: string;
  private readonly cluster: Cluster;
  private readonly groupInstanceId: string | null;
  private membership: GroupMembership | null = null;
  /** The offset last committed per partition, so auto-commit skips partitions that did not move. */
  private readonly lastCommitted = new Map<string, bigint>();

  constructor(cluster: Cluster, groupId: string, groupInstanceId: string | null) {
    this.cluster = cluster;
    this.groupId = groupId;
    this.groupInstanceId = groupInstanceId;
  }

  /** The membership whose generation commits carry (subscribe); none for a manual assignment. */
  attach(membership: GroupMembership): void {
    this.membership = membership;
  }

  get group(): GroupMembership | null {
    return this.membership;
  }

  generation(): Generation {
    return this.membership?.generation() ?? NO_GENERATION;
  }

  /** Whether `offset` is what was last committed for the partition. */
  isCommitted(tp: TopicPartition, offset: bigint): boolean {
    return this.lastCommitted.get(tpKey(tp)) === offset;
  }

  forget(tp: TopicPartition): void {
    this.lastCommitted.delete(tpKey(tp));
  }

  /** Commits the offsets; resolves when the coordinator stored them. */
  async commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    const groupId = this.groupId;
    let sent: Generation = NO_GENERATION;
    const response = await this.cluster.withRetry(async () => {
      const c = await this.cluster.coordinatorFor(groupId);
      sent = this.generation();
      const r = await c.request(ApiKey.OffsetCommit, {
        groupId,
        generationIdOrMemberEpoch: sent.generationId,
        memberId: sent.memberId,
        groupInstanceId: this.groupInstanceId,
        retentionTimeMs: -1n,
        topics: [...groupBy(offsets, (o) => o.topic)].map(([name, ps]) => ({
          name,
          partitions: ps.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch ?? -1, commitTimestamp: -1n, committedMetadata: o.metadata ?? null })),
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
        // Only when the error is about the generation we are still in: a rebalance that finished
        // while the commit was in flight already took care of it.
        if (REJOIN_ERRORS.has(p.errorCode) && this.membership !== null && this.membership.generation().generationId === sent.generationId) this.membership.requestRejoin();
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `commit ${t.name}-${p.partitionIndex}`);
      }
    for (const o of offsets) this.lastCommitted.set(tpKey(o), o.offset);
  }

  /** The group's committed positions for these partitions (with their leader epochs); absent when none. */
  async fetchCommitted(tps: TopicPartition[]): Promise<Map<string, FetchPosition>> {
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
    const out = new Map<string, FetchPosition>();
    for (const t of response.topics ?? [])
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
        const epoch = p.committedLeaderEpoch ?? -1;
        out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), { offset: p.committedOffset, leaderEpoch: epoch >= 0 ? epoch : null });
      }
    return out;
  }

  /** Records that `offset` is the group's committed offset (read at assignment). */
  noteCommitted(tp: TopicPartition, offset: bigint): void {
    this.lastCommitted.set(tpKey(tp), offset);
  }
}
