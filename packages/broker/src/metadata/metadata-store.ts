/**
 * Cluster metadata behind an interface: topics with their ids, partition assignment and configs,
 * and the broker's dynamic configs. Reads are synchronous from an in-memory view (the broker
 * consults metadata on every request); writes are asynchronous and durable when they resolve.
 * The file-backed store serves a single broker; a multi-broker cluster backs the same interface
 * with a consensus store and keeps the view current from its watch stream.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { AclBinding } from '../security/acls.js';

export interface PartitionAssignment {
  partition: number;
  /** Broker ids holding a replica; the first is the preferred leader. */
  replicas: number[];
  leader: number;
  leaderEpoch: number;
  /**
   * The partition's state beyond its assignment (Kafka's PartitionRegistration). Optional because
   * records written before it existed lack it; read it through partitionState(), which defaults
   * ISR = replicas and epoch 0.
   */
  isr?: number[];
  /** Bumped by every change of the partition's state; alterPartition compares and swaps on it. */
  partitionEpoch?: number;
  addingReplicas?: number[];
  removingReplicas?: number[];
}

/** A partition's full state, with the defaults of records that predate it filled in. */
export type PartitionRegistration = Required<PartitionAssignment>;

export function partitionState(p: PartitionAssignment): PartitionRegistration {
  return {
    partition: p.partition,
    replicas: p.replicas,
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    isr: p.isr ?? p.replicas,
    partitionEpoch: p.partitionEpoch ?? 0,
    addingReplicas: p.addingReplicas ?? [],
    removingReplicas: p.removingReplicas ?? [],
  };
}

/** What alterPartition may change; absent fields stay. */
export interface PartitionChange {
  leader?: number;
  isr?: number[];
  replicas?: number[];
  addingReplicas?: number[];
  removingReplicas?: number[];
}

/**
 * A write made as the controller: it applies only while the controller that won at
 * `controllerEpoch` still holds the office; otherwise it fails with NOT_CONTROLLER, so a deposed
 * controller never overwrites what its successor decided.
 */
export interface ControllerGuard {
  controllerEpoch: number;
}

/** A broker as registered in the metadata; the epoch is new at every registration (a restart). */
export interface BrokerRegistration {
  nodeId: number;
  brokerEpoch: bigint;
  host: string;
  port: number;
  rack: string | null;
  /**
   * Every advertised listener (Kafka's registration endpoints), when the broker has several;
   * host/port above are the inter-broker listener's. Clients are answered with the endpoint of
   * the listener they connected to.
   */
  endpoints?: readonly ListenerEndpoint[];
}

export interface ListenerEndpoint {
  /** The listener name, upper case (PLAINTEXT, SASL_SSL, INTERNAL, …). */
  name: string;
  host: string;
  port: number;
  securityProtocol: string;
}

export interface TopicMetadata {
  name: string;
  /** Kafka's topic id: a UUID in its URL-safe base64 form (22 characters). */
  topicId: string;
  internal: boolean;
  partitions: PartitionAssignment[];
  /** Topic-level overrides only (what was set explicitly), Kafka config names. */
  configs: Record<string, string>;
  createdAtMs: number;
}

/**
 * A client-quota entity as Kafka names it: a user, a client id or both; null is the default entity
 * of that type (`--entity-default`), absent means the entity does not name that type.
 */
export interface ClientQuotaEntity {
  user?: string | null;
  clientId?: string | null;
}

export interface ClientQuotaRecord {
  entity: ClientQuotaEntity;
  /** producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate. */
  values: Record<string, number>;
}

/** A stable key of a quota entity, e.g. `user=alice,client-id@default` (names URI-encoded). */
export function quotaEntityKey(entity: ClientQuotaEntity): string {
  const part = (type: string, name: string | null | undefined): string[] => (name === undefined ? [] : [name === null ? `${type}@default` : `${type}=${encodeURIComponent(name)}`]);
  return [...part('user', entity.user), ...part('client-id', entity.clientId)].join(',');
}

export function parseQuotaEntityKey(key: string): ClientQuotaEntity {
  const entity: ClientQuotaEntity = {};
  for (const part of key.split(',')) {
    const at = part.indexOf('@default');
    const eq = part.indexOf('=');
    const type = at >= 0 ? part.slice(0, at) : part.slice(0, eq);
    const name = at >= 0 ? null : decodeURIComponent(part.slice(eq + 1));
    if (type === 'user') entity.user = name;
    else if (type === 'client-id') entity.clientId = name;
  }
  return entity;
}

export type MetadataChange =
  | { kind: 'topic-created'; topic: TopicMetadata }
  | { kind: 'topic-deleted'; topic: TopicMetadata }
  | { kind: 'partitions-added'; topic: TopicMetadata; added: PartitionAssignment[] }
  | { kind: 'topic-configs'; topic: TopicMetadata }
  | { kind: 'partition-changed'; topic: TopicMetadata; previous: PartitionRegistration; current: PartitionRegistration }
  | { kind: 'broker-registered'; broker: BrokerRegistration }
  /** The broker left: its lease expired (a crash, a partition from the store) or it unregistered. */
  | { kind: 'broker-unregistered'; broker: BrokerRegistration }
  /** A new controller won the election (-1: none right now); the epoch is its fencing token. */
  | { kind: 'controller-changed'; controllerId: number; controllerEpoch: number }
  | { kind: 'broker-configs'; resourceName: string; configs: Record<string, string> }
  | { kind: 'producer-ids-reserved'; first: bigint; count: number }
  /** ACLs were added or removed (read the new set with acls()). */
  | { kind: 'acls' }
  /** One entity's client quotas were set (empty values: removed). */
  | { kind: 'client-quotas'; entity: ClientQuotaEntity; values: Record<string, number> };

