/**
 * One classic consumer group's in-memory membership: its members, generation, chosen protocol and
 * the static-membership table. The rules that move it between states live in GroupMetadataManager,
 * its committed offsets in OffsetStore, its timers in the shard's Timer; this file keeps the
 * bookkeeping that does not depend on time or I/O.
 */
import { ErrorCode, Reader, readConsumerProtocolSubscription } from '@sluice/protocol';
import type { GroupMetadataValue } from './records.js';

/** Kafka's classic group states, with their wire names. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface ProtocolMetadata {
  name: string;
  metadata: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class Member {
  assignment: Buffer = EMPTY;
  /** Set while a JoinGroup waits for the rebalance to complete. */
  awaitingJoin: ((result: JoinResult) => void) | null = null;
  /** Set while a SyncGroup waits for the leader's assignment. */
  awaitingSync: ((result: SyncResult) => void) | null = null;
  /** JoinGroup version of the last join (v9+ understands skipAssignment). */
  joinVersion = 0;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public protocols: ProtocolMetadata[],
  ) {}

  /** Answers the parked JoinGroup, if any. */
  answerJoin(result: JoinResult): void {
    const respond = this.awaitingJoin;
    this.awaitingJoin = null;
    respond?.(result);
  }

  /** Answers the parked SyncGroup, if any. */
  answerSync(result: SyncResult): void {
    const respond = this.awaitingSync;
    this.awaitingSync = null;
    respond?.(result);
  }

  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** True when `protocols` are exactly the ones this member joined with (same order and bytes). */
  sameProtocols(protocols: ProtocolMetadata[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i].name && p.metadata.equals(this.protocols[i].metadata))
    );
  }
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** group.instance.id → the member id currently holding it. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member to join with them. */
  readonly pendingMembers = new Set<string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** When the group last changed state (ms), as GroupMetadataValue's currentStateTimestamp. */
  currentStateTimestamp: number | null = null;
  /** Set when a member joins during the initial delayed rebalance, which then waits longer. */
  newMemberAdded = false;
  /** Remaining extension of the initial delayed join; null when the running join is a normal one. */
  initialJoinRemainingMs: number | null = null;

  constructor(readonly groupId: string) {}

  is(...states: GroupState[]): boolean {
    return states.includes(this.state);
  }

  transitionTo(state: GroupState, now: number): void {
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get isEmptyOfMembers(): boolean {
    return this.members.size === 0;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** A static member presenting a member id other than the one holding its instance id. */
  isStaticMemberFenced(groupInstanceId: string | null | undefined, memberId: string): boolean {
    if (!groupInstanceId) return false;
    const holder = this.staticMembers.get(groupInstanceId);
    return holder !== undefined && holder !== memberId;
  }

  addMember(member: Member): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.leaderId ??= member.memberId;
  }

  removeMember(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.pendingSync.delete(memberId);
    if (member.groupInstanceId && this.staticMembers.get(member.groupInstanceId) === memberId) this.staticMembers.delete(member.groupInstanceId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /** Moves a static member to a new member id (a restarted instance); the old id is fenced. */
  replaceStaticMember(groupInstanceId: string, newMemberId: string): Member {
    const oldMemberId = this.staticMembers.get(groupInstanceId)!;
    const member = this.members.get(oldMemberId)!;
    this.members.delete(oldMemberId);
    this.pendingSync.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    return member;
  }

  /** Protocols every member supports. */
  private candidateProtocols(): string[] {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    return [...counts].filter(([, n]) => n === this.members.size).map(([name]) => name);
  }

  /** Whether a member with this protocol type and these protocols may join. */
  supportsProtocols(protocolType: string, protocols: string[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    const candidates = new Set(this.candidateProtocols());
    return this.protocolType === protocolType && protocols.some((p) => candidates.has(p));
  }

  /**
   * Kafka's vote: among the protocols every member supports, each member votes for the first of
   * them in its own preference order; most votes wins (ties go to the leader's preference).
   */
  selectProtocol(): string {
    const candidates = new Set(this.candidateProtocols());
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.has(p.name))?.name;
      if (vote !== undefined) votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    const leader = this.leaderId ? this.members.get(this.leaderId) : undefined;
    const order = (leader ?? this.members.values().next().value!).protocols.map((p) => p.name).filter((n) => candidates.has(n));
    let best = order[0];
    for (const name of order) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /**
   * Topics the members subscribe to, from their consumer-protocol metadata; null when that is not
   * known (not a "consumer" group, or metadata that does not parse), meaning "assume all".
   */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer') return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const metadata = m.metadataFor(this.protocolName ?? m.protocols[0]?.name ?? null);
      try {
        const r = new Reader(metadata);
        const version = r.int16();
        for (const t of readConsumerProtocolSubscription(r, Math.min(version, 3)).topics) topics.add(t);
      } catch {
        return null;
      }
    }
    return topics;
  }

  /** Rebuilds the group from its last GroupMetadataValue in the log (load). */
  restore(value: GroupMetadataValue): void {
    this.protocolType = value.protocolType === '' ? null : value.protocolType;
    this.generationId = value.generation;
    this.protocolName = value.protocol;
    this.currentStateTimestamp = value.currentStateTimestamp >= 0n ? Number(value.currentStateTimestamp) : null;
    for (const m of value.members) {
      const member = new Member(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, m.rebalanceTimeout, m.sessionTimeout, value.protocolType, [
        { name: value.protocol ?? '', metadata: m.subscription },
      ]);
      member.assignment = m.assignment;
      this.addMember(member);
    }
    this.leaderId = value.leader && this.members.has(value.leader) ? value.leader : (this.members.keys().next().value ?? null);
    this.state = this.members.size > 0 ? 'Stable' : 'Empty';
  }

  /** The GroupMetadataValue to store (with `assignments` when given, else the current ones). */
  toMetadataValue(now: number, assignments?: Map<string, Buffer>): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(this.currentStateTimestamp ?? now),
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadataFor(this.protocolName),
        assignment: assignments ? (assignments.get(m.memberId) ?? EMPTY) : m.assignment,
      })),
    };
  }

  /** The JoinGroup answer of the current generation; the leader gets every member's metadata. */
  joinResultFor(member: Member, includeMembersForLeader = true): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: this.isLeader(member.memberId) && includeMembersForLeader ? this.memberList() : [],
    };
  }

  /** Every member with its metadata for the chosen protocol (the leader's JoinGroup answer). */
  memberList(): JoinResult['members'] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(this.protocolName) }));
  }

  /** DescribeGroups: protocol, metadata and assignments only once Stable, as Kafka does. */
  describe(): { groupId: string; state: string; protocolType: string; protocolData: string; members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[] } {
    const stable = this.is('Stable');
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolData: stable ? (this.protocolName ?? '') : '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(this.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }
}
