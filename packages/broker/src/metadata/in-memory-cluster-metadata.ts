/**
 * Cluster metadata in memory, shared by several brokers in one process: each broker gets its own
 * MetadataStore view (`storeFor(nodeId)`) over one state, and every view's listeners see every
 * change, as brokers watching one consensus store would. For tests of multi-broker behaviour
 * until the etcd store exists; nothing is durable.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError } from '@sluice/protocol';
import {
  applyPartitionChange,
  partitionState,
  TopicExistsError,
  UnknownTopicError,
  type BrokerRegistration,
  type ControllerGuard,
  type MetadataChange,
  type MetadataStore,
  type PartitionAssignment,
  type PartitionChange,
  type PartitionRegistration,
  type TopicMetadata,
  parseQuotaEntityKey,
  quotaEntityKey,
  type ClientQuotaEntity,
  type ClientQuotaRecord,
} from './metadata-store.js';
import { aclKey, type AclBinding } from '../security/acls.js';

export class InMemoryClusterMetadata {
  readonly clusterId: string;
  readonly topicsByName = new Map<string, TopicMetadata>();
  readonly registrations = new Map<number, BrokerRegistration>();
  private readonly brokerConfigsByResource = new Map<string, Record<string, string>>();
  private aclBindings = new Map<string, AclBinding>();
  private readonly quotasByEntity = new Map<string, Record<string, number>>();
  private readonly views = new Set<InMemoryMetadataView>();
  private nextProducerId = 0n;
  private lastBrokerEpoch = 0n;
  /** Changes are applied one at a time, in call order, as a consensus store would. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(clusterId: string = randomBytes(16).toString('base64url')) {
    this.clusterId = clusterId;
  }

  /** A broker's view of the cluster metadata. */
  storeFor(nodeId: number): MetadataStore {
    return new InMemoryMetadataView(this, nodeId);
  }

  attach(view: InMemoryMetadataView): void {
    this.views.add(view);
  }

  detach(view: InMemoryMetadataView): void {
    this.views.delete(view);
  }

  private controller = -1;
  private epochOfController = -1;
  private lastControllerEpoch = 0;

  /** The lowest registered node id plays the controller; every change of controller is a new epoch. */
  controllerId(): number {
    return this.controller;
  }

  controllerEpoch(): number {
    return this.epochOfController;
  }

  /** After a registration change: a new controller when the lowest live node id changed. */
  private electController(): MetadataChange | null {
    const next = this.registrations.size ? Math.min(...this.registrations.keys()) : -1;
    if (next === this.controller) return null;
    this.controller = next;
    this.epochOfController = next === -1 ? -1 : ++this.lastControllerEpoch;
    return { kind: 'controller-changed', controllerId: next, controllerEpoch: this.epochOfController };
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return { ...this.brokerConfigsByResource.get(resourceName) };
  }

  mutate<T>(change: () => { event: MetadataChange | null; result: T; also?: MetadataChange | null }): Promise<T> {
    const run = async () => {
      const { event, result, also } = change();
      for (const e of [event, also]) if (e) for (const view of [...this.views]) view.emit(e);
      return result;
    };
    const result = this.chain.then(run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  createTopic(topic: TopicMetadata): Promise<void> {
    return this.mutate(() => {
      if (this.topicsByName.has(topic.name)) throw new TopicExistsError(topic.name);
      const copy = structuredClone(topic);
      copy.partitions = copy.partitions.map(partitionState);
      this.topicsByName.set(copy.name, copy);
      return { event: { kind: 'topic-created', topic: copy }, result: undefined };
    });
  }

  deleteTopic(name: string): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.topicsByName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      this.topicsByName.delete(name);
      return { event: { kind: 'topic-deleted', topic }, result: topic };
    });
  }

  addPartitions(name: string, added: PartitionAssignment[]): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.topicsByName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      const states = structuredClone(added).map(partitionState);
      topic.partitions.push(...states);
      return { event: { kind: 'partitions-added', topic, added: states }, result: topic };
    });
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.topicsByName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      topic.configs = { ...configs };
      return { event: { kind: 'topic-configs', topic }, result: topic };
    });
  }

  alterPartition(topicName: string, partition: number, expectedPartitionEpoch: number, change: PartitionChange, guard?: ControllerGuard): Promise<PartitionRegistration> {
    return this.mutate(() => {
      if (guard && guard.controllerEpoch !== this.epochOfController) {
        throw new KafkaError(ErrorCode.NOT_CONTROLLER, `controller epoch ${guard.controllerEpoch} is stale (now ${this.epochOfController}).`);
      }
      const topic = this.topicsByName.get(topicName);
      const current = topic?.partitions[partition];
      if (!topic || !current) throw new UnknownTopicError(topicName);
      const previous = partitionState(current);
      const next = applyPartitionChange(topicName, previous, expectedPartitionEpoch, change);
      topic.partitions[partition] = next;
      return { event: { kind: 'partition-changed', topic, previous, current: next }, result: next };
    });
  }

  registerBroker(broker: Omit<BrokerRegistration, 'brokerEpoch'>): Promise<BrokerRegistration> {
    return this.mutate(() => {
      const registration = { ...broker, brokerEpoch: ++this.lastBrokerEpoch };
      this.registrations.set(broker.nodeId, registration);
      return { event: { kind: 'broker-registered', broker: registration }, result: registration, also: this.electController() };
    });
  }

  /** The broker's registration ends (unregistering, or a test playing a lease that expired). */
  unregisterBroker(nodeId: number): Promise<void> {
    return this.mutate(() => {
      const registration = this.registrations.get(nodeId);
      if (!registration) return { event: null, result: undefined };
      this.registrations.delete(nodeId);
      return { event: { kind: 'broker-unregistered', broker: registration }, result: undefined, also: this.electController() };
    });
  }

  /** A test's stand-in for a session that timed out: the broker disappears as if its lease expired. */
  expireBroker(nodeId: number): Promise<void> {
    return this.unregisterBroker(nodeId);
  }

  setBrokerConfigs(resourceName: string, configs: Record<string, string>): Promise<void> {
    return this.mutate(() => {
      this.brokerConfigsByResource.set(resourceName, { ...configs });
      return { event: { kind: 'broker-configs', resourceName, configs: { ...configs } }, result: undefined };
    });
  }

  acls(): readonly AclBinding[] {
    return [...this.aclBindings.values()];
  }

  updateAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    return this.mutate(() => {
      const next = new Map(this.aclBindings);
      for (const b of remove) next.delete(aclKey(b));
      for (const b of add) if (!next.has(aclKey(b))) next.set(aclKey(b), { ...b });
      this.aclBindings = next;
      return { event: { kind: 'acls' }, result: undefined };
    });
  }

  clientQuotas(): readonly ClientQuotaRecord[] {
    return [...this.quotasByEntity].map(([key, values]) => ({ entity: parseQuotaEntityKey(key), values: { ...values } }));
  }

  setClientQuotas(entity: ClientQuotaEntity, values: Record<string, number>): Promise<void> {
    return this.mutate(() => {
      const key = quotaEntityKey(entity);
      if (Object.keys(values).length) this.quotasByEntity.set(key, { ...values });
      else this.quotasByEntity.delete(key);
      return { event: { kind: 'client-quotas', entity, values: { ...values } }, result: undefined };
    });
  }

  reserveProducerIds(count: number): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1) return Promise.reject(new RangeError(`cannot reserve ${count} producer ids`));
    return this.mutate(() => {
      const first = this.nextProducerId;
      this.nextProducerId += BigInt(count);
      return { event: { kind: 'producer-ids-reserved', first, count }, result: first };
    });
  }
}

