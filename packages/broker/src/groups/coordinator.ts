/**
 * Kafka's classic group coordinator on one broker: membership and rebalancing (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup) with session and rebalance timeouts, the initial rebalance
 * delay, MEMBER_ID_REQUIRED and static membership; committed offsets; group administration.
 * Assignment stays with the clients: the coordinator only elects a leader, hands it every
 * member's subscription and passes the leader's assignment on, so eager and cooperative
 * assignors both work.
 *
 * Every change that must survive a restart is appended to __consumer_offsets (OffsetsLog) before
 * it is acknowledged; load() rebuilds the groups from that topic at start-up.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { Group, Member, type CommittedOffset, type JoinResult, type ProtocolMetadata, type SyncResult } from './group.js';
import { OffsetsLog, type CoordinatorRecord } from './offsets-log.js';
import {
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './records.js';

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ProtocolMetadata[];
  /** JoinGroup version: v4+ gets MEMBER_ID_REQUIRED, v9+ skipAssignment. */
  apiVersion: number;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface OffsetCommitPartition {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  /** OffsetCommit v1's per-partition timestamp; -1: now. */
  commitTimestamp: number;
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–v4 retention_time_ms; -1: the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  partitions: OffsetCommitPartition[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

const EMPTY = Buffer.alloc(0);
const NO_GENERATION = -1;

function joinError(errorCode: number, memberId = ''): JoinResult {
  return { errorCode, generationId: NO_GENERATION, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export class GroupCoordinator {
  readonly groups = new Map<string, Group>();
  readonly offsetsLog: OffsetsLog;
  private expirationTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly broker: BrokerContext) {
    this.offsetsLog = new OffsetsLog(broker);
  }

  private get log() {
    return this.broker.log;
  }

  private int(key: string): number {
    return this.broker.config.int(key);
  }

  // ------------------------------------------------------------------ start-up and shutdown

  /** Rebuilds every group from __consumer_offsets and starts the offset-expiration task. */
  async load(): Promise<void> {
    const startedAt = performance.now();
    const metadata = new Map<string, GroupMetadataValue | null>();
    const offsets = new Map<string, Map<string, CommittedOffset | null>>();
    let records = 0;
    for await (const record of this.offsetsLog.readAll()) {
      records++;
      let key;
      try {
        key = decodeCoordinatorKey(record.key);
        if (!key) continue;
        if (key.kind === 'offset') {
          let byPartition = offsets.get(key.group);
          if (!byPartition) offsets.set(key.group, (byPartition = new Map()));
          const id = `${key.partition}:${key.topic}`;
          if (record.value === null) byPartition.set(id, null);
          else {
            const v = decodeOffsetCommitValue(record.value);
            byPartition.set(id, {
              offset: v.offset,
              leaderEpoch: v.leaderEpoch,
              metadata: v.metadata,
              commitTimestamp: Number(v.commitTimestamp),
              expireTimestamp: Number(v.expireTimestamp),
            });
          }
        } else {
          metadata.set(key.group, record.value === null ? null : decodeGroupMetadataValue(record.value));
        }
      } catch (err) {
        this.log.warn(`skipping an unreadable __consumer_offsets record at ${record.partition}/${record.offset}: ${(err as Error).message}`);
      }
    }
    for (const groupId of new Set([...metadata.keys(), ...offsets.keys()])) {
      const group = new Group(groupId);
      const value = metadata.get(groupId);
      if (value) this.restoreGroupMetadata(group, value);
      for (const [id, committed] of offsets.get(groupId) ?? []) {
        if (!committed) continue;
        const colon = id.indexOf(':');
        group.setOffset(id.slice(colon + 1), Number(id.slice(0, colon)), committed);
      }
      if (!value && !group.hasOffsets) continue;
      this.groups.set(groupId, group);
    }
    this.scheduleExpiration();
    if (records > 0) {
      this.log.info(`group coordinator loaded ${this.groups.size} group(s) from ${records} __consumer_offsets record(s) in ${(performance.now() - startedAt).toFixed(0)} ms`);
    }
  }

  private restoreGroupMetadata(group: Group, value: GroupMetadataValue): void {
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    group.generationId = value.generation;
    group.protocolName = value.protocol;
    group.currentStateTimestamp = value.currentStateTimestamp >= 0n ? Number(value.currentStateTimestamp) : null;
    for (const m of value.members) {
      const member = new Member(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, m.rebalanceTimeout, m.sessionTimeout, value.protocolType, [
        { name: value.protocol ?? '', metadata: m.subscription },
      ]);
      member.assignment = m.assignment;
      group.addMember(member);
    }
    group.leaderId = value.leader && group.members.has(value.leader) ? value.leader : (group.members.keys().next().value ?? null);
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
    // Members restored from the log get a full session to come back (heartbeat) before removal.
    for (const member of group.members.values()) this.heartbeat(group, member);
  }

  /** Cancels every timer and answers every parked JoinGroup/SyncGroup with NOT_COORDINATOR. */
  stop(): void {
    this.stopped = true;
    if (this.expirationTimer) clearTimeout(this.expirationTimer);
    for (const group of this.groups.values()) {
      if (group.joinTimer) clearTimeout(group.joinTimer);
      if (group.syncTimer) clearTimeout(group.syncTimer);
      for (const t of group.pendingMembers.values()) clearTimeout(t);
      for (const member of group.members.values()) {
        if (member.sessionTimer) clearTimeout(member.sessionTimer);
        this.answerJoin(member, joinError(ErrorCode.NOT_COORDINATOR, member.memberId));
        this.answerSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  // ------------------------------------------------------------------ timers

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      if (!this.stopped) fn();
    }, ms);
    t.unref();
    return t;
  }

  /** Restarts the member's session timer (a heartbeat, or any request that proves it alive). */
  private heartbeat(group: Group, member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = this.timer(member.sessionTimeoutMs, () => this.onSessionExpired(group, member));
  }

  private onSessionExpired(group: Group, member: Member): void {
    member.sessionTimer = null;
    if (group.members.get(member.memberId) !== member) return;
    // A member parked in JoinGroup or SyncGroup cannot heartbeat; the rebalance timeouts bound it.
    if (member.awaitingJoin || member.awaitingSync) return this.heartbeat(group, member);
    this.log.info(`group ${group.groupId}: member ${member.memberId} removed after its session timeout of ${member.sessionTimeoutMs} ms`);
    this.removeMemberAndUpdateGroup(group, member);
  }

  // ------------------------------------------------------------------ JoinGroup

  join(request: JoinRequest): Promise<JoinResult> {
    const { groupId, memberId, groupInstanceId } = request;
    // Shutting down: nothing would ever complete a parked join; the client finds the new coordinator.
    if (this.stopped) return Promise.resolve(joinError(ErrorCode.NOT_COORDINATOR, memberId));
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
          g.pendingMembers.set(
            newMemberId,
            this.timer(request.sessionTimeoutMs, () => {
              g.pendingMembers.delete(newMemberId);
              if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
            }),
          );
          return respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
        }
        return this.addMemberAndRebalance(g, newMemberId, request, respond);
      }

      const pending = g.pendingMembers.get(memberId);
      if (pending) {
        if (!g.supportsProtocols(request.protocolType, protocolNames)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
        clearTimeout(pending);
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
            return respond(this.joinResultFor(g, member));
          }
          return this.updateMemberAndRebalance(g, member, request, respond);
        case 'Stable':
          // The leader rejoining asks for a new assignment (e.g. topic metadata changed).
          if (g.isLeader(memberId) || !member.sameProtocols(request.protocols)) return this.updateMemberAndRebalance(g, member, request, respond);
          this.heartbeat(g, member);
          return respond(this.joinResultFor(g, member, false));
        default:
          return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      }
    });
    // As Kafka's handleJoinGroup: any JoinGroup (a new member's included) may be the last one the
    // rebalance waits for, so every one is followed by the completion check.
    this.tryCompleteJoin(group);
    return answer;
  }

  /** The JoinGroup answer of the current generation; the leader gets every member's metadata. */
  private joinResultFor(group: Group, member: Member, includeMembersForLeader = true): JoinResult {
    const isLeader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: isLeader && includeMembersForLeader ? this.memberList(group) : [],
    };
  }

  private memberList(group: Group): JoinResult['members'] {
    return [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(group.protocolName) }));
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
    this.answerJoin(member, joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
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
    this.answerJoin(old, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    this.answerSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const oldProtocols = old.protocols;
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
              members: isLeader && request.apiVersion >= 9 ? this.memberList(group) : [],
            }),
          (err: unknown) => respond(joinError(this.storeErrorCode(err, group.groupId), newMemberId)),
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
        this.answerSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = null;
    group.pendingSync.clear();
    if (group.joinTimer) clearTimeout(group.joinTimer);
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance');
    this.log.info(`group ${group.groupId}: preparing to rebalance (generation ${group.generationId}, ${reason})`);
    const rebalanceTimeout = group.maxRebalanceTimeoutMs();
    if (wasEmpty) {
      const delay = this.int('group.initial.rebalance.delay.ms');
      group.newMemberAdded = false;
      group.initialJoinRemainingMs = Math.max(rebalanceTimeout - delay, 0);
      group.joinTimer = this.timer(delay, () => this.onInitialJoinDelay(group));
    } else {
      group.initialJoinRemainingMs = null;
      group.joinTimer = this.timer(rebalanceTimeout, () => this.completeJoin(group));
      this.tryCompleteJoin(group);
    }
  }

  private onInitialJoinDelay(group: Group): void {
    group.joinTimer = null;
    const remaining = group.initialJoinRemainingMs ?? 0;
    if (group.newMemberAdded && remaining > 0) {
      const delay = Math.min(this.int('group.initial.rebalance.delay.ms'), remaining);
      group.newMemberAdded = false;
      group.initialJoinRemainingMs = Math.max(remaining - delay, 0);
      group.joinTimer = this.timer(delay, () => this.onInitialJoinDelay(group));
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
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
    group.initialJoinRemainingMs = null;
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin) continue;
      this.log.info(`group ${group.groupId}: member ${member.memberId} removed: it did not rejoin within the rebalance timeout`);
      this.removeMember(group, member);
    }
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo('Empty');
      this.log.info(`group ${group.groupId}: generation ${group.generationId} with no members; group is empty`);
      this.storeGroup(group).catch((err: unknown) => this.log.warn(`group ${group.groupId}: storing the empty group failed: ${(err as Error).message}`));
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo('CompletingRebalance');
    this.log.info(
      `group ${group.groupId}: generation ${group.generationId} (protocol ${group.protocolName}) with ${group.members.size} member(s), leader ${group.leaderId}`,
    );
    for (const member of group.members.values()) {
      group.pendingSync.add(member.memberId);
      this.answerJoin(member, this.joinResultFor(group, member));
      this.heartbeat(group, member);
    }
    // Members that never send SyncGroup are removed after the rebalance timeout (KIP-814 style).
    const generation = group.generationId;
    group.syncTimer = this.timer(group.maxRebalanceTimeoutMs(), () => this.onSyncTimeout(group, generation));
  }

  private onSyncTimeout(group: Group, generation: number): void {
    group.syncTimer = null;
    if (group.generationId !== generation || !group.is('CompletingRebalance', 'Stable') || group.pendingSync.size === 0) return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.members.get(memberId);
      if (!member) continue;
      this.log.info(`group ${group.groupId}: member ${memberId} removed: no SyncGroup within the rebalance timeout`);
      this.removeMemberAndUpdateGroup(group, member);
    }
  }

  private answerJoin(member: Member, result: JoinResult): void {
    const respond = member.awaitingJoin;
    member.awaitingJoin = null;
    respond?.(result);
  }

  private answerSync(member: Member, result: SyncResult): void {
    const respond = member.awaitingSync;
    member.awaitingSync = null;
    respond?.(result);
  }

  /** Takes the member out (answering whatever it has parked) without moving the group. */
  private removeMember(group: Group, member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    group.removeMember(member.memberId);
    this.answerJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    this.answerSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member): void {
    this.removeMember(group, member);
    if (group.is('Stable', 'CompletingRebalance')) this.prepareRebalance(group, `member ${member.memberId} left`);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // ------------------------------------------------------------------ SyncGroup

  sync(request: SyncRequest): Promise<SyncResult> {
    if (this.stopped) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
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
      this.answerSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
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
          group.transitionTo('Stable');
          this.log.info(`group ${group.groupId}: generation ${generation} is stable`);
          for (const m of group.members.values()) this.answerSync(m, this.syncResultFor(group, m));
        },
        (err: unknown) => {
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          const code = this.storeErrorCode(err, group.groupId);
          for (const m of group.members.values()) {
            m.assignment = EMPTY;
            this.answerSync(m, syncError(code));
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
  leave(groupId: string, members: MemberIdentity[]): { errorCode: number; members: (MemberIdentity & { errorCode: number })[] } {
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
    const pending = group.pendingMembers.get(memberId);
    if (pending) {
      clearTimeout(pending);
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

  // ------------------------------------------------------------------ offsets

  /** OffsetCommit: an error code per requested partition, in request order. */
  async commitOffsets(request: OffsetCommitRequest): Promise<number[]> {
    const groupError = this.commitGroupError(request);
    if (groupError !== ErrorCode.NONE) return request.partitions.map(() => groupError);
    const groupId = request.groupId;
    const maxMetadata = this.int('offset.metadata.max.bytes');
    const now = Date.now();
    const codes: number[] = [];
    const accepted: { index: number; p: OffsetCommitPartition; committed: CommittedOffset }[] = [];
    request.partitions.forEach((p, index) => {
      const topic = this.broker.topics.get(p.topic);
      if (!topic || p.partition < 0 || p.partition >= topic.partitions.length) return codes.push(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const metadata = p.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > maxMetadata) return codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
      const commitTimestamp = p.commitTimestamp >= 0 ? p.commitTimestamp : now;
      codes.push(ErrorCode.NONE);
      accepted.push({
        index,
        p,
        committed: {
          offset: p.offset,
          leaderEpoch: p.leaderEpoch,
          metadata,
          commitTimestamp,
          expireTimestamp: request.retentionTimeMs >= 0 ? commitTimestamp + request.retentionTimeMs : -1,
        },
      });
    });
    if (accepted.length === 0) return codes;
    try {
      await this.offsetsLog.append(
        groupId,
        accepted.map(({ p, committed }) => ({
          key: encodeOffsetCommitKey(groupId, p.topic, p.partition),
          value: encodeOffsetCommitValue({
            offset: committed.offset,
            leaderEpoch: committed.leaderEpoch,
            metadata: committed.metadata,
            commitTimestamp: BigInt(committed.commitTimestamp),
            expireTimestamp: BigInt(committed.expireTimestamp),
          }),
        })),
      );
    } catch (err) {
      const code = this.storeErrorCode(err, groupId);
      for (const a of accepted) codes[a.index] = code;
      return codes;
    }
    // A plain commit creates its group (only once something is stored); so does one that raced
    // with the group's deletion, as in Kafka.
    let group = this.groups.get(groupId);
    if (!group || group.is('Dead')) this.groups.set(groupId, (group = new Group(groupId)));
    for (const { p, committed } of accepted) group.setOffset(p.topic, p.partition, committed);
    return codes;
  }

  private commitGroupError(request: OffsetCommitRequest): number {
    const group = this.groups.get(request.groupId);
    // Only "simple" commits (no generation) may create a group.
    if (!group) return request.generationId >= 0 ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(request.groupInstanceId, request.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (request.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(request.memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.heartbeat(group, member);
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch for one group: the requested partitions (-1 for those without a commit), or every
   * committed partition when `topics` is null.
   */
  fetchOffsets(groupId: string, topics: { name: string; partitions: number[] }[] | null): FetchedOffset[] {
    const group = this.groups.get(groupId);
    const live = group && !group.is('Dead') ? group : undefined;
    if (topics === null) {
      const out: FetchedOffset[] = [];
      for (const [topic, byPartition] of live?.offsets ?? []) {
        for (const [partition, c] of byPartition) out.push({ topic, partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata });
      }
      return out;
    }
    return topics.flatMap((t) =>
      t.partitions.map((partition) => {
        const c = live?.offsetOf(t.name, partition);
        return c
          ? { topic: t.name, partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata }
          : { topic: t.name, partition, offset: -1n, leaderEpoch: -1, metadata: '' };
      }),
    );
  }

  /** OffsetDelete: a group error, or an error per partition. */
  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: Set<string> | null = new Set();
    if (!group.is('Empty')) {
      if (group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      subscribed = group.subscribedTopics();
    }
    const codes = partitions.map(({ topic, partition }) => {
      const t = this.broker.topics.get(topic);
      if (!t || partition < 0 || partition >= t.partitions.length) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (subscribed === null || subscribed.has(topic)) return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
      return ErrorCode.NONE;
    });
    const removable = partitions.filter((p, i) => codes[i] === ErrorCode.NONE && group.offsetOf(p.topic, p.partition));
    try {
      await this.offsetsLog.append(
        groupId,
        removable.map((p) => ({ key: encodeOffsetCommitKey(groupId, p.topic, p.partition), value: null })),
      );
    } catch (err) {
      return { errorCode: this.storeErrorCode(err, group.groupId), partitions: [] };
    }
    for (const p of removable) group.deleteOffset(p.topic, p.partition);
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  // ------------------------------------------------------------------ group administration

  listGroups(statesFilter: string[], typesFilter: string[]): { groupId: string; protocolType: string; state: string }[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    if (types.size > 0 && !types.has('classic')) return [];
    const out = [];
    for (const group of this.groups.values()) {
      if (group.is('Dead')) continue;
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      out.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    const stable = group.is('Stable');
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(group.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** DeleteGroups for one group: only groups without members; offsets and metadata are tombstoned. */
  async deleteGroup(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    group.transitionTo('Dead');
    try {
      await this.offsetsLog.append(groupId, this.tombstones(group));
    } catch (err) {
      group.transitionTo('Empty');
      return this.storeErrorCode(err, group.groupId);
    }
    if (this.groups.get(groupId) === group) this.groups.delete(groupId);
    this.log.info(`group ${groupId} deleted`);
    return ErrorCode.NONE;
  }

  private tombstones(group: Group): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const [topic, byPartition] of group.offsets) {
      for (const partition of byPartition.keys()) records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
    }
    records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
    return records;
  }

  // ------------------------------------------------------------------ offset expiration

  private scheduleExpiration(): void {
    this.expirationTimer = this.timer(this.int('offsets.retention.check.interval.ms'), () => {
      this.expireOffsets()
        .catch((err: unknown) => this.log.warn(`offset expiration failed: ${(err as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.scheduleExpiration();
        });
    });
  }

  /**
   * offsets.retention.minutes: an empty group's offsets expire that long after it became empty;
   * a group without a protocol (only simple commits) loses each offset that long after its commit;
   * a live consumer group loses offsets of topics it no longer subscribes to. An explicit expiry
   * (OffsetCommit v2–v4 retention) wins. An empty group left without offsets is deleted.
   */
  async expireOffsets(now = Date.now()): Promise<number> {
    const retentionMs = this.int('offsets.retention.minutes') * 60_000;
    let expired = 0;
    for (const group of [...this.groups.values()]) {
      if (group.is('Dead')) continue;
      let subscribed: Set<string> | null = null;
      let eligible: boolean;
      if (group.is('Empty')) eligible = true;
      else if (group.is('Stable') && group.protocolType === 'consumer') {
        subscribed = group.subscribedTopics();
        eligible = subscribed !== null;
      } else eligible = false;
      const doomed: { topic: string; partition: number }[] = [];
      if (eligible) {
        for (const [topic, byPartition] of group.offsets) {
          if (subscribed?.has(topic)) continue;
          for (const [partition, c] of byPartition) {
            const deadline =
              c.expireTimestamp >= 0
                ? c.expireTimestamp
                : (group.is('Empty') && group.protocolType !== null ? (group.currentStateTimestamp ?? c.commitTimestamp) : c.commitTimestamp) + retentionMs;
            if (deadline <= now) doomed.push({ topic, partition });
          }
        }
      }
      // An empty group left with no offsets is gone (also one that never got past MEMBER_ID_REQUIRED).
      const deleteGroup = group.is('Empty') && group.members.size === 0 && group.pendingMembers.size === 0 && doomed.length === this.offsetCount(group);
      if (doomed.length === 0 && !deleteGroup) continue;
      const records: CoordinatorRecord[] = doomed.map((d) => ({ key: encodeOffsetCommitKey(group.groupId, d.topic, d.partition), value: null }));
      if (deleteGroup) records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
      await this.offsetsLog.append(group.groupId, records);
      for (const d of doomed) group.deleteOffset(d.topic, d.partition);
      expired += doomed.length;
      if (deleteGroup && group.is('Empty') && !group.hasOffsets) {
        group.transitionTo('Dead');
        this.groups.delete(group.groupId);
      }
      this.log.info(`group ${group.groupId}: ${doomed.length} committed offset(s) expired${deleteGroup ? '; group removed' : ''}`);
    }
    return expired;
  }

  private offsetCount(group: Group): number {
    let n = 0;
    for (const byPartition of group.offsets.values()) n += byPartition.size;
    return n;
  }

  // ------------------------------------------------------------------ persistence

  /** Appends the group's GroupMetadataValue (with `assignments` when given, else the current ones). */
  private storeGroup(group: Group, assignments?: Map<string, Buffer>): Promise<void> {
    const value = encodeGroupMetadataValue({
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.currentStateTimestamp ?? Date.now()),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadataFor(group.protocolName),
        assignment: assignments ? (assignments.get(m.memberId) ?? EMPTY) : m.assignment,
      })),
    });
    return this.offsetsLog.append(group.groupId, [{ key: encodeGroupMetadataKey(group.groupId), value }]);
  }

  /** Kafka's mapping of a failed coordinator write to what the client is told. */
  private storeErrorCode(err: unknown, groupId: string): number {
    this.log.warn(`group ${groupId}: writing to __consumer_offsets failed: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof KafkaError) {
      if (err.code === ErrorCode.RECORD_LIST_TOO_LARGE || err.code === ErrorCode.MESSAGE_TOO_LARGE || err.code === ErrorCode.INVALID_FETCH_SIZE) {
        return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
      }
      if (err.code === ErrorCode.COORDINATOR_NOT_AVAILABLE || err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
