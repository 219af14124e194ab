/**
 * Consumer-group membership over the classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup).
 * Two independent loops: heartbeats on a timer, never waiting on the application, and the
 * rebalance task, which waits (up to the rebalance timeout = max.poll.interval.ms) for the
 * application to finish the record in hand, runs the revoke listener, rejoins, and runs the assign
 * listener. Eager assignors revoke everything before joining; cooperative ones revoke only what
 * moves and then rejoin once more so the partitions can be handed over.
 */
import type { ConsumerMetrics } from '../metrics.js';
import {
  ApiKey,
  ErrorCode,
  KafkaError,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '@sluice/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { sleep } from '../cluster/cluster.js';
import type { Connection } from '../connection/connection.js';
import { isRetriable } from '../errors.js';
import type { Assignor, MemberSubscription, TopicPartition } from './assignors.js';

/** What the consumer provides to its group membership. */
export interface GroupHost {
  subscribedTopics(): Promise<string[]>;
  owned(): TopicPartition[];
  /** Resolves when the application holds no record (or after `timeoutMs`). */
  waitUntilIdle(timeoutMs: number): Promise<void>;
  /** Ms the application has held the current record, 0 when idle. */
  processingForMs(): number;
  revoke(partitions: TopicPartition[], lost: boolean): Promise<void>;
  assign(partitions: TopicPartition[]): Promise<void>;
  onError(error: Error): void;
}

export interface GroupOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: Assignor[];
}

const SUBSCRIPTION_VERSION = 2;
const ASSIGNMENT_VERSION = 1;

const REJOIN_ERRORS = new Set<number>([ErrorCode.REBALANCE_IN_PROGRESS]);
const RESET_MEMBER_ERRORS = new Set<number>([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION, ErrorCode.FENCED_INSTANCE_ID]);
const COORDINATOR_ERRORS = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

export class GroupMembership {
  /** Set by the consumer: rebalances and heartbeats are counted there. */
  metrics: ConsumerMetrics | null = null;
  private readonly cluster: Cluster;
  private readonly options: GroupOptions;
  private readonly host: GroupHost;
  private memberId = '';
  private generationId = -1;
  protocolName: string | null = null;
  isLeader = false;
  private needsRejoin = true;
  private running = false;
  private rebalancing: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stableWaiters: Array<() => void> = [];
  private pollExpired = false;
  /** Number of completed rebalances (tests and diagnostics). */
  rebalances = 0;

  constructor(cluster: Cluster, options: GroupOptions, host: GroupHost) {
    this.cluster = cluster;
    this.options = options;
    this.host = host;
    if (options.assignors.length === 0) throw new RangeError('at least one assignor is required');
  }

  get protocol(): 'eager' | 'cooperative' {
    const a = this.options.assignors.find((x) => x.name === this.protocolName) ?? this.options.assignors[0];
    return a.protocol;
  }

  /** The generation and member id commits must carry (ConsumerCoordinator asks here). */
  generation(): { generationId: number; memberId: string } {
    return { generationId: this.generationId, memberId: this.memberId };
  }

  get isStable(): boolean {
    return !this.needsRejoin && this.rebalancing === null && this.generationId >= 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleHeartbeat(0);
    this.triggerRebalance();
  }

  /** Asks for a rebalance (subscription changed, coordinator asked). */
  requestRejoin(): void {
    this.needsRejoin = true;
    this.triggerRebalance();
  }

  /** Resolves once the member has an assignment and no rebalance is pending. */
  async waitStable(): Promise<void> {
    while (this.running && !this.isStable) await new Promise<void>((resolve) => this.stableWaiters.push(resolve));
  }

  /** Called when the application asks for the next record after holding one past max.poll.interval. */
  async onPollAfterExpiry(): Promise<void> {
    if (!this.pollExpired) return;
    this.pollExpired = false;
    await this.host.revoke(this.host.owned(), true);
    this.requestRejoin();
  }

  private notifyStable(): void {
    if (!this.isStable) return;
    const w = this.stableWaiters;
    this.stableWaiters = [];
    for (const f of w) f();
  }

  private triggerRebalance(): void {
    if (!this.running || this.rebalancing !== null || this.pollExpired) return;
    this.rebalancing = (async () => {
      try {
        while (this.running && this.needsRejoin) {
          try {
            await this.rebalance();
          } catch (error) {
            if (!this.running) break;
            if (!isRetriable(error) && !(error instanceof KafkaError && (RESET_MEMBER_ERRORS.has(error.code) || REJOIN_ERRORS.has(error.code)))) {
              this.host.onError(error instanceof Error ? error : new Error(String(error)));
            }
            await sleep(200);
          }
        }
      } finally {
        this.rebalancing = null;
        this.notifyStable();
      }
    })();
  }

