/**
 * The coordinator's persistence: the compacted internal topic `__consumer_offsets`. Created on
 * first use (as Kafka does on the first FindCoordinator), written one batch per coordinator
 * operation (so a commit of many partitions is atomic in the log), and read back whole at start-up.
 */
import { buildRecordBatch, ErrorCode, iterateRecordBatches, KafkaError, type CompressionType } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { partitionForGroup } from './records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface CoordinatorRecord {
  key: Buffer;
  /** Null: a tombstone. */
  value: Buffer | null;
}

export interface LoadedRecord extends CoordinatorRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
}

export class OffsetsLog {
  constructor(private readonly broker: BrokerContext) {
    broker.topics.registerInternalTopic(OFFSETS_TOPIC, () => ({
      numPartitions: broker.config.int('offsets.topic.num.partitions'),
      replicationFactor: 1,
      configs: {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': String(broker.config.int('offsets.topic.segment.bytes')),
      },
    }));
  }

  /** The partition count of the topic if it exists, else the configured one. */
  get partitionCount(): number {
    return this.broker.topics.get(OFFSETS_TOPIC)?.partitions.length ?? this.broker.config.int('offsets.topic.num.partitions');
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  get exists(): boolean {
    return this.broker.topics.get(OFFSETS_TOPIC) !== undefined;
  }

  /**
   * Creates the topic when it does not exist yet, the same way whoever asks first (FindCoordinator,
   * a commit, or a client's Metadata request for it): compacted, offsets.topic.num.partitions.
   */
  async ensureTopic(): Promise<void> {
    if (!this.exists) await this.broker.topics.autoCreate(OFFSETS_TOPIC);
  }

  /** Appends the records as one batch to the group's partition; resolves once appended. */
  async append(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureTopic();
    const partition = this.partitionFor(groupId);
    const topic = this.broker.topics.get(OFFSETS_TOPIC);
    const assignment = topic?.partitions[partition];
    const log = this.broker.topics.partitionLog(OFFSETS_TOPIC, partition);
    if (!assignment || !log) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partition} is not available`);
    const now = BigInt(Date.now());
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
      { compression: this.broker.config.int('offsets.topic.compression.codec') as CompressionType },
    );
    await log.append(batch, { leaderEpoch: assignment.leaderEpoch });
    log.highWatermark = log.logEndOffset;
    this.broker.waiters.notify(OFFSETS_TOPIC, partition);
  }

  /** Every record of every partition, in log order per partition (partitions one after another). */
  async *readAll(): AsyncGenerator<LoadedRecord, void, void> {
    const topic = this.broker.topics.get(OFFSETS_TOPIC);
    if (!topic) return;
    const chunk = this.broker.config.int('offsets.load.buffer.size');
    for (const p of topic.partitions) {
      const log = this.broker.topics.partitionLog(OFFSETS_TOPIC, p.partition);
      if (!log) continue;
      let offset = log.logStartOffset;
      const end = log.logEndOffset;
      while (offset < end) {
        const read = await log.read(offset, chunk, { maxOffset: end, minOneBatch: true });
        if (read.records.length === 0) break;
        let next = offset;
        for (const batch of iterateRecordBatches(read.records)) {
          next = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
          if (batch.attributes.isControl) continue;
          for (const record of batch.records) {
            if (!record.key) continue;
            yield { partition: p.partition, offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value };
          }
        }
        if (next <= offset) break;
        offset = next;
      }
    }
  }
}
