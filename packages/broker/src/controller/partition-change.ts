/**
 * What the controller decides for one partition given the live brokers, as Kafka's
 * PartitionChangeBuilder does: a leader that is gone is replaced by the first live replica of the
 * ISR (in replica order, so the preferred leader wins when it can); brokers that are gone leave the
 * ISR; with no live ISR member the partition goes offline (leader -1, the last ISR kept so only a
 * replica that has everything may lead again), unless unclean election is enabled, in which case
 * any live replica leads and what it lacks is lost. Pure: the controller writes the result.
 */
import { ErrorCode } from '@sluice/protocol';
import type { PartitionChange, PartitionRegistration } from '../metadata/metadata-store.js';

export interface PartitionDecision {
  change: PartitionChange;
  /** Why, for the controller's log line. */
  reason: string;
  /** An unclean election: records the new leader lacks are lost. */
  unclean: boolean;
}

export function decidePartition(state: PartitionRegistration, live: ReadonlySet<number>, uncleanLeaderElection: boolean): PartitionDecision | null {
  const liveIsr = state.isr.filter((id) => live.has(id));
  if (state.leader >= 0 && live.has(state.leader)) {
    // Leader fine: only shrink the ISR of brokers that are gone (never below the leader itself).
    if (liveIsr.length === state.isr.length) return null;
    const gone = state.isr.filter((id) => !live.has(id));
    return { change: { isr: liveIsr }, reason: `broker(s) ${gone.join(',')} gone: ISR ${state.isr.join(',')} -> ${liveIsr.join(',')}`, unclean: false };
  }
  const candidate = state.replicas.find((id) => liveIsr.includes(id));
  if (candidate !== undefined) {
    return {
      change: { leader: candidate, isr: liveIsr },
      reason: `leader ${state.leader < 0 ? 'none' : `${state.leader} gone`}: elected ${candidate} from ISR ${state.isr.join(',')}`,
      unclean: false,
    };
  }
  if (uncleanLeaderElection) {
    const anyLive = state.replicas.find((id) => live.has(id));
    if (anyLive !== undefined) {
      return {
        change: { leader: anyLive, isr: [anyLive] },
        reason: `no live ISR member (ISR ${state.isr.join(',')}): UNCLEAN election of ${anyLive}; records it never replicated are lost`,
        unclean: true,
      };
    }
  }
  if (state.leader === -1) return null;
  // Offline: no leader, and the ISR keeps the last member(s) so a clean election can happen when one returns.
  return { change: { leader: -1 }, reason: `leader ${state.leader} gone and no live ISR member: offline until one of ${state.isr.join(',')} returns`, unclean: false };
}

/**
 * Controlled shutdown of `leaving`, as Kafka's controller does it: partitions it leads move to
 * another live ISR member (in replica order), and it leaves every ISR it is in — unless it is the
 * only one, in which case the partition keeps it (moving would lose data; it goes offline when the
 * broker stops).
 */
export function decideShutdown(state: PartitionRegistration, leaving: number, live: ReadonlySet<number>): PartitionChange | null {
  if (!state.isr.includes(leaving) && state.leader !== leaving) return null;
  const remaining = state.isr.filter((id) => id !== leaving && live.has(id));
  if (remaining.length === 0) return null;
  if (state.leader === leaving) {
    const next = state.replicas.find((id) => remaining.includes(id))!;
    return { leader: next, isr: remaining };
  }
  return { isr: state.isr.filter((id) => id !== leaving) };
}

export const ELECTION_PREFERRED = 0;
export const ELECTION_UNCLEAN = 1;

export type ElectionOutcome = { change: PartitionChange } | { errorCode: number; message: string };

/**
 * ElectLeaders for one partition (kafka-leader-election.sh). Preferred: the first replica leads
 * if it is alive and in the ISR. Unclean: only a partition without a live leader gets one — from
 * the ISR if possible, else any live replica.
 */
export function decideElection(electionType: number, state: PartitionRegistration, live: ReadonlySet<number>): ElectionOutcome {
  const leaderLive = state.leader >= 0 && live.has(state.leader);
  if (electionType === ELECTION_PREFERRED) {
    const preferred = state.replicas[0];
    if (state.leader === preferred && leaderLive) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: `Leader ${preferred} is already the preferred leader.` };
    if (!live.has(preferred) || !state.isr.includes(preferred)) {
      return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, message: `Preferred replica ${preferred} is ${live.has(preferred) ? 'not in the ISR' : 'not alive'}.` };
    }
    return { change: { leader: preferred } };
  }
  if (electionType === ELECTION_UNCLEAN) {
    if (leaderLive) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: `Partition has leader ${state.leader}.` };
    const decision = decidePartition(state, live, true);
    if (!decision || decision.change.leader === undefined || decision.change.leader < 0) {
      return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, message: `No live replica among ${state.replicas.join(',')}.` };
    }
    return { change: decision.change };
  }
  return { errorCode: ErrorCode.INVALID_REQUEST, message: `Unknown election type ${electionType}.` };
}

