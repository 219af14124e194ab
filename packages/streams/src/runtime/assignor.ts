/**
 * The Streams partition assignor: hands out whole tasks — a sub-topology's source partitions with
 * the same partition number — so that a task's co-partitioned inputs (a join's two topics) are
 * always consumed by the same instance. Tasks stay with the member that owned them when the
 * balance allows (sticky), the rest go to the least-loaded member.
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

export function streamsAssignor(layout: TaskLayout): Assignor {
  return {
    name: 'stream',
    protocol: 'eager',
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
      for (const m of ordered) for (const tp of m.owned) {
        const sub = topicToSub.get(tp.topic);
        if (sub !== undefined) previous.set(`${sub}_${tp.partition}`, m.memberId);
      }
      const owner = new Map<string, string>();
      for (const t of tasks) {
        const prev = previous.get(`${t.subtopology}_${t.partition}`);
        if (prev && (load.get(prev) ?? Infinity) < quota) {
          owner.set(`${t.subtopology}_${t.partition}`, prev);
          load.set(prev, (load.get(prev) as number) + 1);
        }
      }
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
