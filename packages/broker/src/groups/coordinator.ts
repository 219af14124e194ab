/**
 * Kafka's group coordinator service: routes each group's requests to the shard of the
 * __consumer_offsets partition the group hashes to (GroupCoordinatorShard: membership state
 * machine and offset store), run by a CoordinatorRuntime that loads a shard when this broker
 * becomes the partition's leader and unloads it when it resigns. A request for a shard that is not
 * here answers NOT_COORDINATOR, for one still loading COORDINATOR_LOAD_IN_PROGRESS; clients then
 * ask FindCoordinator again, which answers with the partition's leader.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { BrokerContext, Endpoint } from '../broker-context.js';
import { clusterBrokers } from '../handlers/metadata.js';
import { CoordinatorRuntime, type LoadSummary } from '../coordinator/runtime.js';
import type { Timer } from '../coordinator/timer.js';
import type { Group, JoinResult, SyncResult } from './group.js';
import { GroupCoordinatorShard } from './group-coordinator-shard.js';
import { OFFSETS_TOPIC, OffsetsLog } from './offsets-log.js';
import {
  errorCodeOf,
  joinError,
  syncError,
  type FetchedOffset,
  type GroupCoordinatorEnvironment,
  type GroupDescription,
  type GroupListing,
  type JoinRequest,
  type LeaveResult,
  type MemberIdentity,
  type OffsetCommitRequest,
  type SyncRequest,
} from './requests.js';

export type { FetchedOffset, GroupDescription, JoinRequest, MemberIdentity, OffsetCommitRequest, SyncRequest } from './requests.js';

/** A broker as FindCoordinator names it. */
export interface CoordinatorNode extends Endpoint {
  nodeId: number;
}

export interface GroupCoordinatorOptions {
  /** The leader of a __consumer_offsets partition, null when it has none; default this broker. */
  leaderOf?(partition: number): CoordinatorNode | null;
  /** Timers for each shard (tests drive time); default wall-clock. */
  newTimer?(): Timer;
}

/** The loaded groups of every shard on this broker, looked up by group id. */
export class LoadedGroups {
  constructor(private readonly coordinator: GroupCoordinator) {}

  get(groupId: string): Group | undefined {
    return this.coordinator.activeShard(groupId)?.groups.get(groupId);
  }

  has(groupId: string): boolean {
    return this.get(groupId) !== undefined;
  }

  *values(): IterableIterator<Group> {
    for (const shard of this.coordinator.runtime.activeShards()) yield* shard.groups.values();
  }

  get size(): number {
    let n = 0;
    for (const shard of this.coordinator.runtime.activeShards()) n += shard.groups.size;
    return n;
  }
}

export class GroupCoordinator {
  readonly offsetsLog: OffsetsLog;
  readonly runtime: CoordinatorRuntime<GroupCoordinatorShard>;
  readonly groups = new LoadedGroups(this);
  private readonly leaderOf: (partition: number) => CoordinatorNode | null;
  /** Set by load(): this broker leads every partition, also any the topic gains later. */
  private leadsEveryPartition = false;
  /** Partitions whose leadership this broker has been told about (loaded or resigned). */
  private readonly decided = new Set<number>();
  /** Loads in progress, settled (either way) when done. */
  private readonly loads = new Map<number, Promise<void>>();

  constructor(
    private readonly broker: BrokerContext,
    options: GroupCoordinatorOptions = {},
  ) {
    this.offsetsLog = new OffsetsLog(broker);
    const env: GroupCoordinatorEnvironment = {
      config: broker.config,
      log: broker.logger,
      partitionCount: (topic) => broker.topics.get(topic)?.partitions.length,
      ...(broker.metrics !== null ? { events: broker.metrics.groupEvents } : {}),
    };
    this.runtime = new CoordinatorRuntime({
      topic: OFFSETS_TOPIC,
      log: broker.logger,
      partition: (p) => this.offsetsLog.partition(p),
      newShard: (context) => new GroupCoordinatorShard(context, env),
      newTimer: options.newTimer,
    });
    this.leaderOf = options.leaderOf ?? ((p) => offsetsPartitionLeader(broker, p));
  }

  // ------------------------------------------------------------------ leadership

