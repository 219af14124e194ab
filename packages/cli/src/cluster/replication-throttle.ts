/**
 * Replication throttles for partition moves, set and cleared as kafka-reassign-partitions.sh does:
 * the rate (`leader.replication.throttled.rate`, `follower.replication.throttled.rate`) on every
 * broker a move involves, and per topic which replicas it applies to — the current replicas of
 * each moving partition throttle what they send as leaders (`leader.replication.throttled.replicas`),
 * the replicas being added throttle what they fetch (`follower.replication.throttled.replicas`).
 * Replicas in the ISR are never throttled by the brokers, so producers are not held back.
 */
import type { Admin } from '@sluice/client';

export const BROKER_THROTTLE_CONFIGS = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second'] as const;
export const TOPIC_THROTTLE_CONFIGS = ['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas'] as const;

export interface ReplicaMove {
  topic: string;
  partition: number;
  /** Replicas now. */
  current: readonly number[];
  /** Replicas wanted. */
  target: readonly number[];
}

export interface ThrottlePlan {
  /** Brokers that get the rate: every current and target replica of a moving partition. */
  brokers: number[];
  /** Per topic, the `partition:broker` entries of each list. */
  topics: Map<string, { leader: string[]; follower: string[] }>;
}

/** Which brokers and replicas a throttle covers for these moves (Kafka's calculateLeaderThrottles / calculateFollowerThrottles). */
export function planThrottle(moves: readonly ReplicaMove[]): ThrottlePlan {
  const brokers = new Set<number>();
  const topics = new Map<string, { leader: string[]; follower: string[] }>();
  for (const m of moves) {
    const adding = m.target.filter((b) => !m.current.includes(b));
    const moving = adding.length > 0 || m.current.some((b) => !m.target.includes(b));
    if (!moving) continue;
    for (const b of [...m.current, ...m.target]) brokers.add(b);
    let t = topics.get(m.topic);
    if (!t) topics.set(m.topic, (t = { leader: [], follower: [] }));
    t.leader.push(...m.current.map((b) => `${m.partition}:${b}`));
    t.follower.push(...adding.map((b) => `${m.partition}:${b}`));
  }
  return { brokers: [...brokers].sort((a, b) => a - b), topics };
}

/** Sets `rate` bytes/s on the plan's brokers and the throttled replica lists on its topics. */
export async function applyThrottle(admin: Admin, plan: ThrottlePlan, rate: number): Promise<void> {
  await admin.incrementalAlterConfigs([
    ...plan.brokers.map((b) => ({
      type: 'broker' as const,
      name: String(b),
      changes: [
        { name: 'leader.replication.throttled.rate', op: 'set' as const, value: String(rate) },
        { name: 'follower.replication.throttled.rate', op: 'set' as const, value: String(rate) },
      ],
    })),
    ...[...plan.topics].map(([topic, lists]) => ({
      type: 'topic' as const,
      name: topic,
      changes: [
        { name: 'leader.replication.throttled.replicas', op: 'set' as const, value: lists.leader.join(',') },
        { name: 'follower.replication.throttled.replicas', op: 'set' as const, value: lists.follower.join(',') },
      ],
    })),
  ]);
}

/** Removes the rates from `brokers` and the replica lists from `topics` (Kafka's clearAllThrottles). */
export async function clearThrottles(admin: Admin, brokers: readonly number[], topics: readonly string[]): Promise<void> {
  await admin.incrementalAlterConfigs([
    ...brokers.map((b) => ({ type: 'broker' as const, name: String(b), changes: BROKER_THROTTLE_CONFIGS.map((name) => ({ name, op: 'delete' as const })) })),
    ...[...new Set(topics)].map((t) => ({ type: 'topic' as const, name: t, changes: TOPIC_THROTTLE_CONFIGS.map((name) => ({ name, op: 'delete' as const })) })),
  ]);
}
