/**
 * The group coordinator's persistence: the compacted internal topic `__consumer_offsets`, created
 * on first use (as Kafka does on the first FindCoordinator), and the one adapter between the
 * coordinator runtime's CoordinatorPartition and the broker's partition layer (ReplicaManager /
 * Partition, which own the high watermark). Each coordinator operation
 * is one batch, so a commit of many partitions is atomic in the log.
 */
import { buildRecordBatch, ErrorCode, iterateRecordBatches, KafkaError, type CompressionType } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { CoordinatorPartition, CoordinatorRecord, ReplayedRecord } from '../coordinator/partition.js';
import type { Partition } from '../replica/partition.js';
import { partitionForGroup } from './records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export class OffsetsLog {
  constructor(private readonly broker: BrokerContext) {
    broker.topics.registerInternalTopic(OFFSETS_TOPIC, () => ({
      numPartitions: broker.config.int('offsets.topic.num.partitions'),
      replicationFactor: broker.config.int('offsets.topic.replication.factor'),
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

  /** The CoordinatorPartition of one partition of the topic (which may not exist yet). */
  partition(partition: number): CoordinatorPartition {
    const hosted = (p: number) => this.hosted(p);
    return {
      append: (records) => this.append(partition, records),
      get highWatermark() {
        return hosted(partition)?.highWatermark ?? 0n;
      },
      // By name: the partition may not exist until the first append creates the topic.
      onHighWatermark: (listener) => this.broker.replicaManager.watchHighWatermark(OFFSETS_TOPIC, partition, listener),
      read: () => this.read(partition),
    };
  }

  private hosted(partition: number): Partition | undefined {
    return this.broker.replicaManager.getPartition(OFFSETS_TOPIC, partition);
  }

  /** Appends the records as one batch to the partition as its leader; resolves once appended. */
  private async append(partition: number, records: readonly CoordinatorRecord[]): Promise<{ lastOffset: bigint }> {
    await this.ensureTopic();
    const { partition: target, errorCode } = this.broker.replicaManager.lookup(OFFSETS_TOPIC, partition);
    if (!target) throw new KafkaError(errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC}-${partition} is not available`);
    const now = BigInt(Date.now());
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
      { compression: this.broker.config.int('offsets.topic.compression.codec') as CompressionType },
    );
    // acks=1: the runtime itself waits for the high watermark before acknowledging.
    const appended = await this.broker.replicaManager.appendRecords(target, batch, { acks: 1, timeoutMs: 0, origin: 'coordinator' });
    if (appended.errorCode !== ErrorCode.NONE) throw new KafkaError(appended.errorCode, appended.errorMessage ?? `append to ${OFFSETS_TOPIC}-${partition} failed`);
    return { lastOffset: appended.lastOffset };
  }

  /** Every data record of the partition, in log order (to its end, which is the HW on one broker). */
  private async *read(partition: number): AsyncGenerator<ReplayedRecord, void, void> {
    const hosted = this.hosted(partition);
    if (!hosted) return;
    const chunk = this.broker.config.int('offsets.load.buffer.size');
    let offset = hosted.logStartOffset;
    const end = hosted.logEndOffset;
    while (offset < end) {
      const read = await hosted.read(offset, chunk, { maxOffset: end, minOneBatch: true });
      if (read.records.length === 0) break;
      let next = offset;
      for (const batch of iterateRecordBatches(read.records)) {
        next = batch.header.baseOffset + BigInt(batch.header.lastOffsetDelta) + 1n;
        if (batch.attributes.isControl) continue;
        for (const record of batch.records) {
          if (!record.key) continue;
          yield { offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value };
        }
      }
      if (next <= offset) break;
      offset = next;
    }
  }
}
