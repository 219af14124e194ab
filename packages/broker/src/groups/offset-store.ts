/**
 * Committed offsets of the groups of one __consumer_offsets partition (Kafka's
 * OffsetMetadataManager): OffsetCommit, OffsetFetch, OffsetDelete, and expiration under
 * offsets.retention.minutes. A commit is validated against the group's membership (in
 * GroupMetadataManager), written as one batch, and applied once the partition has committed it.
 * TxnOffsetCommit writes the same records as a transactional batch of the producer: they are held
 * pending until that producer's marker lands in the partition (commit: applied; abort: dropped),
 * so offsets committed in a transaction survive a crash between PREPARE_COMMIT and its markers.
 */
import { ErrorCode } from '@sluice/protocol';
import type { ShardContext } from '../coordinator/runtime.js';
import type { CoordinatorRecord } from '../coordinator/partition.js';
import type { Group } from './group.js';
import type { GroupMetadataManager } from './group-metadata-manager.js';
import { encodeGroupMetadataKey, encodeOffsetCommitKey, encodeOffsetCommitValue, type OffsetCommitValue } from './records.js';
import { writeErrorCode, type FetchedOffset, type GroupCoordinatorEnvironment, type OffsetCommitPartition, type OffsetCommitRequest } from './requests.js';

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Milliseconds since the epoch; -1 when the commit did not ask for its own expiry. */
  expireTimestamp: number;
}

/** topic → partition → committed offset. */
type GroupOffsets = Map<string, Map<number, CommittedOffset>>;

/** What a producer's open transaction committed for one group partition. */
interface PendingOffset {
  groupId: string;
  topic: string;
  partition: number;
  committed: CommittedOffset;
}

export class OffsetStore {
  /** group id → its committed offsets; a group without any has no entry. */
  private readonly offsets = new Map<string, GroupOffsets>();
  /** producer id → its open transaction's offsets (keyed group/topic/partition), waiting for the marker. */
  private readonly pendingTransactions = new Map<bigint, Map<string, PendingOffset>>();
  /** The newest epoch seen per transactional producer here: an older one is a zombie, fenced. */
  private readonly producerEpochs = new Map<bigint, number>();

  constructor(
    private readonly context: ShardContext,
    private readonly env: GroupCoordinatorEnvironment,
    private readonly groups: GroupMetadataManager,
  ) {}

  private int(key: string): number {
    return this.env.config.int(key);
  }

  // ------------------------------------------------------------------ the in-memory map

  offsetOf(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(groupId)?.get(topic)?.get(partition);
  }

  hasOffsets(groupId: string): boolean {
    return this.offsets.has(groupId);
  }

  /** The group's committed offsets (metrics and lag read them at scrape time). */
  *committed(groupId: string): IterableIterator<{ topic: string; partition: number; committed: CommittedOffset }> {
    const byTopic = this.offsets.get(groupId);
    if (!byTopic) return;
    for (const [topic, partitions] of byTopic) for (const [partition, committed] of partitions) yield { topic, partition, committed };
  }

  /** Group ids with offsets, in the order they were first committed (loaded). */
  groupIds(): IterableIterator<string> {
    return this.offsets.keys();
  }

  private set(groupId: string, topic: string, partition: number, committed: CommittedOffset): void {
    let byTopic = this.offsets.get(groupId);
    if (!byTopic) this.offsets.set(groupId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, committed);
  }

  private delete(groupId: string, topic: string, partition: number): boolean {
    const byTopic = this.offsets.get(groupId);
    const byPartition = byTopic?.get(topic);
    if (!byTopic || !byPartition?.delete(partition)) return false;
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.offsets.delete(groupId);
    return true;
  }

  private count(groupId: string): number {
    let n = 0;
    for (const byPartition of this.offsets.get(groupId)?.values() ?? []) n += byPartition.size;
    return n;
  }

