/**
 * Reassignment plans that Kafka leaves to Cruise Control: emptying one broker, and evening out
 * replicas, leaders and bytes over the brokers while moving as little data as possible. Pure:
 * from the current assignment (and replica sizes) to a list of partition moves.
 */
export interface PlannedPartition {
  topic: string;
  partition: number;
  replicas: number[];
  /** Bytes of the partition (its leader's log), to prefer moving small partitions. */
  bytes: number;
}

export interface PlanBroker {
  nodeId: number;
  rack: string | null;
}

export interface BrokerLoad {
  nodeId: number;
  replicas: number;
  leaders: number;
  bytes: number;
}

export function loadOf(partitions: readonly PlannedPartition[], brokers: readonly PlanBroker[]): BrokerLoad[] {
  return brokers
    .map((b) => ({
      nodeId: b.nodeId,
      replicas: partitions.filter((p) => p.replicas.includes(b.nodeId)).length,
      leaders: partitions.filter((p) => p.replicas[0] === b.nodeId).length,
      bytes: partitions.filter((p) => p.replicas.includes(b.nodeId)).reduce((n, p) => n + p.bytes, 0),
    }))
    .sort((a, b) => a.nodeId - b.nodeId);
}

const rackOf = (brokers: readonly PlanBroker[], id: number) => brokers.find((b) => b.nodeId === id)?.rack ?? null;

/** Whether `candidate` may take `leaving`'s place in `replicas` without putting two replicas in one rack needlessly. */
function rackOk(brokers: readonly PlanBroker[], replicas: readonly number[], leaving: number, candidate: number): boolean {
  const racks = new Set(brokers.map((b) => b.rack ?? ''));
  if (racks.size <= 1) return true;
  const others = replicas.filter((id) => id !== leaving).map((id) => rackOf(brokers, id) ?? '');
  const rack = rackOf(brokers, candidate) ?? '';
  // A new rack, or every rack already used by the others.
  return !others.includes(rack) || new Set(others).size >= racks.size;
}

/**
 * Moves every replica off `leaving`, each to the remaining broker with the fewest replicas that the
 * partition does not use yet (keeping racks apart), in the same position so preferred leadership
 * moves with it. Throws when the remaining brokers cannot hold a partition's replication factor.
 */
export function planRemoveBroker(partitions: readonly PlannedPartition[], brokers: readonly PlanBroker[], leaving: number): PlannedPartition[] {
  const remaining = brokers.filter((b) => b.nodeId !== leaving);
  const counts = new Map(loadOf(partitions, remaining).map((l) => [l.nodeId, l.replicas]));
  const moves: PlannedPartition[] = [];
  for (const p of partitions) {
    const at = p.replicas.indexOf(leaving);
    if (at < 0) continue;
    if (p.replicas.length > remaining.length) {
      throw new Error(`${p.topic}-${p.partition} has replication factor ${p.replicas.length}, but only ${remaining.length} broker(s) would remain`);
    }
    const candidates = remaining.filter((b) => !p.replicas.includes(b.nodeId));
    const ranked = [...candidates].sort((a, b) => Number(rackOk(brokers, p.replicas, leaving, b.nodeId)) - Number(rackOk(brokers, p.replicas, leaving, a.nodeId)) || counts.get(a.nodeId)! - counts.get(b.nodeId)! || a.nodeId - b.nodeId);
    const chosen = ranked[0].nodeId;
    counts.set(chosen, counts.get(chosen)! + 1);
    const replicas = [...p.replicas];
    replicas[at] = chosen;
    moves.push({ ...p, replicas });
  }
  return moves;
}

/**
 * Evens replica counts (then preferred leaders) over the brokers: while the most loaded broker
 * holds two or more replicas more than the least, one replica moves between them — from the
 * smallest partition that can take it, so little data moves. Preferred leadership is then evened
 * by reordering replicas, which moves no data. Returns the changed partitions.
 */
export function planRebalance(partitions: readonly PlannedPartition[], brokers: readonly PlanBroker[]): PlannedPartition[] {
  const work = partitions.map((p) => ({ ...p, replicas: [...p.replicas] }));
  const count = (id: number, leadersOnly: boolean) => work.filter((p) => (leadersOnly ? p.replicas[0] === id : p.replicas.includes(id))).length;
  for (let guard = 0; guard < 10_000; guard++) {
    const ranked = brokers.map((b) => ({ id: b.nodeId, n: count(b.nodeId, false) })).sort((a, b) => b.n - a.n || a.id - b.id);
    const most = ranked[0];
    const least = ranked[ranked.length - 1];
    if (!most || most.n - least.n <= 1) break;
    const options = work
      .map((p) => ({ p }))
      .filter(({ p }) => p.replicas.includes(most.id) && !p.replicas.includes(least.id) && rackOk(brokers, p.replicas, most.id, least.id))
      .sort((a, b) => a.p.bytes - b.p.bytes);
    if (!options.length) break;
    const { p } = options[0];
    p.replicas[p.replicas.indexOf(most.id)] = least.id;
  }
  for (let guard = 0; guard < 10_000; guard++) {
    const ranked = brokers.map((b) => ({ id: b.nodeId, n: count(b.nodeId, true) })).sort((a, b) => b.n - a.n || a.id - b.id);
    const most = ranked[0];
    const least = ranked[ranked.length - 1];
    if (!most || most.n - least.n <= 1) break;
    const i = work.findIndex((p) => p.replicas[0] === most.id && p.replicas.includes(least.id));
    if (i < 0) break;
    const r = work[i].replicas;
    const j = r.indexOf(least.id);
    [r[0], r[j]] = [r[j], r[0]];
  }
  return work.filter((p, i) => p.replicas.join(',') !== partitions[i].replicas.join(','));
}
