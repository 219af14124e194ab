/**
 * What growing a topic's partition count does to keyed records: the default partitioner maps a
 * key to murmur2(key) % partitionCount, so most keys land elsewhere once the count changes and
 * per-key ordering breaks for consumers (old records of a key on one partition, new ones on
 * another). This samples the newest records of every partition and reports which keys would move.
 */
import { ApiKey, KafkaError, ProtocolError, iterateRecordBatches } from '@sluice/protocol';
import { OffsetSpec, murmur2Partition, type Admin } from '@sluice/client';

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

/** Reads up to `perPartition` of the newest records of each partition, one Fetch per partition. */
export async function sampleRecentRecords(admin: Admin, topic: string, partitionCount: number, perPartition: number): Promise<SampledRecord[]> {
  const partitions = Array.from({ length: partitionCount }, (_, i) => i);
  const [ends, starts] = await Promise.all([admin.listOffsets(topic, OffsetSpec.latest, partitions), admin.listOffsets(topic, OffsetSpec.earliest, partitions)]);
  const cluster = admin.cluster;
  const topicId = cluster.topic(topic)?.topicId;
  const out: SampledRecord[] = [];
  await Promise.all(
    ends.map(async ({ partition, offset: end }) => {
      const start = starts.find((s) => s.partition === partition)?.offset ?? 0n;
      const from = end - BigInt(perPartition) > start ? end - BigInt(perPartition) : start;
      let position = from;
      while (position < end) {
        const response = await cluster.withRetry(async () => {
          const c = await cluster.connectionTo(cluster.leaderOf(topic, partition));
          return c.request(ApiKey.Fetch, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 8 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [{ topic, topicId, partitions: [{ partition, fetchOffset: position, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
            forgottenTopicsData: [],
            rackId: '',
          });
        });
        const data = response.responses[0]?.partitions[0];
        if (!data) break;
        if (data.errorCode !== 0) throw new KafkaError(data.errorCode, `${topic}-${partition}`);
        let advanced = false;
        try {
          for (const batch of iterateRecordBatches(data.records ?? Buffer.alloc(0))) {
            for (const r of batch.records) {
              if (r.offset < position || r.offset >= end) continue;
              out.push({ partition, key: r.key });
              position = r.offset + 1n;
              advanced = true;
            }
            // Control batches and compacted-away tails still move the position on.
            const last = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
            if (last > position) {
              position = last;
              advanced = true;
            }
          }
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          break;
        }
        if (!advanced) break;
      }
    }),
  );
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
