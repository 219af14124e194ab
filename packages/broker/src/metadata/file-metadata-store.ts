/**
 * MetadataStore in one JSON file in the data directory. Every change rewrites the file
 * atomically (write a temporary file, fsync, rename over, fsync the directory), so a crash
 * leaves either the old or the new state. Changes are serialised; metadata changes are rare
 * admin operations, so rewriting the whole document is cheaper than a log plus compaction.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  applyPartitionChange,
  partitionState,
  type BrokerRegistration,
  type ControllerGuard,
  type MetadataChange,
  type PartitionChange,
  type PartitionRegistration,
  type MetadataStore,
  type PartitionAssignment,
  type TopicMetadata,
  TopicExistsError,
  UnknownTopicError,
  parseQuotaEntityKey,
  quotaEntityKey,
  type ClientQuotaEntity,
  type ClientQuotaRecord,
} from './metadata-store.js';
import { aclKey, type AclBinding } from '../security/acls.js';

export const METADATA_FILE = 'sluice-metadata.json';
const FORMAT_VERSION = 1;

interface Document {
  version: number;
  clusterId: string;
  topics: TopicMetadata[];
  /** Cluster-wide dynamic broker configs (resource ""). */
  brokerConfigs: Record<string, string>;
  /** Per-broker dynamic configs by node id; absent in files written before there were two levels. */
  perBrokerConfigs?: Record<string, Record<string, string>>;
  /** First producer id not yet reserved (decimal string: ids are int64). Absent means 0. */
  nextProducerIdBlock?: string;
  /** Last broker epoch handed out (decimal string), so epochs grow across restarts. Absent means 0. */
  lastBrokerEpoch?: string;
  /** ACL bindings; absent in files written before authorization. */
  acls?: AclBinding[];
  /** Client quotas by entity key (quotaEntityKey); absent before quotas. */
  clientQuotas?: Record<string, Record<string, number>>;
}

export class FileMetadataStore implements MetadataStore {
  private doc: Document | null = null;
  private readonly byName = new Map<string, TopicMetadata>();
  private readonly byId = new Map<string, TopicMetadata>();
  private writeChain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(change: MetadataChange) => void>();
  /** Registrations live while the process does: one broker, so only its own. */
  private readonly registered = new Map<number, BrokerRegistration>();

  constructor(
    private readonly dir: string,
    private readonly initialClusterId?: string,
  ) {}

