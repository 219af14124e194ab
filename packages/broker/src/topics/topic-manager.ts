/**
 * Topic lifecycle on one broker: validation (names, partition counts, replication, assignments,
 * configs), then partition logs, then the metadata record. Logs are created before the record is
 * written, so a topic visible in metadata always has its logs; logs left behind by a crash in
 * between are removed at the next start.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { brokerTopicDefaults, parseTopicConfig, topicConfigDefinitions, type TopicConfig } from '@sluice/storage';
import type { BrokerConfig, DynamicLevel } from '../config/broker-config.js';
import type { Logger } from '../logger.js';
import { randomTopicId, type MetadataStore, type PartitionAssignment, type TopicMetadata } from '../metadata/metadata-store.js';
import { collidingTopic, isInternalTopic, topicNameProblem } from '../metadata/topic-name.js';
import type { Partition } from '../replica/partition.js';
import type { ReplicaManager } from '../replica/replica-manager.js';

export interface CreateTopicSpec {
  name: string;
  /** -1: num.partitions. */
  numPartitions: number;
  /** -1: default.replication.factor. */
  replicationFactor: number;
  /** Explicit replica assignment per partition (numPartitions and replicationFactor must be -1). */
  assignments?: { partitionIndex: number; brokerIds: number[] }[];
  configs?: Record<string, string>;
  validateOnly?: boolean;
}

const TOPIC_DELETION_DISABLED = 73;

/** The broker-config keys that supply topic-config defaults (log.retention.hours, …). */
export const TOPIC_DEFAULT_SYNONYMS: ReadonlySet<string> = new Set(topicConfigDefinitions.flatMap((d) => d.synonyms.map((s) => s.key)));

/**
 * The topic-default keys the broker sets explicitly (dynamically or statically), by value;
 * `proposed` stands in for one dynamic level, to check a change before making it.
 */
export function explicitTopicDefaults(config: BrokerConfig, proposed?: { level: DynamicLevel; values: Readonly<Record<string, string>> }): Record<string, string> {
  const props: Record<string, string> = {};
  for (const key of TOPIC_DEFAULT_SYNONYMS) {
    const value = config.explicitRaw(key, proposed);
    if (value !== null) props[key] = value;
  }
  return props;
}

