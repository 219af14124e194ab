/**
 * State restoration: copies a task's changelog partitions back into its stores, from the store's
 * checkpoint (persistent stores closed cleanly) or from the beginning, up to the end offset
 * (the last stable offset under exactly-once). Checkpoints are `<task dir>/.checkpoint`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, Consumer, OffsetSpec } from '@sluice/client';
import type { StateStore } from '../state/store.js';

export interface StateRestoreListener {
  onRestoreStart?(topic: string, partition: number, storeName: string, startOffset: number, endOffset: number): void;
  onBatchRestored?(topic: string, partition: number, storeName: string, batchEndOffset: number, numRestored: number): void;
  onRestoreEnd?(topic: string, partition: number, storeName: string, totalRestored: number): void;
}

export function readCheckpoint(taskDirectory: string): Map<string, bigint> | null {
  const file = join(taskDirectory, '.checkpoint');
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    return new Map(Object.entries(parsed).map(([k, v]) => [k, BigInt(v)]));
  } catch {
    return null;
  }
}

export function writeCheckpoint(taskDirectory: string, offsets: Map<string, bigint>): void {
  mkdirSync(taskDirectory, { recursive: true });
  const file = join(taskDirectory, '.checkpoint');
  writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries([...offsets].map(([k, v]) => [k, String(v)]))));
  renameSync(`${file}.tmp`, file);
}

export function deleteCheckpoint(taskDirectory: string): void {
  rmSync(join(taskDirectory, '.checkpoint'), { force: true });
}

export interface RestoreTarget {
  store: StateStore;
  topic: string;
  partition: number;
  /** Where to start (a checkpoint), or null for the beginning. */
  from: bigint | null;
}

export interface RestoreResult {
  records: number;
  /** The changelog end offset each store is now caught up to, by store name. */
  endOffsets: Map<string, bigint>;
}

/** Restores every target; resolves when all are caught up with their changelog's end. */
export async function restoreStores(
  options: { brokers: string[]; clientId: string; readCommitted: boolean; admin: Admin; listener?: StateRestoreListener; isClosed: () => boolean },
  targets: RestoreTarget[],
): Promise<RestoreResult> {
  const endOffsets = new Map<string, bigint>();
  let total = 0;
  const pending: Array<RestoreTarget & { end: bigint; start: bigint; restored: number }> = [];
  for (const t of targets) {
    const [end] = await options.admin.listOffsets(t.topic, OffsetSpec.latest, [t.partition], options.readCommitted ? 1 : 0);
    const [earliest] = await options.admin.listOffsets(t.topic, OffsetSpec.earliest, [t.partition]);
    const start = t.from !== null && t.from >= earliest.offset ? t.from : earliest.offset;
    endOffsets.set(t.store.name, end.offset);
    if (start >= end.offset) continue;
    options.listener?.onRestoreStart?.(t.topic, t.partition, t.store.name, Number(start), Number(end.offset));
    pending.push({ ...t, end: end.offset, start, restored: 0 });
  }
  if (pending.length === 0) return { records: 0, endOffsets };
  const consumer = new Consumer({ brokers: options.brokers, clientId: `${options.clientId}-restore-consumer`, isolationLevel: options.readCommitted ? 'read_committed' : 'read_uncommitted', autoOffsetReset: 'earliest' });
  try {
    await consumer.assign(pending.map((p) => ({ topic: p.topic, partition: p.partition })));
    for (const p of pending) consumer.seek({ topic: p.topic, partition: p.partition }, p.start);
    const byTp = new Map(pending.map((p) => [`${p.topic}-${p.partition}`, p]));
    const done = (): boolean => pending.every((p) => (consumer.position({ topic: p.topic, partition: p.partition }) ?? 0n) >= p.end);
    let next: Promise<Awaited<ReturnType<typeof consumer.poll>>> | null = null;
    while (!done()) {
      if (options.isClosed()) throw new Error('closed during restoration');
      next ??= consumer.poll(10_000);
      const batch = await Promise.race([next, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 200))]);
      if (batch === 'tick') continue;
      next = null;
      if (batch === null) break;
      const p = byTp.get(`${batch.topic}-${batch.partition}`);
      if (!p) continue;
      const records = batch.records.filter((r) => r.offset < p.end);
      if (records.length === 0) continue;
      p.store.restore(records.map((r) => ({ key: r.key as Buffer, value: r.value })));
      p.restored += records.length;
      total += records.length;
      options.listener?.onBatchRestored?.(p.topic, p.partition, p.store.name, Number(records[records.length - 1].offset), records.length);
    }
    for (const p of pending) {
      p.store.flush();
      options.listener?.onRestoreEnd?.(p.topic, p.partition, p.store.name, p.restored);
    }
  } finally {
    await consumer.close().catch(() => undefined);
  }
  return { records: total, endOffsets };
}
