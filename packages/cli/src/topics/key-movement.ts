/**
 * What growing a topic's partition count does to keyed records: the default partitioner maps a
 * key to murmur2(key) % partitionCount, so most keys land elsewhere once the count changes and
 * per-key ordering breaks for consumers (old records of a key on one partition, new ones on
 * another). This samples the newest records of every partition and reports which keys would move.
 */
import { Consumer, OffsetSpec, murmur2Partition, type Admin, type ConsumerBatch } from '@sluice/client';

export interface KeyMovement {
  topic: string;
  fromPartitions: number;
  toPartitions: number;
  sampledRecords: number;
  keyedRecords: number;
  distinctKeys: number;
  /** Distinct keys whose new partition differs from the partition they are on now. */
  movingKeys: number;
  /** Keys found on a partition other than the default partitioner's choice (a custom partitioner). */
  keysNotOnDefaultPartition: number;
  /** `from -> to` with the number of distinct keys moving that way, busiest first. */
  moves: Array<{ from: number; to: number; keys: number }>;
  examples: Array<{ key: string; from: number; to: number }>;
}

export interface SampledRecord {
  partition: number;
  key: Buffer | null;
}

/** Sampling is best effort: after this long the records read so far are the sample. */
const SAMPLE_TIMEOUT_MS = 30_000;

/**
 * Reads up to `perPartition` of the newest records of each partition with a group-less consumer
 * (assign + seek to end - perPartition), stopping at the end offsets listed when it started.
 */
export async function sampleRecentRecords(admin: Admin, topic: string, partitionCount: number, perPartition: number): Promise<SampledRecord[]> {
  const partitions = Array.from({ length: partitionCount }, (_, i) => i);
  const [ends, starts] = await Promise.all([admin.listOffsets(topic, OffsetSpec.latest, partitions), admin.listOffsets(topic, OffsetSpec.earliest, partitions)]);
  const endOf = new Map(ends.map((e) => [e.partition, e.offset]));
  const wanted = starts
    .map(({ partition, offset: start }) => {
      const end = endOf.get(partition) ?? start;
      const from = end - BigInt(perPartition) > start ? end - BigInt(perPartition) : start;
      return { partition, from, end };
    })
    .filter((w) => w.from < w.end);
  if (wanted.length === 0) return [];
  const consumer = new Consumer({ ...admin.cluster.options, clientId: `${admin.cluster.clientId}-sampler` });
  const out: SampledRecord[] = [];
  try {
    await consumer.assign(wanted.map((w) => ({ topic, partition: w.partition })));
    for (const w of wanted) consumer.seek({ topic, partition: w.partition }, w.from);
    const open = new Set(wanted.map((w) => w.partition));
    const deadline = Date.now() + SAMPLE_TIMEOUT_MS;
    const finish = (partition: number): void => {
      open.delete(partition);
      consumer.pause([{ topic, partition }]);
    };
    // A poll left waiting when the loop ends is answered by close(); never leave it unhandled.
    const nextPoll = (): Promise<ConsumerBatch | null> => {
      const p = consumer.poll();
      p.catch(() => undefined);
      return p;
    };
    let pendingPoll = nextPoll();
    while (open.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), 250)));
      const batch = await Promise.race([pendingPoll, tick]);
      clearTimeout(timer);
      if (batch === null) break;
      if (batch !== 'tick') {
        pendingPoll = nextPoll();
        const end = endOf.get(batch.partition)!;
        for (const r of batch.records) if (r.offset < end) out.push({ partition: batch.partition, key: r.key });
        if (batch.records[batch.records.length - 1].offset + 1n >= end) finish(batch.partition);
      }
      // A range ending in transaction markers yields no record at its end: go by position.
      for (const p of [...open]) if ((consumer.position({ topic, partition: p }) ?? -1n) >= endOf.get(p)!) finish(p);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

export function analyseKeyMovement(topic: string, records: readonly SampledRecord[], fromPartitions: number, toPartitions: number): KeyMovement {
  const keyHome = new Map<string, { key: Buffer; partition: number }>();
  let keyed = 0;
  for (const r of records) {
    if (r.key === null) continue;
    keyed++;
    // The newest partition of a key is where its ordering continues from.
    keyHome.set(`${r.key.toString('base64')}`, { key: r.key, partition: r.partition });
  }
  const moves = new Map<string, { from: number; to: number; keys: number }>();
  const examples: KeyMovement['examples'] = [];
  let moving = 0;
  let offDefault = 0;
  for (const { key, partition } of keyHome.values()) {
    if (murmur2Partition(key, fromPartitions) !== partition) offDefault++;
    const to = murmur2Partition(key, toPartitions);
    if (to === partition) continue;
    moving++;
    const id = `${partition}->${to}`;
    const m = moves.get(id) ?? { from: partition, to, keys: 0 };
    m.keys++;
    moves.set(id, m);
    if (examples.length < 5) examples.push({ key: printableKey(key), from: partition, to });
  }
  return {
    topic,
    fromPartitions,
    toPartitions,
    sampledRecords: records.length,
    keyedRecords: keyed,
    distinctKeys: keyHome.size,
    movingKeys: moving,
    keysNotOnDefaultPartition: offDefault,
    moves: [...moves.values()].sort((a, b) => b.keys - a.keys || a.from - b.from || a.to - b.to),
    examples,
  };
}

function printableKey(key: Buffer): string {
  const text = key.toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) && text.length <= 40 ? text : `0x${key.subarray(0, 16).toString('hex')}${key.length > 16 ? '…' : ''}`;
}