export interface MetadataStore {
  /** Loads (or initialises) the store; must be called once before anything else. */
  open(): Promise<void>;
  readonly clusterId: string;
  /** True when several brokers share this store (a cluster): internal topics then wait for their full replication factor. */
  readonly clustered: boolean;
  topics(): readonly TopicMetadata[];
  topic(name: string): TopicMetadata | undefined;
  topicById(topicId: string): TopicMetadata | undefined;
  /** Fails with TopicExistsError when the name is taken. */
  createTopic(topic: TopicMetadata): Promise<void>;
  /** Removes the topic; resolves with what was removed. Fails with UnknownTopicError. */
  deleteTopic(name: string): Promise<TopicMetadata>;
  addPartitions(name: string, added: PartitionAssignment[]): Promise<TopicMetadata>;
  /**
   * Compare-and-swap of one partition's state: applies `change` only if the partition epoch is
   * still `expectedPartitionEpoch` (else INVALID_UPDATE_VERSION), bumping it, and the leader epoch
   * when the leader changes. Resolves with the new state.
   */
  alterPartition(topic: string, partition: number, expectedPartitionEpoch: number, change: PartitionChange, guard?: ControllerGuard): Promise<PartitionRegistration>;
  /**
   * Registers (or re-registers) a broker; resolves with its registration and new broker epoch. In a
   * cluster store the registration lives only as long as the broker's session (a lease), and the
   * broker takes part in the controller election from then on.
   */
  registerBroker(broker: Omit<BrokerRegistration, 'brokerEpoch'>): Promise<BrokerRegistration>;
  /** Ends this broker's registration (controlled shutdown, last step): the others see it leave at once. */
  unregisterBroker(nodeId: number): Promise<void>;
  /** The live brokers. */
  brokers(): readonly BrokerRegistration[];
  /** The node id of the active controller, as the store decides; -1 when none is known. */
  controllerId(): number;
  /** The active controller's epoch (its fencing token), -1 when none; grows with every election. */
  controllerEpoch(): number;
  /** Replaces the topic's explicit config overrides. */
  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicMetadata>;
  /**
   * Dynamic broker configs of one ConfigResource name, as Kafka keeps them: '' holds the
   * cluster-wide defaults, a node id that broker's own settings.
   */
  brokerConfigs(resourceName: string): Record<string, string>;
  /** Replaces the dynamic broker configs of one resource name ('' or a node id). */
  setBrokerConfigs(resourceName: string, configs: Record<string, string>): Promise<void>;
  /**
   * Reserves the next `count` producer ids for this broker and resolves with the first, once the
   * reservation is durable, so an id handed out is never handed out again after a restart.
   */
  reserveProducerIds(count: number): Promise<bigint>;
  /** The ACL bindings (authorization). */
  acls(): readonly AclBinding[];
  /** Adds the bindings of `add` not yet present and removes those of `remove`, as one change. */
  updateAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void>;
  /** The client quotas of every entity that has some. */
  clientQuotas(): readonly ClientQuotaRecord[];
  /** Replaces the quotas of one entity; empty values remove the entity. */
  setClientQuotas(entity: ClientQuotaEntity, values: Record<string, number>): Promise<void>;
  onChange(listener: (change: MetadataChange) => void): void;
  close(): Promise<void>;
}

/** The store's refusals carry the Kafka code a client gets for them (e.g. the loser of two racing deletes). */
export class TopicExistsError extends KafkaError {
  constructor(name: string, message = `Topic '${name}' already exists.`) {
    super(ErrorCode.TOPIC_ALREADY_EXISTS, message);
    this.name = 'TopicExistsError';
  }
}

export class UnknownTopicError extends KafkaError {
  constructor(name: string) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    this.name = 'UnknownTopicError';
  }
}

/**
 * The pure part of alterPartition, shared by the stores: the epoch check, validation (ISR within
 * the replicas, the leader in the ISR) and the epoch bumps.
 */
export function applyPartitionChange(topic: string, current: PartitionRegistration, expectedPartitionEpoch: number, change: PartitionChange): PartitionRegistration {
  const where = `${topic}-${current.partition}`;
  if (expectedPartitionEpoch !== current.partitionEpoch) {
    throw new KafkaError(ErrorCode.INVALID_UPDATE_VERSION, `${where}: partition epoch ${expectedPartitionEpoch} is stale (now ${current.partitionEpoch}).`);
  }
  const replicas = change.replicas ? [...change.replicas] : current.replicas;
  const isr = change.isr ? [...change.isr] : current.isr;
  const leader = change.leader ?? current.leader;
  if (isr.some((id) => !replicas.includes(id))) throw new KafkaError(ErrorCode.INELIGIBLE_REPLICA, `${where}: ISR ${isr.join(',')} is not within replicas ${replicas.join(',')}.`);
  if (leader >= 0 && !isr.includes(leader)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `${where}: leader ${leader} is not in the ISR ${isr.join(',')}.`);
  return {
    partition: current.partition,
    replicas,
    isr,
    leader,
    leaderEpoch: leader === current.leader ? current.leaderEpoch : current.leaderEpoch + 1,
    partitionEpoch: current.partitionEpoch + 1,
    addingReplicas: change.addingReplicas ? [...change.addingReplicas] : current.addingReplicas,
    removingReplicas: change.removingReplicas ? [...change.removingReplicas] : current.removingReplicas,
  };
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A random topic id in Kafka's form: never the zero id, never starting with '-' (as Kafka's Uuid.randomUuid). */
export function randomTopicId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id !== ZERO_UUID && !id.startsWith('-')) return id;
  }
}

export { ZERO_UUID };