export class TopicManager {
  private readonly pendingCreates = new Map<string, Promise<TopicMetadata>>();
  /** How internal topics are made when first asked for (e.g. __consumer_offsets by the group coordinator). */
  private readonly internalTopicSpecs = new Map<string, () => Omit<CreateTopicSpec, 'name'>>();

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataStore,
    private readonly replicaManager: ReplicaManager,
    private readonly logger: Logger,
  ) {
    config.onChange((changed) => {
      if (changed.some((k) => TOPIC_DEFAULT_SYNONYMS.has(k))) this.reapplyConfigs();
    });
  }

  /** Opens the logs of every topic in the metadata (creating any that are missing), as their leader. */
  async recover(): Promise<void> {
    for (const topic of this.metadata.topics()) {
      const config = this.topicConfig(topic);
      for (const p of topic.partitions) await this.openAsLeader(topic.name, p, config);
    }
  }

  /**
   * Opens (or creates) a partition's replica as its leader. This broker is the partition's only
   * replica, so its ISR is itself, and becoming leader raises the high watermark to the log end
   * (Kafka's makeLeader → maybeIncrementLeaderHW).
   */
  private openAsLeader(topic: string, assignment: PartitionAssignment, config: TopicConfig): Promise<Partition> {
    const state = { leader: assignment.leader, leaderEpoch: assignment.leaderEpoch, partitionEpoch: 0, replicas: assignment.replicas, isr: assignment.replicas };
    return this.replicaManager.becomeLeader(topic, assignment.partition, state, config);
  }

  /** Topic-config defaults from the broker's log.* settings (static and dynamic). */
  brokerTopicDefaults(): Record<string, string> {
    return brokerTopicDefaults(explicitTopicDefaults(this.config));
  }

  topicConfig(topic: TopicMetadata): TopicConfig {
    return parseTopicConfig(topic.configs, this.brokerTopicDefaults());
  }

  private reapplyConfigs(): void {
    for (const topic of this.metadata.topics()) {
      try {
        this.replicaManager.updateTopicConfig(topic.name, this.topicConfig(topic));
      } catch (err) {
        this.logger.error(`cannot apply new defaults to topic ${topic.name}: ${(err as Error).message}`);
      }
    }
  }

  get(name: string): TopicMetadata | undefined {
    return this.metadata.topic(name);
  }

  byId(topicId: string): TopicMetadata | undefined {
    return this.metadata.topicById(topicId);
  }

  all(): readonly TopicMetadata[] {
    return this.metadata.topics();
  }

  /** Validates and creates a topic; throws KafkaError with Kafka's code and message. */
  async create(spec: CreateTopicSpec): Promise<TopicMetadata> {
    const problem = topicNameProblem(spec.name);
    if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (this.metadata.topic(spec.name) || this.pendingCreates.has(spec.name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`);
    }
    const collision = collidingTopic(spec.name, this.metadata.topics().map((t) => t.name));
    if (collision) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${spec.name}' collides with existing topic: ${collision}`);
    const partitions = this.assignPartitions(spec);
    const configs = { ...(spec.configs ?? {}) };
    const config = parseTopicConfig(configs, this.brokerTopicDefaults());
    const topic: TopicMetadata = {
      name: spec.name,
      topicId: randomTopicId(),
      internal: isInternalTopic(spec.name),
      partitions,
      configs,
      createdAtMs: Date.now(),
    };
    if (spec.validateOnly) return topic;
    const creation = this.createLogsAndRecord(topic, config);
    this.pendingCreates.set(spec.name, creation);
    try {
      return await creation;
    } finally {
      this.pendingCreates.delete(spec.name);
    }
  }

  private async createLogsAndRecord(topic: TopicMetadata, config: TopicConfig): Promise<TopicMetadata> {
    for (const p of topic.partitions) await this.openAsLeader(topic.name, p, config);
    await this.metadata.createTopic(topic);
    this.logger.info(`created topic ${topic.name} (id ${topic.topicId}, ${topic.partitions.length} partition(s))`);
    return this.metadata.topic(topic.name)!;
  }

  /** Registers how an internal topic is created when auto-created (its partitions and configs). */
  registerInternalTopic(name: string, spec: () => Omit<CreateTopicSpec, 'name'>): void {
    this.internalTopicSpecs.set(name, spec);
  }

  /**
   * Auto-creation (Metadata, Produce): with the broker defaults (internal topics: with their
   * registered spec); concurrent callers for the same name share one creation.
   */
  autoCreate(name: string): Promise<TopicMetadata> {
    const pending = this.pendingCreates.get(name);
    if (pending) return pending;
    const existing = this.metadata.topic(name);
    if (existing) return Promise.resolve(existing);
    const spec = this.internalTopicSpecs.get(name)?.() ?? { numPartitions: -1, replicationFactor: -1 };
    return this.create({ ...spec, name }).catch((err: unknown) => {
      // Lost a race with an explicit CreateTopics: use what it made.
      if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
        const made = this.pendingCreates.get(name) ?? Promise.resolve(this.metadata.topic(name));
        return made.then((t) => {
          if (!t) throw err;
          return t;
        });
      }
      throw err;
    });
  }

  private assignPartitions(spec: CreateTopicSpec): PartitionAssignment[] {
    if (spec.assignments && spec.assignments.length > 0) {
      if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
      }
      const sorted = [...spec.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      return sorted.map((a, i) => {
        if (a.partitionIndex !== i) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence');
        }
        return { partition: i, replicas: this.checkReplicas(a.brokerIds, i), leader: this.nodeId, leaderEpoch: 0 };
      });
    }
    const count = spec.numPartitions === -1 ? this.config.int('num.partitions') : spec.numPartitions;
    if (count <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    const replication = spec.replicationFactor === -1 ? this.config.int('default.replication.factor') : spec.replicationFactor;
    if (replication <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    if (replication > 1) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replication} time(s): The target replication factor of ${replication} cannot be reached because only 1 broker(s) are registered.`,
      );
    }
    return Array.from({ length: count }, (_, partition) => ({ partition, replicas: [this.nodeId], leader: this.nodeId, leaderEpoch: 0 }));
  }

  private checkReplicas(brokerIds: number[], partition: number): number[] {
    if (brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} has no replicas.`);
    if (new Set(brokerIds).size !== brokerIds.length) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} lists a broker more than once: ${brokerIds.join(',')}`);
    }
    const unknown = brokerIds.filter((id) => id !== this.nodeId);
    if (unknown.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} names unknown broker(s) ${unknown.join(',')}`);
    return [...brokerIds];
  }

  /** Deletes a topic: gone from metadata at once, its data removed in the background. */
  async delete(name: string): Promise<TopicMetadata> {
    if (!this.config.bool('delete.topic.enable')) throw new KafkaError(TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    const topic = this.metadata.topic(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const removed = await this.metadata.deleteTopic(name);
    await this.replicaManager.deleteTopic(name);
    this.logger.info(`deleted topic ${name} (id ${removed.topicId})`);
    return removed;
  }

  /** CreatePartitions: counts only grow. */
  async addPartitions(name: string, count: number, assignments: { brokerIds: number[] }[] | null, validateOnly: boolean): Promise<void> {
    const topic = this.metadata.topic(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const current = topic.partitions.length;
    if (count < current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${count}.`);
    }
    if (count === current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
    if (assignments && assignments.length !== count - current) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${count - current} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
      );
    }
    const added: PartitionAssignment[] = [];
    for (let p = current; p < count; p++) {
      const replicas = assignments ? this.checkReplicas(assignments[p - current].brokerIds, p) : [this.nodeId];
      added.push({ partition: p, replicas, leader: this.nodeId, leaderEpoch: 0 });
    }
    if (validateOnly) return;
    const config = this.topicConfig(topic);
    for (const p of added) await this.openAsLeader(name, p, config);
    await this.metadata.addPartitions(name, added);
    this.logger.info(`topic ${name} now has ${count} partitions`);
  }

  /** Validates a full replacement of the topic's overrides (parse errors are INVALID_CONFIG). */
  validateTopicConfigs(configs: Record<string, string>): TopicConfig {
    return parseTopicConfig(configs, this.brokerTopicDefaults());
  }

  /** Replaces the topic's overrides, persists them and applies them to its logs at once. */
  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    const parsed = this.validateTopicConfigs(configs);
    await this.metadata.setTopicConfigs(name, configs);
    this.replicaManager.updateTopicConfig(name, parsed);
  }
}