  /** Applies an OffsetCommit record (null: a tombstone) while loading. */
  replay(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null): void {
    if (value === null) this.delete(groupId, topic, partition);
    else this.set(groupId, topic, partition, toCommitted(value));
  }

  /** Applies a TxnOffsetCommit record while loading: pending until its producer's marker. */
  replayTransactional(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null, producerId: bigint): void {
    if (value === null) return;
    this.addPending(producerId, { groupId, topic, partition, committed: toCommitted(value) });
  }

  private addPending(producerId: bigint, pending: PendingOffset): void {
    let held = this.pendingTransactions.get(producerId);
    if (!held) this.pendingTransactions.set(producerId, (held = new Map()));
    held.set(`${pending.groupId}\u0000${pending.topic}\u0000${pending.partition}`, pending);
  }

  /**
   * The producer's marker is in the partition: its transaction's offsets are committed (applied)
   * or aborted (dropped). While loading the groups are built afterwards from what is applied here.
   */
  completeTransaction(producerId: bigint, producerEpoch: number, commit: boolean, loading = false): void {
    if (producerEpoch > (this.producerEpochs.get(producerId) ?? -1)) this.producerEpochs.set(producerId, producerEpoch);
    const held = this.pendingTransactions.get(producerId);
    if (!held) return;
    this.pendingTransactions.delete(producerId);
    if (!commit) return;
    for (const { groupId, topic, partition, committed } of held.values()) {
      if (!loading) this.groups.groupForCommit(groupId);
      this.set(groupId, topic, partition, committed);
      if (!loading) this.env.events?.offsetCommitted(groupId, topic, partition, committed.offset, committed.commitTimestamp);
    }
  }

  /** True while an undecided transaction holds an offset of the group's partition (KIP-447 require_stable). */
  hasPendingTransactionalOffset(groupId: string, topic: string, partition: number): boolean {
    const key = `${groupId}\u0000${topic}\u0000${partition}`;
    for (const held of this.pendingTransactions.values()) if (held.has(key)) return true;
    return false;
  }

