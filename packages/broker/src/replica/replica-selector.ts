/**
 * KIP-392's replica.selector.class: which replica a consumer should fetch from. Kafka's two
 * selectors, accepted by their Java class names: LeaderSelector (the default: always the leader)
 * and RackAwareReplicaSelector (a replica in the consumer's rack, the leader when it is there too
 * or when none is; among several, the one furthest ahead).
 */

/** A replica a consumer could read from (Kafka's ReplicaView). */
export interface ReplicaView {
  brokerId: number;
  rack: string | null;
  logEndOffset: bigint;
  /** How long since the replica was last caught up with the leader (0 for the leader). */
  timeSinceLastCaughtUpMs: number;
}

export interface PartitionView {
  leader: ReplicaView;
  /** Every candidate, the leader included. */
  replicas: readonly ReplicaView[];
}

/** Picks the replica for a consumer in `clientRack` ('' when the consumer named none). */
export type ReplicaSelector = (clientRack: string, partition: PartitionView) => ReplicaView;

export const RACK_AWARE_REPLICA_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';
export const LEADER_SELECTOR = 'org.apache.kafka.common.replica.LeaderSelector';

/** Kafka's ReplicaView comparator: furthest log end first, then most recently caught up. */
function ahead(a: ReplicaView, b: ReplicaView): ReplicaView {
  if (a.logEndOffset !== b.logEndOffset) return a.logEndOffset > b.logEndOffset ? a : b;
  return a.timeSinceLastCaughtUpMs <= b.timeSinceLastCaughtUpMs ? a : b;
}

export const rackAwareReplicaSelector: ReplicaSelector = (clientRack, partition) => {
  if (clientRack === '') return partition.leader;
  const sameRack = partition.replicas.filter((r) => r.rack === clientRack);
  if (sameRack.length === 0 || sameRack.some((r) => r.brokerId === partition.leader.brokerId)) return partition.leader;
  return sameRack.reduce(ahead);
};

export const leaderSelector: ReplicaSelector = (_clientRack, partition) => partition.leader;

/** The selector a replica.selector.class names (null: none configured, consumers read from leaders only). */
export function replicaSelectorFor(className: string | null): ReplicaSelector | null {
  if (className === null || className === '') return null;
  if (className === RACK_AWARE_REPLICA_SELECTOR) return rackAwareReplicaSelector;
  if (className === LEADER_SELECTOR) return leaderSelector;
  throw new Error(`replica.selector.class ${className} is not supported (use ${RACK_AWARE_REPLICA_SELECTOR} or ${LEADER_SELECTOR})`);
}