/** One broker's MetadataStore over the shared state. */
class InMemoryMetadataView implements MetadataStore {
  private readonly listeners = new Set<(change: MetadataChange) => void>();

  constructor(
    private readonly cluster: InMemoryClusterMetadata,
    readonly nodeId: number,
  ) {}

  open(): Promise<void> {
    this.cluster.attach(this);
    return Promise.resolve();
  }

  readonly clustered = true;

  get clusterId(): string {
    return this.cluster.clusterId;
  }

  topics(): readonly TopicMetadata[] {
    return [...this.cluster.topicsByName.values()];
  }

  topic(name: string): TopicMetadata | undefined {
    return this.cluster.topicsByName.get(name);
  }

  topicById(topicId: string): TopicMetadata | undefined {
    for (const t of this.cluster.topicsByName.values()) if (t.topicId === topicId) return t;
    return undefined;
  }

  createTopic(topic: TopicMetadata): Promise<void> {
    return this.cluster.createTopic(topic);
  }

  deleteTopic(name: string): Promise<TopicMetadata> {
    return this.cluster.deleteTopic(name);
  }

  addPartitions(name: string, added: PartitionAssignment[]): Promise<TopicMetadata> {
    return this.cluster.addPartitions(name, added);
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicMetadata> {
    return this.cluster.setTopicConfigs(name, configs);
  }

  alterPartition(topic: string, partition: number, expectedPartitionEpoch: number, change: PartitionChange, guard?: ControllerGuard): Promise<PartitionRegistration> {
    return this.cluster.alterPartition(topic, partition, expectedPartitionEpoch, change, guard);
  }

  unregisterBroker(nodeId: number): Promise<void> {
    return this.cluster.unregisterBroker(nodeId);
  }

  registerBroker(broker: Omit<BrokerRegistration, 'brokerEpoch'>): Promise<BrokerRegistration> {
    return this.cluster.registerBroker(broker);
  }

  brokers(): readonly BrokerRegistration[] {
    return [...this.cluster.registrations.values()];
  }

  controllerId(): number {
    return this.cluster.controllerId();
  }

  controllerEpoch(): number {
    return this.cluster.controllerEpoch();
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return this.cluster.brokerConfigs(resourceName);
  }

  setBrokerConfigs(resourceName: string, configs: Record<string, string>): Promise<void> {
    return this.cluster.setBrokerConfigs(resourceName, configs);
  }

  acls(): readonly AclBinding[] {
    return this.cluster.acls();
  }

  updateAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    return this.cluster.updateAcls(add, remove);
  }

  clientQuotas(): readonly ClientQuotaRecord[] {
    return this.cluster.clientQuotas();
  }

  setClientQuotas(entity: ClientQuotaEntity, values: Record<string, number>): Promise<void> {
    return this.cluster.setClientQuotas(entity, values);
  }

  reserveProducerIds(count: number): Promise<bigint> {
    return this.cluster.reserveProducerIds(count);
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.add(listener);
  }

  emit(change: MetadataChange): void {
    for (const listener of this.listeners) listener(change);
  }

  close(): Promise<void> {
    this.cluster.detach(this);
    this.listeners.clear();
    return Promise.resolve();
  }
}
