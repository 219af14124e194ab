/**
 * Drives the ReplicaManager from the metadata (as Kafka's BrokerMetadataPublisher applies topic
 * deltas): it subscribes to the store's changes and makes each local replica what the metadata
 * says — leader, follower, stopped or deleted. Nothing else creates or removes partition logs, so
 * a topic written by any broker appears here the same way. Changes are applied one at a time, in
 * the order the store reported them.
 */
import type { TopicConfig } from '@sluice/storage';
import type { Logger } from '../logger.js';
import { partitionState, type MetadataChange, type MetadataStore, type PartitionRegistration, type TopicMetadata } from '../metadata/metadata-store.js';
import type { ReplicaManager } from './replica-manager.js';

export class MetadataReconciler {
  private chain: Promise<void> = Promise.resolve();
  /** Topic ids whose local replicas match the metadata: only those are shown to clients. */
  private readonly applied = new Set<string>();
  private started = false;

  constructor(
    private readonly nodeId: number,
    private readonly metadata: MetadataStore,
    private readonly replicaManager: ReplicaManager,
    private readonly configOf: (topic: TopicMetadata) => TopicConfig,
    private readonly logger: Logger,
  ) {}

  /** Applies the whole current metadata, then follows its changes. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.metadata.onChange((change) => this.enqueue(() => this.applyChange(change)));
    for (const topic of this.metadata.topics()) await this.applyTopic(topic);
  }

  /** True once the topic's local replicas have been made what the metadata says. */
  isApplied(topicId: string): boolean {
    return this.applied.has(topicId);
  }

  /** Resolves once every change reported so far has been applied locally. */
  caughtUp(): Promise<void> {
    return this.chain;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: unknown) => {
      this.logger.error(`applying a metadata change failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    });
  }

  private async applyChange(change: MetadataChange): Promise<void> {
    switch (change.kind) {
      case 'topic-created':
        return this.applyTopic(change.topic);
      case 'partitions-added': {
        const config = this.configOf(change.topic);
        for (const p of change.added) await this.applyPartition(change.topic, partitionState(p), config);
        return;
      }
      case 'partition-changed':
        return this.applyPartition(change.topic, change.current, this.configOf(change.topic));
      case 'topic-deleted':
        this.applied.delete(change.topic.topicId);
        return this.replicaManager.deleteTopic(change.topic.name);
      case 'topic-configs':
        this.replicaManager.updateTopicConfig(change.topic.name, this.configOf(change.topic));
        return;
      default:
        return;
    }
  }

  private async applyTopic(topic: TopicMetadata): Promise<void> {
    // Deleted (and perhaps re-created under a new id) before this change came up.
    if (this.metadata.topic(topic.name)?.topicId !== topic.topicId) return;
    const config = this.configOf(topic);
    for (const p of topic.partitions) await this.applyPartition(topic, partitionState(p), config);
    this.applied.add(topic.topicId);
  }

  /** Kafka's applyDelta for one partition: leader, follower, or no replica here. */
  private async applyPartition(topic: TopicMetadata, state: PartitionRegistration, config: TopicConfig): Promise<void> {
    if (this.metadata.topic(topic.name)?.topicId !== topic.topicId) return;
    const hosted = this.replicaManager.getPartition(topic.name, state.partition);
    if (!state.replicas.includes(this.nodeId)) {
      // Moved off this broker (a reassignment): Kafka deletes the replica's log too.
      if (hosted) await this.replicaManager.deleteReplica(topic.name, state.partition);
      return;
    }
    const role = state.leader === this.nodeId ? 'leader' : 'follower';
    if (hosted && !hosted.log.isClosed && hosted.role === role && hosted.leaderEpoch === state.leaderEpoch) {
      // Same leadership: only the ISR or the replicas (and the partition epoch) may have moved.
      if (hosted.state.partitionEpoch !== state.partitionEpoch) {
        hosted.updateState({ leader: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, replicas: state.replicas, isr: state.isr });
      }
      return;
    }
    const next = { leader: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, replicas: state.replicas, isr: state.isr };
    if (role === 'leader') await this.replicaManager.becomeLeader(topic.name, state.partition, next, config);
    else await this.replicaManager.becomeFollower(topic.name, state.partition, next, config);
  }
}