  /** This broker leads `partition` of __consumer_offsets: load its groups. */
  onBecomeLeader(partition: number, leaderEpoch: number): Promise<LoadSummary> {
    this.decided.add(partition);
    const loading = this.runtime.onBecomeLeader(partition, leaderEpoch);
    const settled = loading.then(
      () => undefined,
      () => undefined,
    );
    this.loads.set(partition, settled);
    void settled.then(() => {
      if (this.loads.get(partition) === settled) this.loads.delete(partition);
    });
    return loading;
  }

  /** This broker no longer leads `partition`: unload its groups (their clients get NOT_COORDINATOR). */
  onResign(partition: number, leaderEpoch?: number): void {
    this.decided.add(partition);
    this.runtime.onResign(partition, leaderEpoch);
  }

  /**
   * Start-up: a single broker leads every __consumer_offsets partition (also those of a topic not
   * created yet), so it loads them all; a broker of a cluster loads those it leads now, and the
   * leadership hooks above do the rest.
   */
  async load(): Promise<void> {
    const startedAt = performance.now();
    const topic = this.broker.topics.get(OFFSETS_TOPIC);
    const clustered = this.broker.metadata.clustered;
    this.leadsEveryPartition = !clustered;
    let records = 0;
    for (let p = 0; p < this.offsetsLog.partitionCount; p++) {
      if (this.decided.has(p)) continue;
      if (clustered) {
        const hosted = this.broker.replicaManager.getPartition(OFFSETS_TOPIC, p);
        if (hosted?.role !== 'leader') continue;
      }
      records += (await this.onBecomeLeader(p, topic?.partitions[p]?.leaderEpoch ?? 0)).records;
    }
    if (records > 0) {
      this.broker.logger.info(`group coordinator loaded ${this.groups.size} group(s) from ${records} __consumer_offsets record(s) in ${(performance.now() - startedAt).toFixed(0)} ms`);
    }
  }

  /** Unloads every shard: timers stop, parked JoinGroup/SyncGroup answer NOT_COORDINATOR. */
  stop(): void {
    this.leadsEveryPartition = false;
    this.runtime.close();
  }

  partitionFor(groupId: string): number {
    return this.offsetsLog.partitionFor(groupId);
  }

  /** FindCoordinator's answer for a group: the leader of its partition. */
  coordinatorFor(groupId: string): CoordinatorNode | null {
    return this.leaderOf(this.partitionFor(groupId));
  }

  /** The group's shard if it is loaded here and serving. */
  activeShard(groupId: string): GroupCoordinatorShard | undefined {
    const partition = this.partitionFor(groupId);
    return this.runtime.status(partition) === 'active' ? this.runtime.shard(partition) : undefined;
  }

  /** The group's shard, or the error code to answer instead (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS). */
  private shardFor(groupId: string): GroupCoordinatorShard | number {
    const partition = this.partitionFor(groupId);
    if (this.leadsEveryPartition && !this.decided.has(partition)) {
      // A partition created after start-up (the topic made or grown by an admin): lead it too.
      const epoch = this.broker.topics.get(OFFSETS_TOPIC)?.partitions[partition]?.leaderEpoch ?? 0;
      this.onBecomeLeader(partition, epoch).catch((err: unknown) => this.broker.logger.warn(`loading ${OFFSETS_TOPIC}-${partition} failed: ${(err as Error).message}`));
    }
    try {
      return this.runtime.shard(partition);
    } catch (err) {
      return errorCodeOf(err);
    }
  }

  // ------------------------------------------------------------------ membership

  join(request: JoinRequest): Promise<JoinResult> {
    const shard = this.shardFor(request.groupId);
    if (typeof shard === 'number') return Promise.resolve(joinError(shard, request.memberId));
    return shard.groupMetadataManager.join(request);
  }

  sync(request: SyncRequest): Promise<SyncResult> {
    const shard = this.shardFor(request.groupId);
    if (typeof shard === 'number') return Promise.resolve(syncError(shard));
    return shard.groupMetadataManager.sync(request);
  }

