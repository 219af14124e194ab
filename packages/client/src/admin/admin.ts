/**
 * Admin: one typed method per operation. Cluster-wide operations go to the controller (or any
 * broker), partition operations to each partition's leader, group operations to the group's
 * coordinator. Per-resource errors become a thrown KafkaError naming the resource.
 */
import { ApiKey, ErrorCode, KafkaError, ZERO_UUID, apiInfo, decodeConsumerProtocolAssignment } from '@sluice/protocol';
import { Cluster, type ClusterOptions, type TopicMetadata, type BrokerAddress } from '../cluster/cluster.js';
import type { Connection } from '../connection/connection.js';
import { MisuseError } from '../errors.js';
import type { AclBinding, AclBindingFilter, ClientQuotaAlteration, ClientQuotaEntry, ClientQuotaFilterComponent } from './acls.js';

export interface NewTopic {
  topic: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export const ConfigResourceType = { topic: 2, broker: 4 } as const;
export type ConfigResourceTypeName = keyof typeof ConfigResourceType;

export interface ConfigResource {
  type: ConfigResourceTypeName;
  name: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  source: number;
}

export type IncrementalOperation = 'set' | 'delete' | 'append' | 'subtract';
const INCREMENTAL_OPS: Record<IncrementalOperation, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    assignment: Array<{ topic: string; partitions: number[] }>;
  }>;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** ListOffsets special timestamps. */
export const OffsetSpec = { latest: -1n, earliest: -2n, maxTimestamp: -3n } as const;

export class Admin {
  readonly cluster: Cluster;

  constructor(options: ClusterOptions | Cluster) {
    this.cluster = options instanceof Cluster ? options : new Cluster(options);
  }

  connect(): Promise<void> {
    return this.cluster.connect();
  }

  close(): void {
    this.cluster.close();
  }

  private async controller(): Promise<Connection> {
    if (this.cluster.controllerId < 0) await this.cluster.refreshMetadata();
    return this.cluster.controllerId >= 0 ? this.cluster.connectionTo(this.cluster.controllerId) : this.cluster.anyConnection();
  }

  // ---- topics ----

