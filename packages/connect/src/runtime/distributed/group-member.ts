/**
 * A distributed worker's membership in its Connect group: JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup with protocol type `connect` and the incremental cooperative `compatible` protocol:
 * work keeps running through a rebalance; only what the leader revokes stops, and a worker that
 * gave something up rejoins so it can be handed to its new owner.
 */
import { ApiKey, ErrorCode, KafkaError } from '@sluice/protocol';
import type { Cluster } from '@sluice/client';
import { CONNECT_PROTOCOL_NAME, decodeAssignment, decodeMetadata, encodeAssignment, encodeMetadata, type ConnectAssignment, type WorkerMetadata } from './connect-protocol.js';

const REJOIN = new Set<number>([ErrorCode.REBALANCE_IN_PROGRESS]);
const RESET = new Set<number>([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION, ErrorCode.FENCED_INSTANCE_ID]);
const COORDINATOR = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

export interface GroupHost {
  metadata(): WorkerMetadata;
  /** Leader only: the assignment for every member. */
  assign(leaderId: string, members: Array<{ memberId: string; metadata: WorkerMetadata }>): Promise<Map<string, ConnectAssignment>>;
  /** Stop what was revoked, start what was assigned. */
  assigned(assignment: ConnectAssignment, memberId: string, generation: number): Promise<void>;
  log(line: string): void;
}

export interface GroupMemberOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export class ConnectGroupMember {
  memberId = '';
  generation = -1;
  private running = false;
  private needsRejoin = true;
  private wake: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly cluster: Cluster, private readonly options: GroupMemberOptions, private readonly host: GroupHost) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
    this.scheduleHeartbeat();
  }

  requestRejoin(): void {
    this.needsRejoin = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.needsRejoin) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = null;
        continue;
      }
      try {
        this.needsRejoin = false;
        await this.joinAndSync();
      } catch (err) {
        this.needsRejoin = true;
        if (!this.running) break;
        this.host.log(`Connect group rebalance failed, retrying: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async joinAndSync(): Promise<void> {
    let join;
    for (;;) {
      const c = await this.cluster.coordinatorFor(this.options.groupId);
      join = await c.request(ApiKey.JoinGroup, {
        groupId: this.options.groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'connect',
        protocols: [{ name: CONNECT_PROTOCOL_NAME, metadata: encodeMetadata(this.host.metadata()) }],
        reason: null,
      }, { timeoutMs: this.options.rebalanceTimeoutMs + 10_000 });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      this.check(join.errorCode, 'JoinGroup');
      break;
    }
    this.memberId = join.memberId;
    this.generation = join.generationId ?? -1;
    let assignments: Array<{ memberId: string; assignment: Buffer }> = [];
    if (join.leader === join.memberId) {
      const members = join.members.map((m: { memberId: string; metadata: Buffer }) => ({ memberId: m.memberId, metadata: decodeMetadata(m.metadata) }));
      const plan = await this.host.assign(join.memberId, members);
      assignments = [...plan].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
    }
    const c = await this.cluster.coordinatorFor(this.options.groupId);
    const sync = await c.request(ApiKey.SyncGroup, {
      groupId: this.options.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'connect',
      protocolName: CONNECT_PROTOCOL_NAME,
      assignments,
    }, { timeoutMs: this.options.rebalanceTimeoutMs + 10_000 });
    this.check(sync.errorCode, 'SyncGroup');
    const assignment = decodeAssignment(sync.assignment);
    await this.host.assigned(assignment, this.memberId, this.generation);
    if (assignment.revoked.size > 0) this.needsRejoin = true; // follow-up round hands them over
    if (assignment.scheduledDelayMs > 0) {
      const generation = this.generation;
      setTimeout(() => { if (this.running && this.generation === generation) this.requestRejoin(); }, assignment.scheduledDelayMs).unref();
    }
  }

  private check(code: number, what: string): void {
    if (code === 0) return;
    if (COORDINATOR.has(code)) this.cluster.forgetCoordinator(this.options.groupId);
    if (RESET.has(code)) {
      if (code !== ErrorCode.ILLEGAL_GENERATION) this.memberId = '';
      this.generation = -1;
    }
    throw new KafkaError(code, `${what} (group ${this.options.groupId})`);
  }

  private scheduleHeartbeat(): void {
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat().finally(() => this.scheduleHeartbeat()), this.options.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    if (this.generation < 0 || this.needsRejoin) return;
    try {
      const c = await this.cluster.coordinatorFor(this.options.groupId);
      const sent = this.generation;
      const r = await c.request(ApiKey.Heartbeat, { groupId: this.options.groupId, generationId: sent, memberId: this.memberId, groupInstanceId: null });
      if (sent !== this.generation) return;
      if (REJOIN.has(r.errorCode)) this.requestRejoin();
      else if (RESET.has(r.errorCode)) {
        if (r.errorCode !== ErrorCode.ILLEGAL_GENERATION) this.memberId = '';
        this.generation = -1;
        this.requestRejoin();
      } else if (COORDINATOR.has(r.errorCode)) this.cluster.forgetCoordinator(this.options.groupId);
    } catch {
      // the next heartbeat tries again; the session timeout decides
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.wake?.();
    if (this.memberId) {
      try {
        const c = await this.cluster.coordinatorFor(this.options.groupId);
        if (c.versionOf(ApiKey.LeaveGroup) >= 3) await c.request(ApiKey.LeaveGroup, { groupId: this.options.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'worker stopping' }] });
        else await c.request(ApiKey.LeaveGroup, { groupId: this.options.groupId, memberId: this.memberId });
      } catch {
        // the session timeout removes us anyway
      }
    }
    await this.loop;
  }
}