  /** Tombstones for every offset of the group (DeleteGroups writes them with the group's). */
  tombstones(groupId: string): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const [topic, byPartition] of this.offsets.get(groupId) ?? []) {
      for (const partition of byPartition.keys()) records.push({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null });
    }
    return records;
  }

  /** Forgets the group's offsets once its deletion is committed. */
  removeGroup(groupId: string): void {
    this.offsets.delete(groupId);
  }

  // ------------------------------------------------------------------ OffsetCommit

  /** OffsetCommit: an error code per requested partition, in request order. */
  async commitOffsets(request: OffsetCommitRequest): Promise<number[]> {
    const groupError = this.groups.validateOffsetCommit(request);
    if (groupError !== ErrorCode.NONE) return request.partitions.map(() => groupError);
    const { codes, accepted } = this.accept(request);
    if (accepted.length === 0) return codes;
    const groupId = request.groupId;
    try {
      await this.context.write(accepted.map(({ p, committed }) => offsetRecord(groupId, p, committed)));
    } catch (err) {
      const code = writeErrorCode(err, groupId, this.env.log);
      for (const a of accepted) codes[a.index] = code;
      return codes;
    }
    // A plain commit creates its group (only once something is stored); one that raced with the
    // group's deletion starts a new group, without the deleted one's offsets (as in Kafka).
    const existing = this.groups.groups.get(groupId);
    if (!existing || existing.is('Dead')) this.offsets.delete(groupId);
    this.groups.groupForCommit(groupId);
    for (const { p, committed } of accepted) this.set(groupId, p.topic, p.partition, committed);
    const events = this.env.events;
    if (events !== undefined) for (const { p, committed } of accepted) events.offsetCommitted(groupId, p.topic, p.partition, committed.offset, committed.commitTimestamp);
    return codes;
  }

  /**
   * TxnOffsetCommit: the group's checks as OffsetCommit's, then the records written as the
   * producer's transactional batch and held until its marker (completeTransaction).
   */
  async txnCommitOffsets(request: OffsetCommitRequest, producerId: bigint, producerEpoch: number): Promise<number[]> {
    if ((this.producerEpochs.get(producerId) ?? -1) > producerEpoch) return request.partitions.map(() => ErrorCode.PRODUCER_FENCED);
    const groupError = this.groups.validateOffsetCommit(request, true);
    if (groupError !== ErrorCode.NONE) return request.partitions.map(() => groupError);
    const { codes, accepted } = this.accept(request);
    if (accepted.length === 0) return codes;
    const groupId = request.groupId;
    try {
      await this.context.write(
        accepted.map(({ p, committed }) => offsetRecord(groupId, p, committed)),
        { producerId, producerEpoch },
      );
    } catch (err) {
      const code = writeErrorCode(err, groupId, this.env.log);
      for (const a of accepted) codes[a.index] = code;
      return codes;
    }
    this.producerEpochs.set(producerId, producerEpoch);
    for (const { p, committed } of accepted) this.addPending(producerId, { groupId, topic: p.topic, partition: p.partition, committed });
    return codes;
  }

  /** Per-partition checks of a commit: the codes, and what passed with its stored form. */
  private accept(request: OffsetCommitRequest): { codes: number[]; accepted: { p: OffsetCommitPartition; committed: CommittedOffset; index: number }[] } {
    const maxMetadata = this.int('offset.metadata.max.bytes');
    const now = this.context.timer.now();
    const codes: number[] = [];
    const accepted: { p: OffsetCommitPartition; committed: CommittedOffset; index: number }[] = [];
    request.partitions.forEach((p, index) => {
      const partitions = this.env.partitionCount(p.topic);
      if (partitions === undefined || p.partition < 0 || p.partition >= partitions) return codes.push(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const metadata = p.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > maxMetadata) return codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
      const commitTimestamp = p.commitTimestamp >= 0 ? p.commitTimestamp : now;
      codes.push(ErrorCode.NONE);
      accepted.push({
        index,
        p,
        committed: {
          offset: p.offset,
          leaderEpoch: p.leaderEpoch,
          metadata,
          commitTimestamp,
          expireTimestamp: request.retentionTimeMs >= 0 ? commitTimestamp + request.retentionTimeMs : -1,
        },
      });
    });
    return { codes, accepted };
  }

  // ------------------------------------------------------------------ OffsetFetch and OffsetDelete

  /**
   * OffsetFetch for one group: the requested partitions (-1 for those without a commit), or every
   * committed partition when `topics` is null.
   */
  fetchOffsets(groupId: string, topics: { name: string; partitions: number[] }[] | null): FetchedOffset[] {
    const group = this.groups.groups.get(groupId);
    const live = group && !group.is('Dead') ? this.offsets.get(groupId) : undefined;
    if (topics === null) {
      const out: FetchedOffset[] = [];
      for (const [topic, byPartition] of live ?? []) {
        for (const [partition, c] of byPartition) out.push({ topic, partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata });
      }
      return out;
    }
    return topics.flatMap((t) =>
      t.partitions.map((partition) => {
        const c = live?.get(t.name)?.get(partition);
        return c
          ? { topic: t.name, partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata }
          : { topic: t.name, partition, offset: -1n, leaderEpoch: -1, metadata: '' };
      }),
    );
  }

  /** OffsetDelete: a group error, or an error per partition. */
  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<{ errorCode: number; partitions: number[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] };
    const group = this.groups.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: Set<string> | null = new Set();
    if (!group.is('Empty')) {
      if (group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      subscribed = group.subscribedTopics();
    }
    const codes = partitions.map(({ topic, partition }) => {
      const count = this.env.partitionCount(topic);
      if (count === undefined || partition < 0 || partition >= count) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (subscribed === null || subscribed.has(topic)) return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
      return ErrorCode.NONE;
    });
    const removable = partitions.filter((p, i) => codes[i] === ErrorCode.NONE && this.offsetOf(groupId, p.topic, p.partition));
    try {
      await this.context.write(removable.map((p) => ({ key: encodeOffsetCommitKey(groupId, p.topic, p.partition), value: null })));
    } catch (err) {
      return { errorCode: writeErrorCode(err, groupId, this.env.log), partitions: [] };
    }
    for (const p of removable) this.delete(groupId, p.topic, p.partition);
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  // ------------------------------------------------------------------ expiration

  /**
   * offsets.retention.minutes: an empty group's offsets expire that long after it became empty;
   * a group without a protocol (only simple commits) loses each offset that long after its commit;
   * a live consumer group loses offsets of topics it no longer subscribes to. An explicit expiry
   * (OffsetCommit v2–v4 retention) wins. An empty group left without offsets is deleted.
   */
  async expireOffsets(now: number): Promise<number> {
    const retentionMs = this.int('offsets.retention.minutes') * 60_000;
    let expired = 0;
    for (const group of [...this.groups.groups.values()]) {
      if (group.is('Dead')) continue;
      const doomed = this.expiredOffsets(group, now, retentionMs);
      // An empty group left with no offsets is gone (also one that never got past MEMBER_ID_REQUIRED).
      const deleteGroup = group.is('Empty') && group.members.size === 0 && group.pendingMembers.size === 0 && doomed.length === this.count(group.groupId);
      if (doomed.length === 0 && !deleteGroup) continue;
      const records: CoordinatorRecord[] = doomed.map((d) => ({ key: encodeOffsetCommitKey(group.groupId, d.topic, d.partition), value: null }));
      if (deleteGroup) records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
      await this.context.write(records);
      for (const d of doomed) this.delete(group.groupId, d.topic, d.partition);
      expired += doomed.length;
      if (deleteGroup && group.is('Empty') && !this.hasOffsets(group.groupId)) {
        group.transitionTo('Dead', this.context.timer.now());
        this.groups.removeGroup(group);
      }
      this.env.log.info(`group ${group.groupId}: ${doomed.length} committed offset(s) expired${deleteGroup ? '; group removed' : ''}`);
    }
    return expired;
  }

  private expiredOffsets(group: Group, now: number, retentionMs: number): { topic: string; partition: number }[] {
    let subscribed: Set<string> | null = null;
    if (group.is('Stable') && group.protocolType === 'consumer') {
      subscribed = group.subscribedTopics();
      if (subscribed === null) return [];
    } else if (!group.is('Empty')) return [];
    const doomed: { topic: string; partition: number }[] = [];
    for (const [topic, byPartition] of this.offsets.get(group.groupId) ?? []) {
      if (subscribed?.has(topic)) continue;
      for (const [partition, c] of byPartition) {
        const deadline =
          c.expireTimestamp >= 0
            ? c.expireTimestamp
            : (group.is('Empty') && group.protocolType !== null ? (group.currentStateTimestamp ?? c.commitTimestamp) : c.commitTimestamp) + retentionMs;
        if (deadline <= now) doomed.push({ topic, partition });
      }
    }
    return doomed;
  }
}

function toCommitted(value: OffsetCommitValue): CommittedOffset {
  return {
    offset: value.offset,
    leaderEpoch: value.leaderEpoch,
    metadata: value.metadata,
    commitTimestamp: Number(value.commitTimestamp),
    expireTimestamp: Number(value.expireTimestamp),
  };
}

function offsetRecord(groupId: string, p: OffsetCommitPartition, committed: CommittedOffset): CoordinatorRecord {
  return {
    key: encodeOffsetCommitKey(groupId, p.topic, p.partition),
    value: encodeOffsetCommitValue({
      offset: committed.offset,
      leaderEpoch: committed.leaderEpoch,
      metadata: committed.metadata,
      commitTimestamp: BigInt(committed.commitTimestamp),
      expireTimestamp: BigInt(committed.expireTimestamp),
    }),
  };
}