  /** Creates topics; returns which were created (false: it already existed and `ignoreExisting`). */
  async createTopics(topics: NewTopic[], options: { timeoutMs?: number; validateOnly?: boolean; ignoreExisting?: boolean } = {}): Promise<boolean[]> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.CreateTopics, {
        topics: topics.map((t) => ({
          name: t.topic,
          numPartitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          assignments: [],
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs: options.timeoutMs ?? 30_000,
        validateOnly: options.validateOnly ?? false,
      });
    });
    const created = topics.map((t) => {
      const r = response.topics.find((x) => x.name === t.topic);
      if (r === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no result for topic ${t.topic}`);
      if (r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && options.ignoreExisting) return false;
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? t.topic);
      return true;
    });
    if (!options.validateOnly) await this.cluster.ensureTopics(topics.map((t) => t.topic));
    return created;
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.cluster.refreshMetadata({ all: true });
    return this.cluster
      .topicNames()
      .filter((n) => options.includeInternal || !this.cluster.topic(n)?.isInternal)
      .sort();
  }

  /** The topics as the cluster has them now, partitions without a leader included (leader -1). */
  async describeTopics(topics: string[]): Promise<TopicMetadata[]> {
    await this.cluster.withRetry(async () => {
      await this.cluster.refreshMetadata({ extra: topics });
      const missing = topics.find((t) => this.cluster.topic(t) === undefined);
      if (missing !== undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, missing);
    });
    return topics.map((t) => this.cluster.topic(t)!);
  }

  async deleteTopics(topics: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      const timeoutMs = options.timeoutMs ?? 30_000;
      return c.versionOf(ApiKey.DeleteTopics) >= 6
        ? c.request(ApiKey.DeleteTopics, { topics: topics.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs })
        : c.request(ApiKey.DeleteTopics, { topicNames: topics, timeoutMs });
    });
    for (const r of response.responses) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.name ?? '');
    await this.cluster.refreshMetadata({ all: true });
  }

  /** Grows topics to `count` partitions each. */
  async createPartitions(topics: Array<{ topic: string; count: number }>, options: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<void> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.CreatePartitions, {
        topics: topics.map((t) => ({ name: t.topic, count: t.count, assignments: null })),
        timeoutMs: options.timeoutMs ?? 30_000,
        validateOnly: options.validateOnly ?? false,
      });
    });
    for (const r of response.results) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.name);
    await this.cluster.refreshMetadata({ extra: topics.map((t) => t.topic) });
  }

  // ---- configs ----

  /**
   * Sends each config resource where Kafka's AdminClient does: a broker's own resource (a node id
   * as its name) to that broker, which alone holds and applies it; the rest to the controller.
   * Returns the per-resource answers in `resources` order.
   */
  private async perConfigNode<R extends ConfigResource, T>(resources: R[], send: (c: Connection, group: R[]) => Promise<T[]>): Promise<T[]> {
    const groups = new Map<number, R[]>();
    for (const r of resources) {
      const node = r.type === 'broker' && /^\d+$/.test(r.name) ? Number(r.name) : -1;
      groups.set(node, [...(groups.get(node) ?? []), r]);
    }
    const out = new Array<T>(resources.length);
    await Promise.all(
      [...groups].map(async ([node, group]) => {
        const answers = await this.cluster.withRetry(async () => send(node < 0 ? await this.controller() : await this.cluster.connectionTo(node), group));
        group.forEach((r, i) => (out[resources.indexOf(r)] = answers[i]));
      }),
    );
    return out;
  }

  async describeConfigs(resources: Array<ConfigResource & { keys?: string[] }>): Promise<Array<ConfigResource & { configs: ConfigEntry[] }>> {
    const results = await this.perConfigNode(resources, async (c, group) =>
      (
        await c.request(ApiKey.DescribeConfigs, {
          resources: group.map((r) => ({ resourceType: ConfigResourceType[r.type], resourceName: r.name, configurationKeys: r.keys ?? null })),
          includeSynonyms: false,
          includeDocumentation: false,
        })
      ).results,
    );
    return results.map((r, i) => {
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.resourceName);
      return {
        type: resources[i].type,
        name: r.resourceName,
        configs: r.configs.map((e) => ({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          // v1+ report the source (5 = DEFAULT_CONFIG); only v0 has the isDefault flag.
          isDefault: e.configSource !== undefined && e.configSource >= 0 ? e.configSource === 5 : (e.isDefault ?? false),
          isSensitive: e.isSensitive,
          source: e.configSource ?? -1,
        })),
      };
    });
  }

  /** Replaces a resource's whole dynamic config (AlterConfigs semantics: unlisted keys revert). */
  /** CreateAcls: every binding is created, or the first refusal is thrown. */
  async createAcls(bindings: AclBinding[]): Promise<void> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.CreateAcls, {
        creations: bindings.map((b) => ({ resourceType: b.resourceType, resourceName: b.resourceName, resourcePatternType: b.patternType, principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType })),
      });
    });
    for (const r of response.results) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? 'CreateAcls');
  }

  /** DescribeAcls: the bindings matching the filter. */
  async describeAcls(filter: AclBindingFilter): Promise<AclBinding[]> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.DescribeAcls, {
        resourceTypeFilter: filter.resourceType,
        resourceNameFilter: filter.resourceName,
        patternTypeFilter: filter.patternType,
        principalFilter: filter.principal,
        hostFilter: filter.host,
        operation: filter.operation,
        permissionType: filter.permissionType,
      });
    });
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, response.errorMessage ?? 'DescribeAcls');
    return response.resources.flatMap((r) =>
      r.acls.map((a) => ({ resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType ?? 3, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
    );
  }

  /** DeleteAcls: per filter, the bindings it deleted. */
  async deleteAcls(filters: AclBindingFilter[]): Promise<AclBinding[][]> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.DeleteAcls, {
        filters: filters.map((f) => ({
          resourceTypeFilter: f.resourceType,
          resourceNameFilter: f.resourceName,
          patternTypeFilter: f.patternType,
          principalFilter: f.principal,
          hostFilter: f.host,
          operation: f.operation,
          permissionType: f.permissionType,
        })),
      });
    });
    return response.filterResults.map((r) => {
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? 'DeleteAcls');
      return r.matchingAcls.map((a) => ({ resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType ?? 3, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType }));
    });
  }

  /** DescribeClientQuotas: the entities matching every component (and no other type when strict). */
  async describeClientQuotas(components: ClientQuotaFilterComponent[], strict = false): Promise<ClientQuotaEntry[]> {
    const response = await this.cluster.withRetry(async () => (await this.controller()).request(ApiKey.DescribeClientQuotas, { components, strict }));
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, response.errorMessage ?? 'DescribeClientQuotas');
    return (response.entries ?? []).map((e) => ({
      entity: Object.fromEntries(e.entity.map((x) => [x.entityType, x.entityName])),
      values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
    }));
  }

  /** AlterClientQuotas: sets (value) or removes (null) quota keys of each entity. */
  async alterClientQuotas(alterations: ClientQuotaAlteration[], validateOnly = false): Promise<void> {
    const response = await this.cluster.withRetry(async () =>
      (await this.controller()).request(ApiKey.AlterClientQuotas, {
        entries: alterations.map((a) => ({
          entity: Object.entries(a.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
          ops: a.ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.value === null })),
        })),
        validateOnly,
      }),
    );
    for (const e of response.entries) if (e.errorCode !== 0) throw new KafkaError(e.errorCode, e.errorMessage ?? 'AlterClientQuotas');
  }

  async alterConfigs(resources: Array<ConfigResource & { configs: Record<string, string | null> }>, validateOnly = false): Promise<void> {
    const responses = await this.perConfigNode(resources, async (c, group) =>
      (
        await c.request(ApiKey.AlterConfigs, {
          resources: group.map((r) => ({
            resourceType: ConfigResourceType[r.type],
            resourceName: r.name,
            configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })),
          })),
          validateOnly,
        })
      ).responses,
    );
    for (const r of responses) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.resourceName);
  }

  async incrementalAlterConfigs(
    resources: Array<ConfigResource & { changes: Array<{ name: string; op: IncrementalOperation; value?: string | null }> }>,
    validateOnly = false,
  ): Promise<void> {
    const responses = await this.perConfigNode(resources, async (c, group) =>
      (
        await c.request(ApiKey.IncrementalAlterConfigs, {
          resources: group.map((r) => ({
            resourceType: ConfigResourceType[r.type],
            resourceName: r.name,
            configs: r.changes.map((ch) => ({ name: ch.name, configOperation: INCREMENTAL_OPS[ch.op], value: ch.value ?? null })),
          })),
          validateOnly,
        })
      ).responses,
    );
    for (const r of responses) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.resourceName);
  }

  // ---- offsets and records ----

  /**
   * Offsets by timestamp (ms) or OffsetSpec (latest/earliest/maxTimestamp) per partition, asked of
   * each partition's leader. A timestamp past the last record gives offset -1n.
   */
  async listOffsets(topic: string, spec: bigint = OffsetSpec.latest, partitions?: number[], isolationLevel: 0 | 1 = 0): Promise<PartitionOffset[]> {
    await this.cluster.ensureTopics([topic]);
    const wanted = partitions ?? this.cluster.topic(topic)!.partitions.map((p) => p.partition);
    return listOffsetsVia(this.cluster, wanted.map((partition) => ({ topic, partition, timestamp: spec })), isolationLevel);
  }

  /** Deletes records below `offset` per partition (-1n: up to the high watermark); returns the new low watermarks. */
  async deleteRecords(topic: string, partitions: Array<{ partition: number; offset: bigint }>, timeoutMs = 30_000): Promise<PartitionOffset[]> {
    await this.cluster.ensureTopics([topic]);
    // Leaders are looked up on every attempt, as in listOffsetsVia.
    return this.cluster.withRetry(async () => {
      const byLeader = groupBy(partitions, (p) => this.cluster.leaderOf(topic, p.partition));
      const out: PartitionOffset[] = [];
      await Promise.all(
        [...byLeader].map(async ([leader, list]) => {
          const c = await this.cluster.connectionTo(leader);
          const response = await c.request(ApiKey.DeleteRecords, {
            topics: [{ name: topic, partitions: list.map((p) => ({ partitionIndex: p.partition, offset: p.offset })) }],
            timeoutMs,
          });
          for (const t of response.topics)
            for (const p of t.partitions) {
              if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
              out.push({ topic: t.name, partition: p.partitionIndex, offset: p.lowWatermark });
            }
        }),
      );
      return out.sort((a, b) => a.partition - b.partition);
    });
  }

  // ---- cluster ----

  /**
   * ElectLeaders: 'preferred' moves leadership to each partition's first replica, 'unclean' gives
   * a partition without a live leader any live replica. `partitions` null: every partition (then
   * those needing nothing are left out of the answer). One result per partition, with its error
   * code (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, …) rather than a thrown error.
   */
  async electLeaders(
    electionType: 'preferred' | 'unclean',
    partitions: Array<{ topic: string; partition: number }> | null,
    options: { timeoutMs?: number } = {},
  ): Promise<Array<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }>> {
    const byTopic = new Map<string, number[]>();
    for (const p of partitions ?? []) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.ElectLeaders, {
        electionType: electionType === 'preferred' ? 0 : 1,
        topicPartitions: partitions === null ? null : [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
        timeoutMs: options.timeoutMs ?? 60_000,
      });
    });
    if ((response.errorCode ?? 0) !== 0) throw new KafkaError(response.errorCode!, 'ElectLeaders failed');
    return response.replicaElectionResults.flatMap((r) =>
      r.partitionResult.map((p) => ({ topic: r.topic, partition: p.partitionId, errorCode: p.errorCode, errorMessage: p.errorMessage ?? null })),
    );
  }

  /**
   * AlterPartitionReassignments (KIP-455): each partition moves to its target replicas, or with
   * `replicas: null` its ongoing reassignment is cancelled. One result per partition.
   */
  async alterPartitionReassignments(
    partitions: Array<{ topic: string; partition: number; replicas: number[] | null }>,
    options: { timeoutMs?: number } = {},
  ): Promise<Array<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }>> {
    const byTopic = new Map<string, Array<{ partitionIndex: number; replicas: number[] | null }>>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partitionIndex: p.partition, replicas: p.replicas }]);
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.AlterPartitionReassignments, { timeoutMs: options.timeoutMs ?? 60_000, topics: [...byTopic].map(([name, list]) => ({ name, partitions: list })) });
    });
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, response.errorMessage ?? 'AlterPartitionReassignments failed');
    return response.responses.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode, errorMessage: p.errorMessage ?? null })));
  }

  /** ListPartitionReassignments: the partitions with a reassignment under way (all, or those of `topics`). */
  async listPartitionReassignments(
    topics: Array<{ topic: string; partitions: number[] }> | null = null,
  ): Promise<Array<{ topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }>> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.controller();
      return c.request(ApiKey.ListPartitionReassignments, { timeoutMs: 60_000, topics: topics === null ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })) });
    });
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, response.errorMessage ?? 'ListPartitionReassignments failed');
    return response.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })),
    );
  }

  /**
   * Fences the producers of these transactional ids (KIP-664, Admin.fenceProducers): each id's
   * transaction coordinator bumps its epoch as for a new producer instance, aborting an open
   * transaction, so any producer still using the id fails from then on. Resolves with each id's
   * producer id and new epoch.
   */
  async fenceProducers(transactionalIds: string[], options: { timeoutMs?: number } = {}): Promise<Array<{ transactionalId: string; producerId: bigint; producerEpoch: number }>> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    return Promise.all(
      transactionalIds.map(async (transactionalId) => {
        for (;;) {
          const r = await this.cluster.withRetry(async () => {
            const c = await this.cluster.coordinatorFor(transactionalId, 1);
            const answer = await c.request(ApiKey.InitProducerId, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
            if (answer.errorCode === ErrorCode.NOT_COORDINATOR || answer.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) this.cluster.forgetCoordinator(transactionalId, 1);
            return answer;
          });
          // The coordinator aborts an open transaction first and answers CONCURRENT_TRANSACTIONS meanwhile.
          const again = r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS || r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || r.errorCode === ErrorCode.NOT_COORDINATOR || r.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE;
          if (again && Date.now() < deadline) {
            await new Promise((res) => setTimeout(res, 50));
            continue;
          }
          if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, `fencing producers of transactional id ${transactionalId}`);
          return { transactionalId, producerId: r.producerId!, producerEpoch: r.producerEpoch! };
        }
      }),
    );
  }

  async describeCluster(): Promise<{ clusterId: string; controllerId: number; brokers: BrokerAddress[] }> {
    const c = await this.cluster.anyConnection();
    if (c.versionOf(ApiKey.DescribeCluster) >= 0) {
      const r = await this.cluster.withRetry(() => c.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false }));
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? 'DescribeCluster');
      return {
        clusterId: r.clusterId,
        controllerId: r.controllerId ?? -1,
        brokers: r.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack ?? null })),
      };
    }
    await this.cluster.refreshMetadata();
    return { clusterId: this.cluster.clusterId ?? '', controllerId: this.cluster.controllerId, brokers: this.cluster.brokers() };
  }

  /**
   * AlterReplicaLogDirs (KIP-113): moves replicas between a broker's log directories (a replica the
   * broker does not host yet is created in that directory). One request per broker.
   */
  async alterReplicaLogDirs(moves: ReadonlyArray<{ broker: number; topic: string; partition: number; dir: string }>): Promise<Array<{ broker: number; topic: string; partition: number; dir: string; errorCode: number }>> {
    await this.cluster.refreshMetadata();
    const byBroker = new Map<number, Array<{ broker: number; topic: string; partition: number; dir: string }>>();
    for (const m of moves) (byBroker.get(m.broker) ?? byBroker.set(m.broker, []).get(m.broker)!).push(m);
    const results = await Promise.all(
      [...byBroker].map(async ([broker, list]) => {
        const dirs = new Map<string, Map<string, number[]>>();
        for (const m of list) {
          const topics = dirs.get(m.dir) ?? dirs.set(m.dir, new Map()).get(m.dir)!;
          (topics.get(m.topic) ?? topics.set(m.topic, []).get(m.topic)!).push(m.partition);
        }
        const r = await this.cluster.withRetry(async () =>
          (await this.cluster.connectionTo(broker)).request(ApiKey.AlterReplicaLogDirs, { dirs: [...dirs].map(([path, topics]) => ({ path, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) })) }),
        );
        const codes = new Map(r.results.flatMap((t) => t.partitions.map((p) => [`${t.topicName}\0${p.partitionIndex}`, p.errorCode] as const)));
        return list.map((m) => ({ ...m, errorCode: codes.get(`${m.topic}\0${m.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR }));
      }),
    );
    return results.flat();
  }

  /** Log directories of every broker (or the given ones), with partition sizes. */
  async describeLogDirs(brokerIds?: number[]): Promise<Array<{ broker: number; logDir: string; errorCode: number; partitions: Array<{ topic: string; partition: number; size: bigint; offsetLag: bigint; isFuture: boolean }> }>> {
    await this.cluster.refreshMetadata();
    const ids = brokerIds ?? this.cluster.brokers().map((b) => b.nodeId);
    const results = await Promise.all(
      ids.map(async (broker) => {
        const r = await this.cluster.withRetry(async () => (await this.cluster.connectionTo(broker)).request(ApiKey.DescribeLogDirs, { topics: null }));
        if ((r.errorCode ?? 0) !== 0) throw new KafkaError(r.errorCode ?? 0, `DescribeLogDirs on broker ${broker}`);
        return r.results.map((d) => ({
          broker,
          logDir: d.logDir,
          errorCode: d.errorCode,
          partitions: d.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, size: p.partitionSize, offsetLag: p.offsetLag, isFuture: p.isFutureKey ?? false }))),
        }));
      }),
    );
    return results.flat();
  }

  /**
   * What kafka-broker-api-versions.sh shows: each live broker's advertised range per API and the
   * version this client would use with it (-1: none in common).
   */
  async brokerApiVersions(): Promise<Array<{ broker: BrokerAddress; apis: Array<{ apiKey: number; name: string; min: number; max: number; usable: number }> }>> {
    await this.cluster.refreshMetadata();
    return Promise.all(
      this.cluster
        .brokers()
        .sort((a, b) => a.nodeId - b.nodeId)
        .map(async (broker) => {
          const c = await this.cluster.withRetry(() => this.cluster.connectionTo(broker.nodeId));
          const apis = [...c.brokerVersions]
            .sort(([a], [b]) => a - b)
            .map(([apiKey, range]) => ({ apiKey, name: apiInfo.get(apiKey)?.name ?? `Unknown${apiKey}`, min: range.min, max: range.max, usable: apiInfo.has(apiKey) ? c.versionOf(apiKey) : -1 }));
          return { broker, apis };
        }),
    );
  }

  // ---- consumer groups ----

  async listGroups(): Promise<Array<{ groupId: string; protocolType: string; state: string | null }>> {
    await this.cluster.refreshMetadata();
    const all = await Promise.all(
      this.cluster.brokers().map(async (b) => {
        const r = await this.cluster.withRetry(async () => (await this.cluster.connectionTo(b.nodeId)).request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] }));
        if (r.errorCode !== 0) throw new KafkaError(r.errorCode, 'ListGroups');
        return r.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? null }));
      }),
    );
    return all.flat().sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const r = await this.withCoordinator(groupId, (c) => c.request(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false }), (r) => r.groups[0]?.errorCode ?? 0);
        const g = r.groups[0];
        if (g.errorCode !== 0) throw new KafkaError(g.errorCode, groupId);
        return {
          groupId: g.groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId ?? null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment:
              g.protocolType === 'consumer' && m.memberAssignment.length > 0
                ? decodeConsumerProtocolAssignment(m.memberAssignment).value.assignedPartitions.map((a) => ({ topic: a.topic, partitions: a.partitions }))
                : [],
          })),
        };
      }),
    );
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const r = await this.withCoordinator(groupId, (c) => c.request(ApiKey.DeleteGroups, { groupsNames: [groupId] }), (r) => r.results[0]?.errorCode ?? 0);
      const code = r.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      if (code !== 0) throw new KafkaError(code, groupId);
    }
  }

  /** Committed offsets of a group (all its partitions, or the given topics'). */
  async listConsumerGroupOffsets(groupId: string, topics?: string[]): Promise<PartitionOffset[]> {
    let request: Array<{ name: string; partitionIndexes: number[] }> | null = null;
    if (topics !== undefined) {
      await this.cluster.ensureTopics(topics);
      request = topics.map((t) => ({ name: t, partitionIndexes: this.cluster.topic(t)!.partitions.map((p) => p.partition) }));
    }
    const r = await this.withCoordinator(groupId, (c) => c.request(ApiKey.OffsetFetch, { groupId, topics: request, requireStable: false }), (r) => r.errorCode ?? 0);
    if ((r.errorCode ?? 0) !== 0) throw new KafkaError(r.errorCode ?? 0, groupId);
    const out: PartitionOffset[] = [];
    for (const t of r.topics ?? [])
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
        if (p.committedOffset >= 0n) out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset });
      }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** Sets a group's committed offsets (the group must have no active members). */
  async alterConsumerGroupOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void> {
    const topics = [...groupBy(offsets, (o) => o.topic)].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: '' })),
    }));
    const r = await this.withCoordinator(
      groupId,
      (c) => c.request(ApiKey.OffsetCommit, { groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics }),
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? 0,
    );
    for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
  }

  async deleteConsumerGroupOffsets(groupId: string, topic: string, partitions: number[]): Promise<void> {
    const r = await this.withCoordinator(
      groupId,
      (c) => c.request(ApiKey.OffsetDelete, { groupId, topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }] }),
      (r) => r.errorCode,
    );
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, groupId);
    for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
  }

  /** Runs a request on the group's coordinator, finding it again when it moved. */
  private withCoordinator<T>(groupId: string, fn: (c: Connection) => Promise<T>, errorOf: (r: T) => number): Promise<T> {
    if (groupId === '') throw new MisuseError('groupId must not be empty');
    return this.cluster.withRetry(async () => {
      const c = await this.cluster.coordinatorFor(groupId);
      const r = await fn(c);
      const code = errorOf(r);
      if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
        this.cluster.forgetCoordinator(groupId);
        throw new KafkaError(code, groupId);
      }
      return r;
    });
  }
}

