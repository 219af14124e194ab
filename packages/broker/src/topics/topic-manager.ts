/**
 * Topic lifecycle: validation (names, partition counts, replication, assignments over the
 * registered brokers, configs), then the metadata record. Logs are not created here: the
 * MetadataReconciler creates them because it saw the record (on every broker alike). Clients see
 * a topic only once the local reconciler has applied it, and an admin operation answers only then,
 * so a topic visible to clients always has its logs.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { brokerTopicDefaults, parseTopicConfig, topicConfigDefinitions, type TopicConfig } from '@sluice/storage';
import type { BrokerConfig, DynamicLevel } from '../config/broker-config.js';
import type { Logger } from '../logger.js';
import { randomTopicId, type MetadataStore, type PartitionAssignment, type TopicMetadata } from '../metadata/metadata-store.js';
import { collidingTopic, isInternalTopic, topicNameProblem } from '../metadata/topic-name.js';
import { MetadataReconciler } from '../replica/metadata-reconciler.js';
import type { ReplicaManager } from '../replica/replica-manager.js';
import { assignReplicas, type PlacementBroker } from './replica-placement.js';

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
  readonly reconciler: MetadataReconciler;

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataStore,
    private readonly replicaManager: ReplicaManager,
    private readonly logger: Logger,
  ) {
    this.reconciler = new MetadataReconciler(nodeId, metadata, replicaManager, (t) => this.topicConfig(t), logger);
    config.onChange((changed) => {
      if (changed.some((k) => TOPIC_DEFAULT_SYNONYMS.has(k))) this.reapplyConfigs();
    });
  }

  /** Makes the local replicas of every topic what the metadata says, then follows its changes. */
  recover(): Promise<void> {
    return this.reconciler.start();
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

  /** A topic as clients may see it: in the metadata and applied by the local reconciler. */
  get(name: string): TopicMetadata | undefined {
    const topic = this.metadata.topic(name);
    return topic && this.reconciler.isApplied(topic.topicId) ? topic : undefined;
  }

  byId(topicId: string): TopicMetadata | undefined {
    const topic = this.metadata.topicById(topicId);
    return topic && this.reconciler.isApplied(topic.topicId) ? topic : undefined;
  }

  all(): readonly TopicMetadata[] {
    return this.metadata.topics().filter((t) => this.reconciler.isApplied(t.topicId));
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
    parseTopicConfig(configs, this.brokerTopicDefaults());
    const topic: TopicMetadata = {
      name: spec.name,
      topicId: randomTopicId(),
      internal: isInternalTopic(spec.name),
      partitions,
      configs,
      createdAtMs: Date.now(),
    };
    if (spec.validateOnly) return topic;
    const creation = this.record(topic);
    this.pendingCreates.set(spec.name, creation);
    try {
      return await creation;
    } finally {
      this.pendingCreates.delete(spec.name);
    }
  }

  private async record(topic: TopicMetadata): Promise<TopicMetadata> {
    await this.metadata.createTopic(topic);
    await this.reconciler.caughtUp();
    this.logger.info(`created topic ${topic.name} (id ${topic.topicId}, ${topic.partitions.length} partition(s))`);
    return this.metadata.topic(topic.name) ?? topic;
  }

  /** Broker ids partitions may be placed on: the registered brokers (and this one, registered or not). */
  private brokerIds(): number[] {
    return this.placementBrokers().map((b) => b.nodeId);
  }

  private placementBrokers(): PlacementBroker[] {
    const brokers = new Map<number, PlacementBroker>([[this.nodeId, { nodeId: this.nodeId, rack: this.config.string('broker.rack') ?? null }]]);
    for (const b of this.metadata.brokers()) brokers.set(b.nodeId, { nodeId: b.nodeId, rack: b.rack });
    return [...brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Kafka's (rack-aware) placement of `count` partitions from `first`; the first replica of each leads. */
  private placeReplicas(first: number, count: number, replication: number, partition0Leader?: number): PartitionAssignment[] {
    const brokers = this.placementBrokers();
    const leaderIndex = partition0Leader === undefined ? -1 : brokers.findIndex((b) => b.nodeId === partition0Leader);
    const placed = assignReplicas(brokers, count, replication, { startPartitionId: first, startIndex: leaderIndex >= 0 ? leaderIndex : undefined });
    return placed.map((replicas, i) => ({ partition: first + i, replicas, leader: replicas[0], leaderEpoch: 0, isr: [...replicas], partitionEpoch: 0 }));
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
    // Perhaps written by another broker and not applied here yet: answer once it is.
    if (existing) return this.reconciler.caughtUp().then(() => existing);
    const internal = this.internalTopicSpecs.get(name)?.();
    let spec = internal ?? { numPartitions: -1, replicationFactor: -1 };
    // A single broker makes its internal topics with what it has; a cluster waits for enough brokers (Kafka's rule).
    if (internal && !this.metadata.clustered) spec = { ...spec, replicationFactor: Math.min(spec.replicationFactor, this.brokerIds().length) };
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
        const replicas = this.checkReplicas(a.brokerIds, i);
        return { partition: i, replicas, leader: replicas[0], leaderEpoch: 0, isr: [...replicas], partitionEpoch: 0 };
      });
    }
    const count = spec.numPartitions === -1 ? this.config.int('num.partitions') : spec.numPartitions;
    if (count <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    const replication = spec.replicationFactor === -1 ? this.config.int('default.replication.factor') : spec.replicationFactor;
    if (replication <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    const brokers = this.brokerIds().length;
    if (replication > brokers) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replication} time(s): The target replication factor of ${replication} cannot be reached because only ${brokers} broker(s) are registered.`,
      );
    }
    return this.placeReplicas(0, count, replication);
  }

  private checkReplicas(brokerIds: number[], partition: number): number[] {
    if (brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} has no replicas.`);
    if (new Set(brokerIds).size !== brokerIds.length) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} lists a broker more than once: ${brokerIds.join(',')}`);
    }
    const known = this.brokerIds();
    const unknown = brokerIds.filter((id) => !known.includes(id));
    if (unknown.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${partition} names unknown broker(s) ${unknown.join(',')}`);
    return [...brokerIds];
  }

  /** Deletes a topic: gone from metadata at once, its data removed in the background. */
  async delete(name: string): Promise<TopicMetadata> {
    if (!this.config.bool('delete.topic.enable')) throw new KafkaError(TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    const topic = this.metadata.topic(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const removed = await this.metadata.deleteTopic(name);
    await this.reconciler.caughtUp();
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
    let added: PartitionAssignment[] = [];
    if (assignments) {
      for (let p = current; p < count; p++) {
        const replicas = this.checkReplicas(assignments[p - current].brokerIds, p);
        added.push({ partition: p, replicas, leader: replicas[0], leaderEpoch: 0, isr: [...replicas], partitionEpoch: 0 });
      }
    } else {
      const replication = topic.partitions[0]?.replicas.length ?? 1;
      if (replication > this.brokerIds().length) {
        throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `The topic's replication factor ${replication} is larger than the ${this.brokerIds().length} registered broker(s).`);
      }
      // Continue the topic's own rotation, as Kafka does (partition 0's first replica fixes the start).
      added = this.placeReplicas(current, count - current, replication, topic.partitions[0]?.replicas[0]);
    }
    if (validateOnly) return;
    await this.metadata.addPartitions(name, added);
    await this.reconciler.caughtUp();
    this.logger.info(`topic ${name} now has ${count} partitions`);
  }

  /** Validates a full replacement of the topic's overrides (parse errors are INVALID_CONFIG). */
  validateTopicConfigs(configs: Record<string, string>): TopicConfig {
    return parseTopicConfig(configs, this.brokerTopicDefaults());
  }

  /** Replaces the topic's overrides and persists them; resolves once the reconciler applied them to the logs. */
  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    this.validateTopicConfigs(configs);
    await this.metadata.setTopicConfigs(name, configs);
    await this.reconciler.caughtUp();
  }
}