  get path(): string {
    return join(this.dir, METADATA_FILE);
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    let text: string | null = null;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === null) {
      this.doc = { version: FORMAT_VERSION, clusterId: this.initialClusterId ?? randomBytes(16).toString('base64url'), topics: [], brokerConfigs: {} };
      await this.persist();
    } else {
      const parsed = JSON.parse(text) as Document;
      if (parsed.version !== FORMAT_VERSION) throw new Error(`${this.path}: unsupported metadata format version ${parsed.version}`);
      if (this.initialClusterId && parsed.clusterId !== this.initialClusterId) {
        throw new Error(`${this.path} belongs to cluster ${parsed.clusterId}, but cluster.id is ${this.initialClusterId}`);
      }
      this.doc = parsed;
    }
    for (const t of this.doc.topics) this.index(t);
  }

  private get document(): Document {
    if (!this.doc) throw new Error('metadata store is not open');
    return this.doc;
  }

  readonly clustered = false;

  get clusterId(): string {
    return this.document.clusterId;
  }

  topics(): readonly TopicMetadata[] {
    return this.document.topics;
  }

  topic(name: string): TopicMetadata | undefined {
    return this.byName.get(name);
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return this.byId.get(topicId);
  }

  createTopic(topic: TopicMetadata): Promise<void> {
    return this.mutate(() => {
      if (this.byName.has(topic.name)) throw new TopicExistsError(topic.name);
      const copy = structuredClone(topic);
      this.document.topics.push(copy);
      this.index(copy);
      return { kind: 'topic-created', topic: copy };
    }).then(() => undefined);
  }

  deleteTopic(name: string): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.byName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      this.document.topics = this.document.topics.filter((t) => t !== topic);
      this.byName.delete(name);
      this.byId.delete(topic.topicId);
      return { kind: 'topic-deleted', topic };
    }).then((event) => (event as { topic: TopicMetadata }).topic);
  }

  addPartitions(name: string, added: PartitionAssignment[]): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.byName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      topic.partitions.push(...structuredClone(added));
      return { kind: 'partitions-added', topic, added };
    }).then(() => this.byName.get(name)!);
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicMetadata> {
    return this.mutate(() => {
      const topic = this.byName.get(name);
      if (!topic) throw new UnknownTopicError(name);
      topic.configs = { ...configs };
      return { kind: 'topic-configs', topic };
    }).then(() => this.byName.get(name)!);
  }

  /** The single broker is always its own controller, so a controller guard always holds. */
  alterPartition(topicName: string, partition: number, expectedPartitionEpoch: number, change: PartitionChange, _guard?: ControllerGuard): Promise<PartitionRegistration> {
    return this.mutate(() => {
      const topic = this.byName.get(topicName);
      const current = topic?.partitions[partition];
      if (!topic || !current) throw new UnknownTopicError(topicName);
      const previous = partitionState(current);
      const next = applyPartitionChange(topicName, previous, expectedPartitionEpoch, change);
      topic.partitions[partition] = next;
      return { kind: 'partition-changed', topic, previous, current: next };
    }).then((event) => (event as { current: PartitionRegistration }).current);
  }

  registerBroker(broker: Omit<BrokerRegistration, 'brokerEpoch'>): Promise<BrokerRegistration> {
    let registration: BrokerRegistration | null = null;
    return this.mutate(() => {
      const epoch = BigInt(this.document.lastBrokerEpoch ?? '0') + 1n;
      this.document.lastBrokerEpoch = String(epoch);
      registration = { ...broker, brokerEpoch: epoch };
      this.registered.set(broker.nodeId, registration);
      return { kind: 'broker-registered', broker: registration };
    }).then(() => registration!);
  }

  brokers(): readonly BrokerRegistration[] {
    return [...this.registered.values()];
  }

  /** Registrations of a single broker are not durable; unregistering just forgets it. */
  unregisterBroker(nodeId: number): Promise<void> {
    this.registered.delete(nodeId);
    return Promise.resolve();
  }

  /** A single broker is its own controller. */
  controllerId(): number {
    return this.registered.size ? Math.min(...this.registered.keys()) : -1;
  }

  controllerEpoch(): number {
    return this.registered.size ? 1 : -1;
  }

  brokerConfigs(resourceName: string): Record<string, string> {
    return { ...(resourceName === '' ? this.document.brokerConfigs : this.document.perBrokerConfigs?.[resourceName]) };
  }

  setBrokerConfigs(resourceName: string, configs: Record<string, string>): Promise<void> {
    return this.mutate(() => {
      if (resourceName === '') {
        this.document.brokerConfigs = { ...configs };
      } else {
        const perBroker = (this.document.perBrokerConfigs ??= {});
        if (Object.keys(configs).length) perBroker[resourceName] = { ...configs };
        else delete perBroker[resourceName];
      }
      return { kind: 'broker-configs', resourceName, configs: { ...configs } };
    }).then(() => undefined);
  }

  acls(): readonly AclBinding[] {
    return this.document.acls ?? [];
  }

  updateAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    return this.mutate(() => {
      const removed = new Set(remove.map(aclKey));
      const kept = new Map((this.document.acls ?? []).filter((b) => !removed.has(aclKey(b))).map((b) => [aclKey(b), b]));
      for (const b of add) if (!kept.has(aclKey(b))) kept.set(aclKey(b), { ...b });
      this.document.acls = [...kept.values()];
      return { kind: 'acls' };
    }).then(() => undefined);
  }

  clientQuotas(): readonly ClientQuotaRecord[] {
    return Object.entries(this.document.clientQuotas ?? {}).map(([key, values]) => ({ entity: parseQuotaEntityKey(key), values: { ...values } }));
  }

  setClientQuotas(entity: ClientQuotaEntity, values: Record<string, number>): Promise<void> {
    return this.mutate(() => {
      const quotas = (this.document.clientQuotas ??= {});
      const key = quotaEntityKey(entity);
      if (Object.keys(values).length) quotas[key] = { ...values };
      else delete quotas[key];
      return { kind: 'client-quotas', entity, values: { ...values } };
    }).then(() => undefined);
  }

  reserveProducerIds(count: number): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1) return Promise.reject(new RangeError(`cannot reserve ${count} producer ids`));
    let first = 0n;
    return this.mutate(() => {
      first = BigInt(this.document.nextProducerIdBlock ?? '0');
      this.document.nextProducerIdBlock = String(first + BigInt(count));
      return { kind: 'producer-ids-reserved', first, count };
    }).then(() => first);
  }

  onChange(listener: (change: MetadataChange) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    await this.writeChain;
  }

  private index(topic: TopicMetadata): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  /**
   * Applies `change` to the in-memory document and persists it. Changes are applied in call
   * order, each after the previous one is durable; a failed write restores the previous state.
   */
  private mutate(change: () => MetadataChange): Promise<MetadataChange> {
    const run = async (): Promise<MetadataChange> => {
      const before = structuredClone(this.document);
      const event = change();
      try {
        await this.persist();
      } catch (err) {
        this.doc = before;
        this.byName.clear();
        this.byId.clear();
        for (const t of before.topics) this.index(t);
        throw err;
      }
      for (const listener of this.listeners) listener(event);
      return event;
    };
    const result = this.writeChain.then(run);
    this.writeChain = result.catch(() => undefined);
    return result;
  }

  private async persist(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(JSON.stringify(this.document, null, 1));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
