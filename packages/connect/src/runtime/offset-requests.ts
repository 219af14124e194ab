/**
 * The offsets endpoints' shared parts (KIP-875), for the standalone and distributed herders alike:
 * reading a PATCH body into partition/offset writes, and altering a sink connector's offsets,
 * which are the committed offsets of its consumer group `connect-<name>`.
 */
import type { Admin } from '@sluice/client';
import { RestError } from './rest-error.js';
import type { OffsetWrite } from './offset-store.js';
import { sinkGroupId } from './worker-sink-task.js';

/** The writes of a PATCH /connectors/{name}/offsets body, in Kafka Connect's shape and wording. */
export function offsetWritesOf(body: unknown): OffsetWrite[] {
  const list = (body as { offsets?: unknown } | null | undefined)?.offsets;
  if (!Array.isArray(list) || list.length === 0) throw new RestError(400, 'Offsets must be specified and should not be empty');
  return list.map((item: unknown) => {
    const o = item as { partition?: unknown; offset?: unknown } | null;
    if (!o || typeof o.partition !== 'object' || o.partition === null) throw new RestError(400, 'Partitions / offsets need to be provided for an alter offsets request');
    return { partition: o.partition as Record<string, unknown>, offset: (o.offset ?? null) as Record<string, unknown> | null };
  });
}

/** Sets (or, for a null offset, deletes) the committed offsets of a sink connector's group. */
export async function alterSinkOffsets(admin: Admin, connector: string, writes: OffsetWrite[]): Promise<void> {
  const sets: Array<{ topic: string; partition: number; offset: bigint }> = [];
  for (const w of writes) {
    const topic = w.partition.kafka_topic;
    const partition = w.partition.kafka_partition;
    if (typeof topic !== 'string' || typeof partition !== 'number') throw new RestError(400, 'Sink connector offsets need "kafka_topic" and "kafka_partition" in each partition');
    if (w.offset === null) {
      await admin.deleteConsumerGroupOffsets(sinkGroupId(connector), topic, [partition]);
      continue;
    }
    const off = w.offset.kafka_offset;
    if ((typeof off !== 'number' && typeof off !== 'bigint') || off < 0 || (typeof off === 'number' && !Number.isInteger(off))) {
      throw new RestError(400, 'Sink connector offsets need a non-negative "kafka_offset"');
    }
    sets.push({ topic, partition, offset: BigInt(off) });
  }
  if (sets.length) await admin.alterConsumerGroupOffsets(sinkGroupId(connector), sets);
}

/** A sink connector's offsets as GET /connectors/{name}/offsets shows them. */
export async function sinkOffsets(admin: Admin, connector: string): Promise<Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }>> {
  const committed = await admin.listConsumerGroupOffsets(sinkGroupId(connector));
  return committed
    .filter((o) => o.offset >= 0n)
    .map((o) => ({ partition: { kafka_topic: o.topic, kafka_partition: o.partition }, offset: { kafka_offset: o.offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o.offset) : o.offset } }));
}
