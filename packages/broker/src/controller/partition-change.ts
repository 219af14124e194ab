/**
 * What the controller decides for one partition given the live brokers, as Kafka's
 * PartitionChangeBuilder does: a leader that is gone is replaced by the first live replica of the
 * ISR (in replica order, so the preferred leader wins when it can); brokers that are gone leave the
 * ISR; with no live ISR member the partition goes offline (leader -1, the last ISR kept so only a
 * replica that has everything may lead again), unless unclean election is enabled, in which case
 * any live replica leads and what it lacks is lost. Pure: the controller writes the result.
 */
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