export function groupBy<T, K>(items: Iterable<T>, keyOf: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    let list = out.get(k);
    if (list === undefined) out.set(k, (list = []));
    list.push(item);
  }
  return out;
}

/** ListOffsets for many partitions, one request per leader. */
export async function listOffsetsVia(
  cluster: Cluster,
  queries: Array<{ topic: string; partition: number; timestamp: bigint }>,
  isolationLevel: 0 | 1 = 0,
): Promise<PartitionOffset[]> {
  await cluster.ensureTopics(new Set(queries.map((q) => q.topic)));
  // Leaders are looked up on every attempt: a retry after a leader moved goes to the new one.
  return cluster.withRetry(async () => {
    const byLeader = groupBy(queries, (q) => cluster.leaderOf(q.topic, q.partition));
    const out: PartitionOffset[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const c = await cluster.connectionTo(leader);
        const r = await c.request(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel,
          topics: [...groupBy(list, (q) => q.topic)].map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({ partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: p.timestamp, maxNumOffsets: 1 })),
          })),
          timeoutMs: 30_000,
        });
        for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== 0) throw new KafkaError(p.errorCode, `${t.name}-${p.partitionIndex}`);
        for (const t of r.topics) for (const p of t.partitions) out.push({ topic: t.name, partition: p.partitionIndex, offset: p.offset ?? p.oldStyleOffsets?.[0] ?? -1n });
      }),
    );
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  });
}
