/**
 * Where a new partition's replicas go, by Kafka's assignment (AdminUtils.assignReplicasToBrokers):
 * leaders spread round-robin from a random start so no broker collects every partition 0, and
 * followers follow at a shift that grows every full round, so the replicas of one broker's
 * partitions land on many others (its failure spreads the load). With racks, the brokers are
 * first interleaved rack by rack and each partition takes at most one replica per rack until
 * every rack has one, so losing a rack loses at most that share of each partition.
 */
export interface PlacementBroker {
  nodeId: number;
  rack: string | null;
}

export interface PlacementOptions {
  /** The index (in the arranged broker list) of partition 0's leader; random when absent. */
  startIndex?: number;
  /** The first partition id to place (CreatePartitions continues a topic). */
  startPartitionId?: number;
  /** The follower shift of the first round; random when absent. */
  replicaShift?: number;
}

export function assignReplicas(brokers: readonly PlacementBroker[], partitions: number, replicationFactor: number, options: PlacementOptions = {}): number[][] {
  if (replicationFactor > brokers.length) throw new RangeError(`replication factor ${replicationFactor} is larger than the ${brokers.length} available broker(s)`);
  const rackAware = brokers.some((b) => b.rack !== null);
  const arranged = rackAware ? rackAlternated(brokers) : [...brokers].sort((a, b) => a.nodeId - b.nodeId);
  const n = arranged.length;
  const racks = new Set(arranged.map((b) => b.rack ?? ''));
  const startIndex = options.startIndex ?? Math.floor(Math.random() * n);
  let shift = options.replicaShift ?? Math.floor(Math.random() * n);
  let partitionId = Math.max(0, options.startPartitionId ?? 0);
  const out: number[][] = [];
  for (let i = 0; i < partitions; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) shift += 1;
    const first = (partitionId + startIndex) % n;
    const replicas = [arranged[first]];
    if (!rackAware) {
      for (let j = 0; j < replicationFactor - 1; j++) replicas.push(arranged[replicaIndex(first, shift, j, n)]);
    } else {
      const usedRacks = new Set([arranged[first].rack ?? '']);
      const used = new Set([arranged[first].nodeId]);
      let k = 0;
      for (let j = 0; j < replicationFactor - 1; j++) {
        for (;;) {
          const candidate = arranged[replicaIndex(first, shift * racks.size, k++, n)];
          const rack = candidate.rack ?? '';
          // A new rack while some rack is still without a replica; a new broker while any is unused.
          if ((!usedRacks.has(rack) || usedRacks.size === racks.size) && (!used.has(candidate.nodeId) || used.size === n)) {
            replicas.push(candidate);
            usedRacks.add(rack);
            used.add(candidate.nodeId);
            break;
          }
        }
      }
    }
    out.push(replicas.map((b) => b.nodeId));
  }
  return out;
}

function replicaIndex(first: number, secondShift: number, index: number, n: number): number {
  if (n === 1) return first;
  const shift = 1 + ((secondShift + index) % (n - 1));
  return (first + shift) % n;
}

/** Brokers interleaved across racks (racks and brokers in id order): r1b1, r2b1, r3b1, r1b2, … */
function rackAlternated(brokers: readonly PlacementBroker[]): PlacementBroker[] {
  const byRack = new Map<string, PlacementBroker[]>();
  for (const b of [...brokers].sort((x, y) => x.nodeId - y.nodeId)) {
    const rack = b.rack ?? '';
    const list = byRack.get(rack) ?? [];
    list.push(b);
    byRack.set(rack, list);
  }
  const queues = [...byRack.keys()].sort().map((r) => byRack.get(r)!);
  const out: PlacementBroker[] = [];
  for (let round = 0; out.length < brokers.length; round++) for (const q of queues) if (round < q.length) out.push(q[round]);
  return out;
}
