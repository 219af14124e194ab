/**
 * The group coordinator's persistence: the compacted internal topic `__consumer_offsets`, created
 * on first use (as Kafka does on the first FindCoordinator), whose partitions the coordinator
 * runtime reaches through coordinator/internal-topic-partition.ts.
 */
import type { CompressionType } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { internalTopicPartition } from '../coordinator/internal-topic-partition.js';
import type { CoordinatorPartition } from '../coordinator/partition.js';
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
    return internalTopicPartition(
      this.broker,
      {
        topic: OFFSETS_TOPIC,
        ensureTopic: () => this.ensureTopic(),
        // The runtime itself waits for the high watermark before acknowledging.
        acks: 1,
        compression: () => this.broker.config.int('offsets.topic.compression.codec') as CompressionType,
        loadBufferSize: () => this.broker.config.int('offsets.load.buffer.size'),
      },
      partition,
    );
  }
}
