/**
 * Standby replicas (`num.standby.replicas`): copies of other instances' task stores kept up to
 * date by following their changelogs, so that a task moving here after a failure restores only
 * the last few records instead of the whole changelog. Placement is computed from the group's
 * assignment (every member computes the same): a task's standbys go to the members after its
 * active owner in member-id order.
 */
import { rmSync } from 'node:fs';
import { Consumer, type ConsumerBatch, type GroupDescription } from '@sluice/client';
import { taskIdString, type TaskId } from '../processor/processor.js';
import { deleteCheckpoint, readCheckpoint, writeCheckpoint } from './restore.js';
import type { StreamTask } from './task.js';

export interface StandbyEntry {
  task: StreamTask;
  /** Next changelog offset to apply, by store name. */
  positions: Map<string, bigint>;
}

/** The tasks `memberId` keeps standbys for, given every member's active tasks. */
export function standbyPlacement(group: GroupDescription, topicToSub: ReadonlyMap<string, number>, memberId: string, replicas: number): TaskId[] {
  const members = [...group.members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  const n = Math.min(replicas, members.length - 1);
  const me = members.findIndex((m) => m.memberId === memberId);
  if (n <= 0 || me < 0) return [];
  const out = new Map<string, TaskId>();
  members.forEach((m, ownerIndex) => {
    const distance = (me - ownerIndex + members.length) % members.length;
    if (distance === 0 || distance > n) return;
    for (const a of m.assignment) {
      const sub = topicToSub.get(a.topic);
      if (sub === undefined) continue;
      for (const partition of a.partitions) out.set(`${sub}_${partition}`, { subtopology: sub, partition });
    }
  });
  return [...out.values()];
}

export class StandbyTasks {
  private readonly entries = new Map<string, StandbyEntry>();
  private consumer: Consumer | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly options: {
      brokers: string[];
      clientId: string;
      readCommitted: boolean;
      createTask(id: TaskId): StreamTask;
      changelogTopic(store: string): string;
    },
  ) {}

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Keeps standbys for exactly these tasks (minus those running here actively). */
  async update(ids: TaskId[], active: ReadonlySet<string>): Promise<void> {
    const wanted = new Map(ids.filter((id) => !active.has(taskIdString(id))).map((id) => [taskIdString(id), id]));
    for (const [name, entry] of this.entries) {
      if (wanted.has(name)) continue;
      this.closeEntry(entry);
      this.entries.delete(name);
    }
    for (const [name, id] of wanted) {
      if (this.entries.has(name)) continue;
      const task = this.options.createTask(id);
      const checkpoint = readCheckpoint(task.directory);
      if (!checkpoint) rmSync(task.directory, { recursive: true, force: true });
      task.openStores();
      deleteCheckpoint(task.directory);
      const positions = new Map<string, bigint>();
      for (const s of task.stores.values()) if (s.loggingEnabled) positions.set(s.name, s.persistent ? (checkpoint?.get(s.name) ?? 0n) : 0n);
      this.entries.set(name, { task, positions });
    }
    await this.reassign();
  }

  /** Hands a standby over to run actively; its stores stay open. */
  take(name: string): StandbyEntry | undefined {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    return entry;
  }

  private async reassign(): Promise<void> {
    const tps = [...this.entries.values()].flatMap((e) => [...e.positions.keys()].map((store) => ({ topic: this.options.changelogTopic(store), partition: e.task.id.partition, store, entry: e })));
    if (!this.consumer) {
      if (tps.length === 0) return;
      this.consumer = new Consumer({ brokers: this.options.brokers, clientId: `${this.options.clientId}-standby-consumer`, isolationLevel: this.options.readCommitted ? 'read_committed' : 'read_uncommitted', autoOffsetReset: 'earliest' });
      this.loop = this.run(this.consumer);
    }
    await this.consumer.assign(tps.map((t) => ({ topic: t.topic, partition: t.partition })));
    for (const t of tps) this.consumer.seek({ topic: t.topic, partition: t.partition }, t.entry.positions.get(t.store) as bigint);
  }

  private async run(consumer: Consumer): Promise<void> {
    let next: Promise<ConsumerBatch | null> | null = null;
    while (!this.closed) {
      next ??= consumer.poll(5000);
      const batch = await Promise.race([next, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200))]);
      if (batch === 'tick') continue;
      next = null;
      if (batch === null) return;
      // A task taken over (or dropped) meanwhile is skipped: its new owner restores from its own position.
      for (const entry of this.entries.values()) {
        if (entry.task.id.partition !== batch.partition) continue;
        for (const [store, position] of entry.positions) {
          if (this.options.changelogTopic(store) !== batch.topic) continue;
          const records = batch.records.filter((r) => r.offset >= position);
          if (records.length === 0) continue;
          entry.task.stores.get(store)?.restore(records.map((r) => ({ key: r.key as Buffer, value: r.value })));
          entry.positions.set(store, records[records.length - 1].offset + 1n);
        }
      }
    }
  }

  private closeEntry(entry: StandbyEntry): void {
    entry.task.flushStores();
    const persistent = [...entry.task.stores.values()].filter((s) => s.persistent).map((s) => s.name);
    entry.task.close();
    if (persistent.length) writeCheckpoint(entry.task.directory, new Map(persistent.map((s) => [s, entry.positions.get(s) ?? 0n])));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) this.closeEntry(entry);
    this.entries.clear();
    await this.consumer?.close().catch(() => undefined);
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000))]);
  }
}
