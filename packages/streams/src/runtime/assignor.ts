/**
 * The Streams partition assignor: hands out whole tasks — a sub-topology's source partitions with
 * the same partition number — so that a task's co-partitioned inputs (a join's two topics) are
 * always consumed by the same instance. Tasks stay with the member that ran them when the balance
 * allows (sticky), then go to a member holding a standby of them, the rest to the least-loaded
 * member. Under the eager protocol a member gives up its partitions before it joins, so it says
 * which tasks it ran (and which it keeps standbys of) in its subscription's user data, as Kafka
 * Streams' SubscriptionInfo does; its owned partitions are the fallback.
 */
import type { Assignor, MemberSubscription, TopicPartition } from '@sluice/client';
import type { TaskId } from '../processor/processor.js';

export interface TaskLayout {
  /** Resolved source topic names of each sub-topology, by sub-topology id. */
  sourceTopics: Map<number, string[]>;
}

export function tasksOf(layout: TaskLayout, partitionsPerTopic: ReadonlyMap<string, number>): TaskId[] {
  const tasks: TaskId[] = [];
  for (const [subtopology, topics] of layout.sourceTopics) {
    const counts = topics.map((t) => partitionsPerTopic.get(t) ?? 0);
    const n = Math.max(0, ...counts);
    for (let partition = 0; partition < n; partition++) tasks.push({ subtopology, partition });
  }
  return tasks;
}

/** What an instance held before this rebalance, by task id string ("0_1"). */
export interface PreviousTasks {
  active: string[];
  standby: string[];
}

const USER_DATA_VERSION = 1;

export function encodePreviousTasks(previous: PreviousTasks): Buffer {
  return Buffer.from(JSON.stringify({ version: USER_DATA_VERSION, active: previous.active, standby: previous.standby }));
}

/** The previous tasks a member's user data names; null for none or a format this version does not know. */
export function decodePreviousTasks(userData: Buffer | null | undefined): PreviousTasks | null {
  if (!userData || userData.length === 0) return null;
  try {
    const v = JSON.parse(userData.toString()) as { version?: unknown; active?: unknown; standby?: unknown };
    const strings = (x: unknown) => (Array.isArray(x) ? x.filter((e): e is string => typeof e === 'string') : []);
    return v.version === USER_DATA_VERSION ? { active: strings(v.active), standby: strings(v.standby) } : null;
  } catch {
    return null;
  }
}

export function streamsAssignor(layout: TaskLayout, previousTasks?: () => PreviousTasks): Assignor {
  return {
    name: 'stream',
    protocol: 'eager',
    subscriptionUserData: previousTasks ? () => encodePreviousTasks(previousTasks()) : undefined,
    assign(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
      const result = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
      if (members.length === 0) return result;
      const ordered = [...members].sort((a, b) => ((a.groupInstanceId ?? a.memberId) < (b.groupInstanceId ?? b.memberId) ? -1 : 1));
      const tasks = tasksOf(layout, partitionsPerTopic);
      const quota = Math.ceil(tasks.length / ordered.length);
      const load = new Map(ordered.map((m) => [m.memberId, 0]));
      const topicToSub = new Map<string, number>();
      for (const [sub, topics] of layout.sourceTopics) for (const t of topics) topicToSub.set(t, sub);
      const previous = new Map<string, string>();
      const standbyHolders = new Map<string, string[]>();
      for (const m of ordered) {
        const said = decodePreviousTasks(m.userData);
        if (said) {
          for (const id of said.active) previous.set(id, m.memberId);
          for (const id of said.standby) standbyHolders.set(id, [...(standbyHolders.get(id) ?? []), m.memberId]);
        }
        for (const tp of m.owned) {
          const sub = topicToSub.get(tp.topic);
          if (sub !== undefined) previous.set(`${sub}_${tp.partition}`, m.memberId);
        }
      }
      const owner = new Map<string, string>();
      const take = (id: string, candidate: string | undefined) => {
        if (owner.has(id) || candidate === undefined || !load.has(candidate) || (load.get(candidate) as number) >= quota) return;
        owner.set(id, candidate);
        load.set(candidate, (load.get(candidate) as number) + 1);
      };
      for (const t of tasks) take(`${t.subtopology}_${t.partition}`, previous.get(`${t.subtopology}_${t.partition}`));
      // A standby's state is restored already: the next best home for a task whose owner left.
      for (const t of tasks) for (const m of standbyHolders.get(`${t.subtopology}_${t.partition}`) ?? []) take(`${t.subtopology}_${t.partition}`, m);
      for (const t of tasks) {
        const id = `${t.subtopology}_${t.partition}`;
        if (owner.has(id)) continue;
        let best = ordered[0].memberId;
        for (const m of ordered) if ((load.get(m.memberId) as number) < (load.get(best) as number)) best = m.memberId;
        owner.set(id, best);
        load.set(best, (load.get(best) as number) + 1);
      }
      for (const t of tasks) {
        const member = owner.get(`${t.subtopology}_${t.partition}`) as string;
        for (const topic of layout.sourceTopics.get(t.subtopology) ?? []) {
          if (t.partition < (partitionsPerTopic.get(topic) ?? 0)) (result.get(member) as TopicPartition[]).push({ topic, partition: t.partition });
        }
      }
      return result;
    },
  };
}