  private async coordinator(): Promise<Connection> {
    return this.cluster.coordinatorFor(this.options.groupId);
  }

  private checkError(code: number, what: string): void {
    if (code === 0) return;
    if (COORDINATOR_ERRORS.has(code)) this.cluster.forgetCoordinator(this.options.groupId);
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.FENCED_INSTANCE_ID) {
      this.memberId = '';
      this.generationId = -1;
    }
    if (code === ErrorCode.ILLEGAL_GENERATION) this.generationId = -1;
    throw new KafkaError(code, `${what} (group ${this.options.groupId})`);
  }

  private async rebalance(): Promise<void> {
    await this.host.waitUntilIdle(this.options.rebalanceTimeoutMs);
    if (!this.running) return;
    const owned = this.host.owned();
    // Eager: give everything up before joining. A member whose generation is gone lost them.
    if (owned.length > 0 && (this.protocol === 'eager' || this.generationId < 0)) await this.host.revoke(owned, this.generationId < 0);
    this.needsRejoin = false;
    const topics = await this.host.subscribedTopics();
    const ownedNow = this.host.owned();
    const protocols = this.options.assignors.map((a) => ({
      name: a.name,
      metadata: encodeConsumerProtocolSubscription(
        {
          topics,
          userData: a.subscriptionUserData?.() ?? null,
          ownedPartitions: groupTopicPartitions(ownedNow).map(([topic, partitions]) => ({ topic, partitions })),
          generationId: this.generationId,
          rackId: null,
        },
        SUBSCRIPTION_VERSION,
      ),
    }));
    let join;
    this.metrics?.rebalanceStarted();
    for (;;) {
      const c = await this.coordinator();
      join = await c.request(
        ApiKey.JoinGroup,
        {
          groupId: this.options.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
          protocolType: 'consumer',
          protocols,
          reason: null,
        },
        { timeoutMs: this.options.rebalanceTimeoutMs + 10_000 },
      );
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode !== 0) this.needsRejoin = true;
      this.checkError(join.errorCode, 'JoinGroup');
      break;
    }
    this.memberId = join.memberId;
    this.generationId = join.generationId ?? -1;
    this.protocolName = join.protocolName;
    this.isLeader = join.leader === join.memberId;
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName) ?? this.options.assignors[0];
    let assignments: Array<{ memberId: string; assignment: Buffer }> = [];
    if (this.isLeader && !(join.skipAssignment ?? false)) assignments = await this.computeAssignments(assignor, join.members);
    const c = await this.coordinator();
    const sync = await c.request(
      ApiKey.SyncGroup,
      {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocolName: join.protocolName,
        assignments,
      },
      { timeoutMs: this.options.rebalanceTimeoutMs + 10_000 },
    );
    if (sync.errorCode !== 0) this.needsRejoin = true;
    this.checkError(sync.errorCode, 'SyncGroup');
    this.metrics?.rebalanceCompleted();
    const assigned: TopicPartition[] =
      sync.assignment.length === 0
        ? []
        : decodeConsumerProtocolAssignment(sync.assignment).value.assignedPartitions.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
    const assignedKeys = new Set(assigned.map(tpKey));
    const current = this.host.owned();
    const currentKeys = new Set(current.map(tpKey));
    const revoked = current.filter((tp) => !assignedKeys.has(tpKey(tp)));
    const added = assigned.filter((tp) => !currentKeys.has(tpKey(tp)));
    if (revoked.length > 0) {
      await this.host.revoke(revoked, false);
      // Cooperative: the partitions we gave up go to their new owner in a follow-up round.
      if (assignor.protocol === 'cooperative') this.needsRejoin = true;
    }
    await this.host.assign(added);
    this.rebalances++;
  }

  private async computeAssignments(assignor: Assignor, members: Array<{ memberId: string; groupInstanceId?: string | null; metadata: Buffer }>): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const subscriptions: MemberSubscription[] = members.map((m) => {
      const { value } = decodeConsumerProtocolSubscription(m.metadata);
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? null,
        topics: value.topics,
        owned: (value.ownedPartitions ?? []).flatMap((o) => o.partitions.map((partition) => ({ topic: o.topic, partition }))),
        generation: value.generationId ?? -1,
        userData: value.userData ?? null,
      };
    });
    const allTopics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    await this.cluster.refreshMetadata({ extra: allTopics });
    const partitionsPerTopic = new Map<string, number>();
    for (const t of allTopics) {
      const n = this.cluster.partitionCount(t);
      if (n > 0) partitionsPerTopic.set(t, n);
    }
    const result = assignor.assign(subscriptions, partitionsPerTopic);
    return subscriptions.map((s) => ({
      memberId: s.memberId,
      assignment: encodeConsumerProtocolAssignment(
        { assignedPartitions: groupTopicPartitions(result.get(s.memberId) ?? []).map(([topic, partitions]) => ({ topic, partitions })), userData: null },
        ASSIGNMENT_VERSION,
      ),
    }));
  }

  private scheduleHeartbeat(delay: number): void {
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delay);
  }

  private async heartbeat(): Promise<void> {
    this.heartbeatTimer = null;
    if (!this.running) return;
    try {
      if (this.host.processingForMs() > this.options.rebalanceTimeoutMs && this.generationId >= 0 && !this.pollExpired) {
        // max.poll.interval.ms exceeded: leave so the group can move on without us.
        this.pollExpired = true;
        await this.leave('consumer poll timeout expired');
      } else if (this.generationId >= 0 && this.rebalancing === null && !this.pollExpired) {
        const c = await this.coordinator();
        const sentGeneration = this.generationId;
        const sentMemberId = this.memberId;
        const r = await c.request(ApiKey.Heartbeat, {
          groupId: this.options.groupId,
          generationId: sentGeneration,
          memberId: sentMemberId,
          groupInstanceId: this.options.groupInstanceId,
        });
        // A rebalance may have completed while this heartbeat was in flight: its error speaks of
        // the generation it carried, and must not undo a newer one (as the Java client checks).
        const stale = this.generationId !== sentGeneration || this.memberId !== sentMemberId;
        if (r.errorCode === 0) this.metrics?.heartbeat();
        if (stale) {
          // Nothing to do: the newer generation's own heartbeats will report its state.
        } else if (REJOIN_ERRORS.has(r.errorCode)) this.requestRejoin();
        else if (RESET_MEMBER_ERRORS.has(r.errorCode)) {
          if (r.errorCode !== ErrorCode.ILLEGAL_GENERATION) this.memberId = '';
          this.generationId = -1;
          this.requestRejoin();
        } else if (COORDINATOR_ERRORS.has(r.errorCode)) this.cluster.forgetCoordinator(this.options.groupId);
        else if (r.errorCode !== 0) this.host.onError(new KafkaError(r.errorCode, 'Heartbeat'));
      } else if (this.rebalancing !== null && this.generationId >= 0) {
        // Keep the session alive while we wait for the application to reach a safe point.
        const c = await this.coordinator();
        await c.request(ApiKey.Heartbeat, {
          groupId: this.options.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
        });
      }
    } catch (error) {
      if (!isRetriable(error)) this.host.onError(error instanceof Error ? error : new Error(String(error)));
    }
    this.scheduleHeartbeat(this.options.heartbeatIntervalMs);
  }

  /** Leaves the group (dynamic members only: a static member keeps its place until its session ends). */
  async leave(reason: string): Promise<void> {
    const memberId = this.memberId;
    this.generationId = -1;
    if (memberId === '' || this.options.groupInstanceId !== null) return;
    this.memberId = '';
    try {
      const c = await this.coordinator();
      if (c.versionOf(ApiKey.LeaveGroup) >= 3) {
        await c.request(ApiKey.LeaveGroup, { groupId: this.options.groupId, members: [{ memberId, groupInstanceId: null, reason }] });
      } else {
        await c.request(ApiKey.LeaveGroup, { groupId: this.options.groupId, memberId });
      }
    } catch {
      // The session timeout removes us anyway.
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const pending = this.rebalancing;
    if (pending) await pending.catch(() => undefined);
    const w = this.stableWaiters;
    this.stableWaiters = [];
    for (const f of w) f();
  }
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\0${tp.partition}`;
}

export function groupTopicPartitions(tps: TopicPartition[]): Array<[string, number[]]> {
  const m = new Map<string, number[]>();
  for (const tp of tps) (m.get(tp.topic) ?? m.set(tp.topic, []).get(tp.topic)!).push(tp.partition);
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([t, ps]) => [t, ps.sort((a, b) => a - b)]);
}
