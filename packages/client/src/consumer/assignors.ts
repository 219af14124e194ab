/**
 * Partition assignors, run by the group leader. range and roundrobin follow Kafka's definitions;
 * sticky keeps every partition where it was as far as a balanced assignment allows;
 * cooperative-sticky computes the same target but withholds partitions that change owner for one
 * round, so their old owner revokes them first (KIP-429 incremental rebalancing).
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
  /** Partitions the member owned in generation `generation` (cooperative and sticky). */
  owned: TopicPartition[];
  generation: number;
  /** What the member's assignor put in its subscription (`Assignor.subscriptionUserData`), if anything. */
  userData?: Buffer | null;
}

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface Assignor {
  readonly name: string;
  readonly protocol: RebalanceProtocol;
  /**
   * Bytes this member sends in its subscription for the leader's assign() to read (Kafka's
   * ConsumerPartitionAssignor.subscriptionUserData): e.g. what it held before an eager rebalance
   * took everything away, which `owned` can no longer say.
   */
  subscriptionUserData?(): Buffer | null;
  /** Member id → assigned partitions; members without partitions map to []. */
  assign(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]>;
}

/** Static members sort by instance id (stable across restarts), others by member id. */
function memberOrder(a: MemberSubscription, b: MemberSubscription): number {
  const ka = a.groupInstanceId ?? a.memberId;
  const kb = b.groupInstanceId ?? b.memberId;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function emptyAssignment(members: MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, [] as TopicPartition[]]));
}

export const rangeAssignor: Assignor = {
  name: 'range',
  protocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic) ?? 0;
      const subscribers = members.filter((m) => m.topics.includes(topic)).sort(memberOrder);
      if (subscribers.length === 0 || count === 0) continue;
      const per = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const n = per + (i < extra ? 1 : 0);
        for (let p = next; p < next + n; p++) out.get(m.memberId)!.push({ topic, partition: p });
        next += n;
      });
    }
    return out;
  },
};

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  protocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(memberOrder);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    let cursor = 0;
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic) ?? 0;
      for (let p = 0; p < count; p++) {
        // The next member in the circle that subscribes to this topic.
        for (let tries = 0; tries < sorted.length; tries++) {
          const m = sorted[cursor % sorted.length];
          cursor++;
          if (m.topics.includes(topic)) {
            out.get(m.memberId)!.push({ topic, partition: p });
            break;
          }
        }
      }
    }
    return out;
  },
};

const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;

/**
 * The balanced sticky target: members keep what they owned (the highest generation wins a
 * disputed partition) up to their fair share, then unowned partitions go to the subscribed member
 * with the fewest, so counts differ by at most one among members with equal subscriptions.
 */
export function stickyTarget(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const out = emptyAssignment(members);
  const sorted = [...members].sort(memberOrder);
  const all: TopicPartition[] = [];
  for (const topic of [...new Set(members.flatMap((m) => m.topics))].sort()) {
    const count = partitionsPerTopic.get(topic) ?? 0;
    for (let p = 0; p < count; p++) all.push({ topic, partition: p });
  }
  const subscribersOf = new Map<string, MemberSubscription[]>();
  for (const m of sorted) for (const t of m.topics) (subscribersOf.get(t) ?? subscribersOf.set(t, []).get(t)!).push(m);
  const assignable = all.filter((tp) => (subscribersOf.get(tp.topic)?.length ?? 0) > 0);
  const quotaFloor = Math.floor(assignable.length / Math.max(1, sorted.length));
  let ceilSlots = assignable.length - quotaFloor * sorted.length;

  // Previous owner per partition (highest generation wins).
  const previous = new Map<string, { member: MemberSubscription; generation: number }>();
  for (const m of sorted)
    for (const tp of m.owned) {
      const k = key(tp);
      const cur = previous.get(k);
      if (cur === undefined || m.generation > cur.generation) previous.set(k, { member: m, generation: m.generation });
    }

  const taken = new Set<string>();
  // Keep owned partitions up to the quota, members that owned more first give up the excess.
  for (const m of sorted) {
    const mine = out.get(m.memberId)!;
    const kept = m.owned.filter((tp) => {
      const k = key(tp);
      return previous.get(k)?.member === m && m.topics.includes(tp.topic) && tp.partition < (partitionsPerTopic.get(tp.topic) ?? 0);
    });
    kept.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    let limit = quotaFloor;
    if (kept.length > quotaFloor && ceilSlots > 0) {
      limit = quotaFloor + 1;
      ceilSlots--;
    }
    for (const tp of kept.slice(0, limit)) {
      mine.push(tp);
      taken.add(key(tp));
    }
  }
  // Hand out the rest to the least-loaded subscriber.
  for (const tp of assignable) {
    if (taken.has(key(tp))) continue;
    let best: MemberSubscription | null = null;
    for (const m of subscribersOf.get(tp.topic)!) {
      if (best === null || out.get(m.memberId)!.length < out.get(best.memberId)!.length) best = m;
    }
    out.get(best!.memberId)!.push(tp);
    taken.add(key(tp));
  }
  return out;
}

export const stickyAssignor: Assignor = {
  name: 'sticky',
  protocol: 'eager',
  assign: stickyTarget,
};

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const target = stickyTarget(members, partitionsPerTopic);
    // A partition another member still owns is withheld this round: its owner revokes it, rejoins,
    // and the follow-up rebalance hands it over.
    const ownerOf = new Map<string, string>();
    for (const m of members) for (const tp of m.owned) ownerOf.set(key(tp), m.memberId);
    for (const [memberId, tps] of target) {
      target.set(
        memberId,
        tps.filter((tp) => {
          const owner = ownerOf.get(key(tp));
          return owner === undefined || owner === memberId;
        }),
      );
    }
    return target;
  },
};

export type AssignorName = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';

export const builtInAssignors: Record<AssignorName, Assignor> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  sticky: stickyAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
