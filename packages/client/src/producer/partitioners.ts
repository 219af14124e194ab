/**
 * Partitioners. The default hashes keys with murmur2 exactly as the Java client and librdkafka's
 * `murmur2_random` do (so a key lands on the same partition whichever client wrote it) and spreads
 * null keys with the sticky strategy: one partition per topic until a batch for it is sent.
 */

export interface PartitionerInput {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  partitionCount: number;
}

/** Returns a partition index in [0, partitionCount). */
export type Partitioner = (input: PartitionerInput) => number;

/** A partitioner that wants to hear when the accumulator closes a batch (sticky partitioning). */
export interface StatefulPartitioner {
  partition: Partitioner;
  onBatchClosed?(topic: string, partition: number, partitionCount: number): void;
}

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Java `Utils.murmur2`), as a signed 32-bit int. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[length4 + 2] << 16;
  if (tail >= 2) h ^= data[length4 + 1] << 8;
  if (tail >= 1) {
    h ^= data[length4];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the Java client's default partitioner picks for a non-null key. */
export function murmur2Partition(key: Buffer, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

function randomPartition(count: number, avoid = -1): number {
  if (count <= 1) return 0;
  let p = Math.floor(Math.random() * count);
  if (p === avoid) p = (p + 1 + Math.floor(Math.random() * (count - 1))) % count;
  return p;
}

/** murmur2 for keys; sticky for null keys (KIP-480). */
export function defaultPartitioner(): StatefulPartitioner {
  const sticky = new Map<string, number>();
  return {
    partition({ topic, key, partitionCount }) {
      if (key !== null) return murmur2Partition(key, partitionCount);
      let p = sticky.get(topic);
      if (p === undefined || p >= partitionCount) {
        p = randomPartition(partitionCount);
        sticky.set(topic, p);
      }
      return p;
    },
    onBatchClosed(topic, partition, partitionCount) {
      if (sticky.get(topic) === partition) sticky.set(topic, randomPartition(partitionCount, partition));
    },
  };
}

/** librdkafka's `murmur2_random`: murmur2 for keys, a random partition per null-key record. */
export function murmur2RandomPartitioner(): StatefulPartitioner {
  return {
    partition: ({ key, partitionCount }) => (key !== null ? murmur2Partition(key, partitionCount) : randomPartition(partitionCount)),
  };
}

/** Every record to the next partition in turn, keys ignored. */
export function roundRobinPartitioner(): StatefulPartitioner {
  const next = new Map<string, number>();
  return {
    partition({ topic, partitionCount }) {
      const n = next.get(topic) ?? 0;
      next.set(topic, n + 1);
      return n % partitionCount;
    },
  };
}

export type PartitionerOption = 'default' | 'murmur2_random' | 'roundrobin' | Partitioner | StatefulPartitioner;

export function resolvePartitioner(option: PartitionerOption | undefined): StatefulPartitioner {
  if (option === undefined || option === 'default') return defaultPartitioner();
  if (option === 'murmur2_random') return murmur2RandomPartitioner();
  if (option === 'roundrobin') return roundRobinPartitioner();
  if (typeof option === 'function') return { partition: option };
  return option;
}