/**
 * Kafka's auto leader rebalance (auto.leader.rebalance.enable): a broker whose share of partitions
 * it should lead but does not exceeds `imbalancePercentage` gets them back, where it can lead.
 * Returns the partitions (by index into `states`) to elect their preferred leader for.
 */
export function imbalancedPartitions(states: readonly PartitionRegistration[], live: ReadonlySet<number>, imbalancePercentage: number): number[] {
  const preferredCount = new Map<number, number>();
  const notLed = new Map<number, number[]>();
  states.forEach((s, i) => {
    const preferred = s.replicas[0];
    if (preferred === undefined) return;
    preferredCount.set(preferred, (preferredCount.get(preferred) ?? 0) + 1);
    if (s.leader !== preferred) notLed.set(preferred, [...(notLed.get(preferred) ?? []), i]);
  });
  const out: number[] = [];
  for (const [broker, indexes] of notLed) {
    if (!live.has(broker)) continue;
    if ((indexes.length * 100) / preferredCount.get(broker)! <= imbalancePercentage) continue;
    out.push(...indexes.filter((i) => states[i].isr.includes(broker)));
  }
  return out;
}

/** The replicas a partition had before its ongoing reassignment (all of them when none runs). */
export function originalReplicas(state: PartitionRegistration): number[] {
  return state.replicas.filter((id) => !state.addingReplicas.includes(id));
}

export function reassignmentInProgress(state: PartitionRegistration): boolean {
  return state.addingReplicas.length > 0 || state.removingReplicas.length > 0;
}

export type ReassignmentOutcome = { change: PartitionChange } | { errorCode: number; message: string };

/**
 * AlterPartitionReassignments for one partition (KIP-455): the partition replicates to the union
 * of its original and target replicas (target first), the new ones listed as adding and the
 * leaving ones as removing, until every adding replica is in the ISR; then the controller
 * finishes it (completeReassignment). A target that adds nothing finishes at once. A new target
 * during a reassignment starts from the original replicas again.
 */
export function startReassignment(state: PartitionRegistration, target: readonly number[], registered: ReadonlySet<number>): ReassignmentOutcome {
  if (target.length === 0) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: 'The target replica list is empty.' };
  if (new Set(target).size !== target.length) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: `The target replicas ${target.join(',')} list a broker twice.` };
  const unknown = target.filter((id) => !registered.has(id));
  if (unknown.length) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: `Broker(s) ${unknown.join(',')} are not registered.` };
  const origin = originalReplicas(state);
  const adding = target.filter((id) => !origin.includes(id));
  const removing = origin.filter((id) => !target.includes(id));
  if (adding.length === 0) return finish(state, target) ?? { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: `None of the target replicas ${target.join(',')} is in sync (ISR ${state.isr.join(',')}).` };
  return { change: { replicas: [...target, ...removing], addingReplicas: adding, removingReplicas: removing } };
}

/** The controller's last step of a reassignment: once every adding replica is in sync, drop the removing ones. */
export function completeReassignment(state: PartitionRegistration): PartitionChange | null {
  if (!reassignmentInProgress(state)) return null;
  if (!state.addingReplicas.every((id) => state.isr.includes(id))) return null;
  const target = state.replicas.filter((id) => !state.removingReplicas.includes(id));
  const done = finish(state, target);
  return done ? done.change : null;
}

/** A cancelled reassignment returns to the original replicas (the adding ones leave). */
export function cancelReassignment(state: PartitionRegistration): ReassignmentOutcome {
  if (!reassignmentInProgress(state)) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, message: 'No reassignment is in progress for this partition.' };
  return finish(state, originalReplicas(state)) ?? { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: 'None of the original replicas is in sync; the reassignment cannot be cancelled now.' };
}

function finish(state: PartitionRegistration, replicas: readonly number[]): { change: PartitionChange } | null {
  const isr = state.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0) return null;
  const leader = replicas.includes(state.leader) && isr.includes(state.leader) ? state.leader : (replicas.find((id) => isr.includes(id)) ?? -1);
  return { change: { replicas: [...replicas], isr, leader, addingReplicas: [], removingReplicas: [] } };
}
