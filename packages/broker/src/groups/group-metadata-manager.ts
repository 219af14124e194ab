/**
 * Kafka's classic group membership state machine (GroupMetadataManager) for the groups of one
 * __consumer_offsets partition: JoinGroup, SyncGroup, Heartbeat and LeaveGroup with session and
 * rebalance timeouts, the initial rebalance delay, MEMBER_ID_REQUIRED and static membership;
 * Empty → PreparingRebalance → CompletingRebalance → Stable (→ Dead). Assignment stays with the
 * clients: the coordinator elects a leader, hands it every member's subscription and passes the
 * leader's assignment on, so eager and cooperative assignors both work.
 *
 * Time comes from the shard's Timer, and every timeout is a keyed timer there (session of a
 * member, join and sync phases of a group, a pending member id) rather than a handle on the data.
 * A generation is written to the partition (and committed) before any member is told of it.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@sluice/protocol';
import type { ShardContext } from '../coordinator/runtime.js';
import type { Timer } from '../coordinator/timer.js';
import type { Logger } from '../logger.js';
import { Group, Member, type JoinResult, type SyncResult } from './group.js';
import { encodeGroupMetadataKey, encodeGroupMetadataValue } from './records.js';
import {
  joinError,
  syncError,
  writeErrorCode,
  type GroupCoordinatorEnvironment,
  type JoinRequest,
  type LeaveResult,
  type MemberIdentity,
  type OffsetCommitRequest,
  type SyncRequest,
} from './requests.js';

const EMPTY = Buffer.alloc(0);

/** A timer's key: what it waits for, for which group (and member); NUL-separated so no two ids collide. */
function timerKey(kind: 'session' | 'pending' | 'join' | 'sync', groupId: string, memberId = ''): string {
  return `${kind}\u0000${groupId}\u0000${memberId}`;
}

export class GroupMetadataManager {
  readonly groups = new Map<string, Group>();
  private readonly timer: Timer;
  private readonly log: Logger;

  constructor(
    private readonly context: ShardContext,
    private readonly env: GroupCoordinatorEnvironment,
  ) {
    this.timer = context.timer;
    this.log = env.log;
  }

  private int(key: string): number {
    return this.env.config.int(key);
  }

  // ------------------------------------------------------------------ load and unload

  /** Starts a full session for every member restored from the log: it gets that long to heartbeat. */
  onLoaded(): void {
    for (const group of this.groups.values()) for (const member of group.members.values()) this.heartbeat(group, member);
  }