  heartbeatRequest(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') return shard;
    return shard.groupMetadataManager.heartbeatRequest(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, members: MemberIdentity[]): LeaveResult {
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') return { errorCode: shard, members: [] };
    return shard.groupMetadataManager.leave(groupId, members);
  }

  // ------------------------------------------------------------------ offsets

  /** OffsetCommit: an error code per requested partition, in request order. */
  commitOffsets(request: OffsetCommitRequest): Promise<number[]> {
    const shard = this.shardFor(request.groupId);
    if (typeof shard === 'number') return Promise.resolve(request.partitions.map(() => shard));
    return shard.offsetStore.commitOffsets(request);
  }

  /** TxnOffsetCommit: the offsets written as the producer's transactional records, applied when its commit marker lands. */
  txnCommitOffsets(request: OffsetCommitRequest, producerId: bigint, producerEpoch: number): Promise<number[]> {
    const shard = this.shardFor(request.groupId);
    if (typeof shard === 'number') return Promise.resolve(request.partitions.map(() => shard));
    return shard.offsetStore.txnCommitOffsets(request, producerId, producerEpoch);
  }

  /**
   * A transaction marker was written to `partition` of __consumer_offsets here: settle the
   * producer's transactional offsets. A shard still loading settles them once loaded (the marker
   * may lie past the end its load reads to).
   */
  completeTransaction(partition: number, producerId: bigint, producerEpoch: number, commit: boolean): void {
    const apply = () => {
      if (this.runtime.status(partition) === 'active') this.runtime.shard(partition).offsetStore.completeTransaction(producerId, producerEpoch, commit);
    };
    const loading = this.loads.get(partition);
    if (loading) void loading.then(apply);
    else apply();
  }

  /** True while an undecided transaction holds an offset of the group's partition (KIP-447 require_stable). */
  hasPendingTransactionalOffset(groupId: string, topic: string, partition: number): boolean {
    return this.activeShard(groupId)?.offsetStore.hasPendingTransactionalOffset(groupId, topic, partition) ?? false;
  }

  /**
   * OffsetFetch for one group: the requested partitions (-1 for those without a commit), or every
   * committed partition when `topics` is null. Throws a KafkaError when the group's shard is not here.
   */
  fetchOffsets(groupId: string, topics: { name: string; partitions: number[] }[] | null): FetchedOffset[] {
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') throw new KafkaError(shard, `OffsetFetch ${groupId}: error ${shard}`);
    return shard.offsetStore.fetchOffsets(groupId, topics);
  }

  /** OffsetDelete: a group error, or an error per partition. */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    if (groupId === '') return Promise.resolve({ errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] });
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') return Promise.resolve({ errorCode: shard, partitions: [] });
    return shard.offsetStore.deleteOffsets(groupId, partitions);
  }

  /** Expires offsets in every loaded shard now (or at `now`); the number expired. */
  async expireOffsets(now?: number): Promise<number> {
    let expired = 0;
    for (const shard of this.runtime.activeShards()) expired += await shard.expireOffsets(now);
    return expired;
  }

  // ------------------------------------------------------------------ group administration

  /** ListGroups over every shard here; throws COORDINATOR_LOAD_IN_PROGRESS while one still loads. */
  listGroups(statesFilter: string[], typesFilter: string[]): GroupListing[] {
    if (this.runtime.loading) throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'Some groups are still loading.');
    return this.runtime.activeShards().flatMap((shard) => shard.listGroups(statesFilter, typesFilter));
  }

  describeGroup(groupId: string): GroupDescription {
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') return { errorCode: shard, groupId, state: '', protocolType: '', protocolData: '', members: [] };
    return shard.describeGroup(groupId);
  }

  /** DeleteGroups for one group: only groups without members; offsets and metadata are tombstoned. */
  deleteGroup(groupId: string): Promise<number> {
    const shard = this.shardFor(groupId);
    if (typeof shard === 'number') return Promise.resolve(shard);
    return shard.deleteGroup(groupId);
  }
}

/**
 * The broker leading a partition of __consumer_offsets, as the metadata says (its registered
 * endpoint); this broker while the topic does not exist yet; null while the partition has no live
 * leader (FindCoordinator answers COORDINATOR_NOT_AVAILABLE and the client asks again).
 */
function offsetsPartitionLeader(broker: BrokerContext, partition: number): CoordinatorNode | null {
  return leaderOfPartition(broker, OFFSETS_TOPIC, partition);
}

/** The broker leading a partition of a coordinator's internal topic (the group's or the transaction coordinator's). */
export function leaderOfPartition(broker: BrokerContext, topic: string, partition: number): CoordinatorNode | null {
  const assignment = broker.metadata.topic(topic)?.partitions[partition];
  if (!assignment) return { nodeId: broker.nodeId, ...broker.advertisedEndpoint() };
  const node = clusterBrokers(broker).find((b) => b.nodeId === assignment.leader);
  return node ? { nodeId: node.nodeId, host: node.host, port: node.port } : null;
}