  /** Unloading (resigned or stopping): the timers are gone; parked requests learn NOT_COORDINATOR. */
  onUnloaded(): void {
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        member.answerJoin(joinError(ErrorCode.NOT_COORDINATOR, member.memberId));
        member.answerSync(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  // ------------------------------------------------------------------ timers

  /** Restarts the member's session timer (a heartbeat, or any request that proves it alive). */
  private heartbeat(group: Group, member: Member): void {
    this.timer.schedule(timerKey('session', group.groupId, member.memberId), member.sessionTimeoutMs, () => this.onSessionExpired(group, member));
  }

  private onSessionExpired(group: Group, member: Member): void {
    if (group.members.get(member.memberId) !== member) return;
    // A member parked in JoinGroup or SyncGroup cannot heartbeat; the rebalance timeouts bound it.
    if (member.awaitingJoin || member.awaitingSync) return this.heartbeat(group, member);
    this.log.info(`group ${group.groupId}: member ${member.memberId} removed after its session timeout of ${member.sessionTimeoutMs} ms`);
    this.removeMemberAndUpdateGroup(group, member);
  }

  // ------------------------------------------------------------------ JoinGroup

  join(request: JoinRequest): Promise<JoinResult> {
    const { groupId, memberId, groupInstanceId } = request;
    if (groupId === '') return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, memberId));
    if (request.sessionTimeoutMs < this.int('group.min.session.timeout.ms') || request.sessionTimeoutMs > this.int('group.max.session.timeout.ms')) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, memberId));
    }
    let group = this.groups.get(groupId);
    if (!group) {
      if (memberId !== '') return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    if (group.is('Dead')) return Promise.resolve(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    const protocolNames = request.protocols.map((p) => p.name);

    const answer = new Promise<JoinResult>((respond) => {
      const g = group;
      if (memberId === '') {
        if (!g.supportsProtocols(request.protocolType, protocolNames)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
        const newMemberId = `${groupInstanceId ?? request.clientId}-${randomUUID()}`;
        // A restarted static member takes its old slot, so it does not count against the limit.
        if (groupInstanceId && g.staticMembers.has(groupInstanceId)) return this.updateStaticMemberAndRebalance(g, newMemberId, request, respond);
        if (g.members.size + g.pendingMembers.size >= this.int('group.max.size')) return respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED));
        if (groupInstanceId) return this.addMemberAndRebalance(g, newMemberId, request, respond);
        if (request.apiVersion >= 4) {
          // KIP-394: the member must come back with this id, so a client that never received the
          // response does not leave a phantom member behind.
          g.pendingMembers.add(newMemberId);
          this.timer.schedule(timerKey('pending', groupId, newMemberId), request.sessionTimeoutMs, () => {
            g.pendingMembers.delete(newMemberId);
            if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
          });
          return respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
        }
        return this.addMemberAndRebalance(g, newMemberId, request, respond);
      }

      if (g.pendingMembers.has(memberId)) {
        if (!g.supportsProtocols(request.protocolType, protocolNames)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
        this.timer.cancel(timerKey('pending', groupId, memberId));
        g.pendingMembers.delete(memberId);
        return this.addMemberAndRebalance(g, memberId, request, respond);
      }
      if (g.isStaticMemberFenced(groupInstanceId, memberId)) return respond(joinError(ErrorCode.FENCED_INSTANCE_ID, memberId));
      const member = g.members.get(memberId);
      if (!member) return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      if (!g.supportsProtocols(request.protocolType, protocolNames)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
      member.joinVersion = request.apiVersion;
      member.clientId = request.clientId;
      member.clientHost = request.clientHost;
      switch (g.state) {
        case 'PreparingRebalance':
          return this.updateMemberAndRebalance(g, member, request, respond);
        case 'CompletingRebalance':
          // A repeated join (the response was lost): answer it again unless the member changed.
          if (member.sameProtocols(request.protocols)) {
            this.heartbeat(g, member);
            return respond(g.joinResultFor(member));
          }
          return this.updateMemberAndRebalance(g, member, request, respond);
        case 'Stable':
          // The leader rejoining asks for a new assignment (e.g. topic metadata changed).
          if (g.isLeader(memberId) || !member.sameProtocols(request.protocols)) return this.updateMemberAndRebalance(g, member, request, respond);
          this.heartbeat(g, member);
          return respond(g.joinResultFor(member, false));
        default:
          return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      }
    });
    // As Kafka's handleJoinGroup: any JoinGroup (a new member's included) may be the last one the
    // rebalance waits for, so every one is followed by the completion check.
    this.tryCompleteJoin(group);
    return answer;
  }

  private addMemberAndRebalance(group: Group, memberId: string, request: JoinRequest, respond: (r: JoinResult) => void): void {
    const member = new Member(
      memberId,
      request.groupInstanceId,
      request.clientId,
      request.clientHost,
      request.rebalanceTimeoutMs,
      request.sessionTimeoutMs,
      request.protocolType,
      request.protocols,
    );
    member.joinVersion = request.apiVersion;
    member.awaitingJoin = respond;
    group.addMember(member);
    // More members arriving during the first rebalance of a new group extend its initial delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
  }

  private updateMemberAndRebalance(group: Group, member: Member, request: JoinRequest, respond: (r: JoinResult) => void): void {
    member.protocols = request.protocols;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    // A join repeated while the first is still parked: the newer request gets the answer.
    member.answerJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    member.awaitingJoin = respond;
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
  }

  /** A static member restarted (joined with its instance id and no member id): take over its slot. */
  private updateStaticMemberAndRebalance(group: Group, newMemberId: string, request: JoinRequest, respond: (r: JoinResult) => void): void {
    const instanceId = request.groupInstanceId!;
    const previousLeader = group.leaderId;
    const oldMemberId = group.staticMembers.get(instanceId)!;
    const old = group.members.get(oldMemberId)!;
    // The old incarnation is fenced: whatever it still has parked learns so.
    old.answerJoin(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    old.answerSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const oldProtocols = old.protocols;
    this.timer.cancel(timerKey('session', group.groupId, oldMemberId));
    const member = group.replaceStaticMember(instanceId, newMemberId);
    member.joinVersion = request.apiVersion;
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.protocols = request.protocols;
    this.heartbeat(group, member);
    this.log.info(`group ${group.groupId}: static member ${instanceId} replaced ${oldMemberId} with ${newMemberId}`);
    if (group.is('Stable')) {
      // v9+ leaders are told to skip the assignment; older ones get the previous leader id and so
      // sync as followers. Either way the group keeps its generation and assignment.
      const isLeader = group.isLeader(newMemberId);
      const previousMetadata = oldProtocols.find((p) => p.name === group.protocolName)?.metadata;
      const unchanged = group.selectProtocol() === group.protocolName && previousMetadata !== undefined && member.metadataFor(group.protocolName).equals(previousMetadata);
      if (unchanged) {
        // Nothing the assignment depends on changed: keep the generation, record the new id.
        this.storeGroup(group).then(
          () =>
            respond({
              errorCode: ErrorCode.NONE,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              // The previous leader id: a restarted leader on v<9 then syncs as a follower.
              leader: isLeader && request.apiVersion >= 9 ? newMemberId : (previousLeader ?? ''),
              memberId: newMemberId,
              skipAssignment: isLeader && request.apiVersion >= 9,
              members: isLeader && request.apiVersion >= 9 ? group.memberList() : [],
            }),
          (err: unknown) => respond(joinError(writeErrorCode(err, group.groupId, this.log), newMemberId)),
        );
        return;
      }
    }
    member.awaitingJoin = respond;
    this.maybePrepareRebalance(group, `static member ${instanceId} rejoined`);
  }

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.is('Stable', 'CompletingRebalance', 'Empty')) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is('CompletingRebalance')) {
      // The generation being synced is abandoned: members waiting for it must rejoin.
      for (const m of group.members.values()) {
        m.assignment = EMPTY;
        m.answerSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    this.timer.cancel(timerKey('sync', group.groupId));
    group.pendingSync.clear();
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.timer.now());
    this.env.events?.rebalanceStarted(group.groupId);
    this.log.info(`group ${group.groupId}: preparing to rebalance (generation ${group.generationId}, ${reason})`);
    const rebalanceTimeout = group.maxRebalanceTimeoutMs();
    if (wasEmpty) {
      const delay = this.int('group.initial.rebalance.delay.ms');
      group.newMemberAdded = false;
      group.initialJoinRemainingMs = Math.max(rebalanceTimeout - delay, 0);
      this.timer.schedule(timerKey('join', group.groupId), delay, () => this.onInitialJoinDelay(group));
    } else {
      group.initialJoinRemainingMs = null;
      this.timer.schedule(timerKey('join', group.groupId), rebalanceTimeout, () => this.completeJoin(group));
      this.tryCompleteJoin(group);
    }
  }

  private onInitialJoinDelay(group: Group): void {
    const remaining = group.initialJoinRemainingMs ?? 0;
    if (group.newMemberAdded && remaining > 0) {
      const delay = Math.min(this.int('group.initial.rebalance.delay.ms'), remaining);
      group.newMemberAdded = false;
      group.initialJoinRemainingMs = Math.max(remaining - delay, 0);
      this.timer.schedule(timerKey('join', group.groupId), delay, () => this.onInitialJoinDelay(group));
      return;
    }
    this.completeJoin(group);
  }

  /**
   * Completes the join phase early once every member has rejoined and no MEMBER_ID_REQUIRED member
   * is still to come (not during the initial delay).
   */
  private tryCompleteJoin(group: Group): void {
    if (group.is('PreparingRebalance') && group.initialJoinRemainingMs === null && group.allMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    this.timer.cancel(timerKey('join', group.groupId));
    group.initialJoinRemainingMs = null;
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin) continue;
      this.log.info(`group ${group.groupId}: member ${member.memberId} removed: it did not rejoin within the rebalance timeout`);
      this.removeMember(group, member);
    }
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo('Empty', this.timer.now());
      this.log.info(`group ${group.groupId}: generation ${group.generationId} with no members; group is empty`);
      this.storeGroup(group).catch((err: unknown) => this.log.warn(`group ${group.groupId}: storing the empty group failed: ${(err as Error).message}`));
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo('CompletingRebalance', this.timer.now());
    this.log.info(
      `group ${group.groupId}: generation ${group.generationId} (protocol ${group.protocolName}) with ${group.members.size} member(s), leader ${group.leaderId}`,
    );
    for (const member of group.members.values()) {
      group.pendingSync.add(member.memberId);
      member.answerJoin(group.joinResultFor(member));
      this.heartbeat(group, member);
    }
    // Members that never send SyncGroup are removed after the rebalance timeout (KIP-814 style).
    const generation = group.generationId;
    this.timer.schedule(timerKey('sync', group.groupId), group.maxRebalanceTimeoutMs(), () => this.onSyncTimeout(group, generation));
  }

  private onSyncTimeout(group: Group, generation: number): void {
    if (group.generationId !== generation || !group.is('CompletingRebalance', 'Stable') || group.pendingSync.size === 0) return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.members.get(memberId);
      if (!member) continue;
      this.log.info(`group ${group.groupId}: member ${memberId} removed: no SyncGroup within the rebalance timeout`);
      this.removeMemberAndUpdateGroup(group, member);
    }
  }

  /** Takes the member out (answering whatever it has parked) without moving the group. */
  private removeMember(group: Group, member: Member): void {
    this.timer.cancel(timerKey('session', group.groupId, member.memberId));
    group.removeMember(member.memberId);
    member.answerJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    member.answerSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member): void {
    this.removeMember(group, member);
    if (group.is('Stable', 'CompletingRebalance')) this.prepareRebalance(group, `member ${member.memberId} left`);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // ------------------------------------------------------------------ SyncGroup

  sync(request: SyncRequest): Promise<SyncResult> {
    const group = this.groups.get(request.groupId);
    if (request.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(request.groupInstanceId, request.memberId)) return Promise.resolve(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(request.memberId);
    if (!member) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (request.generationId !== group.generationId) return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        group.pendingSync.delete(member.memberId);
        this.heartbeat(group, member);
        return Promise.resolve(this.syncResultFor(group, member));
      case 'CompletingRebalance':
        break;
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    return new Promise<SyncResult>((respond) => {
      member.answerSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingSync = respond;
      group.pendingSync.delete(member.memberId);
      this.heartbeat(group, member);
      if (!group.isLeader(member.memberId)) return;
      const assignments = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
      const generation = group.generationId;
      // Persist the generation with its assignment before anyone is told it.
      this.storeGroup(group, assignments).then(
        () => {
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
          group.transitionTo('Stable', this.timer.now());
          this.env.events?.rebalanceCompleted(group.groupId);
          this.log.info(`group ${group.groupId}: generation ${generation} is stable`);
          for (const m of group.members.values()) m.answerSync(this.syncResultFor(group, m));
        },
        (err: unknown) => {
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          const code = writeErrorCode(err, group.groupId, this.log);
          for (const m of group.members.values()) {
            m.assignment = EMPTY;
            m.answerSync(syncError(code));
          }
          this.prepareRebalance(group, 'storing the assignment failed');
        },
      );
    });
  }

  private syncResultFor(group: Group, member: Member): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  // ------------------------------------------------------------------ Heartbeat and LeaveGroup

  heartbeatRequest(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.heartbeat(group, member);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** LeaveGroup: a group-level error code, and one per member. */
  leave(groupId: string, members: MemberIdentity[]): LeaveResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = members.map((identity) => ({ ...identity, errorCode: this.leaveOne(group, identity) }));
    return { errorCode: ErrorCode.NONE, members: results };
  }

  private leaveOne(group: Group, { memberId, groupInstanceId }: MemberIdentity): number {
    if (groupInstanceId) {
      const holder = group.staticMembers.get(groupInstanceId);
      if (holder === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (memberId !== '' && holder !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      this.log.info(`group ${group.groupId}: static member ${groupInstanceId} (${holder}) left`);
      this.removeMemberAndUpdateGroup(group, group.members.get(holder)!);
      return ErrorCode.NONE;
    }
    if (group.pendingMembers.has(memberId)) {
      this.timer.cancel(timerKey('pending', group.groupId, memberId));
      group.pendingMembers.delete(memberId);
      if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.log.info(`group ${group.groupId}: member ${memberId} left`);
    this.removeMemberAndUpdateGroup(group, member);
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------------ for the offset store

  /**
   * Whether the commit's member and generation may commit to the group (a live member proves it is
   * alive, as a heartbeat would). Only "simple" commits (no generation) may create a group.
   */
  validateOffsetCommit(request: OffsetCommitRequest, transactional = false): number {
    const group = this.groups.get(request.groupId);
    if (!group) return request.generationId >= 0 ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(request.groupInstanceId, request.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (transactional) {
      // Kafka: TxnOffsetCommit before v3 names no member, and then none is checked; one that
      // does is checked as a member of this generation (no heartbeat, no rebalance check).
      if (request.generationId < 0 && request.memberId === '' && request.groupInstanceId === null) return ErrorCode.NONE;
      if (!group.members.has(request.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      return request.generationId !== group.generationId ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    }
    if (request.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(request.memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.heartbeat(group, member);
    return ErrorCode.NONE;
  }

  /** The group a stored commit belongs to, created when absent or raced with its deletion (as in Kafka). */
  groupForCommit(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group || group.is('Dead')) this.groups.set(groupId, (group = new Group(groupId)));
    return group;
  }

  /** Removes a deleted (Dead) group unless it was replaced meanwhile. */
  removeGroup(group: Group): void {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  // ------------------------------------------------------------------ persistence

  /** Appends the group's GroupMetadataValue (with `assignments` when given, else the current ones). */
  storeGroup(group: Group, assignments?: Map<string, Buffer>): Promise<void> {
    const value = encodeGroupMetadataValue(group.toMetadataValue(this.timer.now(), assignments));
    return this.context.write([{ key: encodeGroupMetadataKey(group.groupId), value }]);
  }
}
