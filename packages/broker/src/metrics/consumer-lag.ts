/**
 * Consumer lag, evaluated when asked (a scrape, the Burrow-style HTTP endpoint): per group this
 * coordinator serves and per committed partition, the committed offset, the partition's high
 * watermark and log start (from the local replica: a partition this broker hosts, leader or
 * follower), the lag in records and in seconds, and Burrow's verdict over the commits seen.
 *
 * Lag in seconds is now minus the timestamp of the record batch holding the committed offset (the
 * first record the group has not consumed, approximated by the first of its batch): one batch read
 * per lagging partition, remembered while the committed offset stays, so a scrape costs no more
 * than one small read per lagging partition whose offset moved.
 */
import { BatchOffsets, decodeAttributes, decodeConsumerProtocolAssignment, TimestampType } from '@sluice/protocol';
import type { Group } from '../groups/group.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { ReplicaManager } from '../replica/replica-manager.js';
import { CommitWindows, groupStatus, partitionStatus, type CommitSample, type GroupStatus, type PartitionStatus } from './burrow.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  currentOffset: number;
  /** High watermark; null when no replica of the partition is on this broker. */
  logEndOffset: number | null;
  logStartOffset: number | null;
  lag: number | null;
  lagSeconds: number | null;
  status: PartitionStatus;
  /** The commits the verdict was taken over, oldest first. */
  window: readonly CommitSample[];
  /** Share of the window filled (Burrow's `complete`). */
  complete: number;
  /** The member assigned the partition (consumer protocol groups), as Burrow's owner and client_id. */
  owner: string;
  clientId: string;
}

export interface GroupLag {
  group: string;
  state: string;
  members: number;
  status: GroupStatus;
  totalLag: number;
  complete: number;
  partitions: PartitionLag[];
}

export class ConsumerLag {
  readonly windows: CommitWindows;
  private groups: GroupCoordinator | null = null;
  /** topic\0partition → the batch timestamp found for an offset. */
  private readonly timestamps = new Map<string, { offset: number; timestamp: number }>();

  constructor(
    private readonly replicas: ReplicaManager,
    windowSize: number,
    minDistanceMs: number,
  ) {
    this.windows = new CommitWindows(windowSize, minDistanceMs);
  }

  attach(groups: GroupCoordinator): void {
    this.groups = groups;
  }

  /** A commit was applied: it enters the partition's window with the lag it had then. */
  onCommit(group: string, topic: string, partition: number, offset: bigint, timestampMs: number): void {
    const hw = this.highWatermark(topic, partition);
    const o = Number(offset);
    if (hw !== null) this.windows.sampleLogEnd(topic, partition, hw, Date.now());
    this.windows.add(group, topic, partition, { offset: o, timestamp: timestampMs, lag: hw === null ? null : Math.max(0, hw - o) });
  }

  private highWatermark(topic: string, partition: number): number | null {
    const p = this.replicas.getPartition(topic, partition);
    return p === undefined || p.log.isClosed ? null : Number(p.highWatermark);
  }

  /** Every group this broker coordinates (or one of them), evaluated now. */
  async evaluate(onlyGroup?: string, nowMs = Date.now()): Promise<GroupLag[]> {
    const coordinator = this.groups;
    if (coordinator === null) return [];
    const out: GroupLag[] = [];
    const live = new Set<string>();
    const sampled = new Set<string>();
    for (const group of coordinator.groups.values()) {
      live.add(group.groupId);
      if (onlyGroup !== undefined && group.groupId !== onlyGroup) continue;
      const shard = coordinator.activeShard(group.groupId);
      if (!shard || group.is('Dead')) continue;
      const partitions: PartitionLag[] = [];
      const owners = ownersOf(group);
      for (const { topic, partition, committed } of shard.offsetStore.committed(group.groupId)) {
        const replica = this.replicas.getPartition(topic, partition);
        const known = replica !== undefined && !replica.log.isClosed;
        const hw = known ? Number(replica.highWatermark) : null;
        const start = known ? Number(replica.logStartOffset) : null;
        const offset = Number(committed.offset);
        const key = `${topic}\u0000${partition}`;
        if (hw !== null && !sampled.has(key)) {
          sampled.add(key);
          this.windows.sampleLogEnd(topic, partition, hw, nowMs);
        }
        const lag = hw === null ? null : Math.max(0, hw - offset);
        let lagSeconds: number | null = null;
        if (lag === 0) lagSeconds = 0;
        else if (lag !== null && known) {
          const ts = await this.timestampAt(topic, partition, Math.max(offset, start ?? 0));
          lagSeconds = ts === null ? null : Math.max(0, (nowMs - ts) / 1000);
        }
        const window = this.windows.window(group.groupId, topic, partition);
        partitions.push({
          topic,
          partition,
          currentOffset: offset,
          logEndOffset: hw,
          logStartOffset: start,
          lag,
          lagSeconds,
          // No replica here, so no log end to measure against: no verdict rather than a false OK.
          status: lag === null ? 'NOTFOUND' : partitionStatus(window, this.windows.logEndSamples(topic, partition), lag, nowMs),
          window,
          complete: Math.min(1, window.length / this.windows.size),
          owner: owners.get(`${topic}\u0000${partition}`)?.host ?? '',
          clientId: owners.get(`${topic}\u0000${partition}`)?.clientId ?? '',
        });
      }
      partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      out.push({
        group: group.groupId,
        state: group.state,
        members: group.members.size,
        status: groupStatus(partitions.map((p) => p.status)),
        totalLag: partitions.reduce((n, p) => n + (p.lag ?? 0), 0),
        complete: partitions.length === 0 ? 1 : partitions.filter((p) => p.complete === 1).length / partitions.length,
        partitions,
      });
    }
    if (onlyGroup === undefined) this.windows.retainGroups(live);
    return out;
  }

  /** The timestamp of the batch holding `offset` (LogAppendTime or its first record's CreateTime). */
  private async timestampAt(topic: string, partition: number, offset: number): Promise<number | null> {
    const key = `${topic}\u0000${partition}`;
    const cached = this.timestamps.get(key);
    if (cached !== undefined && cached.offset === offset) return cached.timestamp;
    const replica = this.replicas.getPartition(topic, partition);
    if (replica === undefined) return null;
    try {
      const read = await replica.read(BigInt(offset), 1, { maxOffset: replica.highWatermark, minOneBatch: true });
      const buf = read.records;
      if (buf.length < 61) return null;
      const attributes = decodeAttributes(buf.readInt16BE(BatchOffsets.attributes));
      const ts = Number(buf.readBigInt64BE(attributes.timestampType === TimestampType.logAppendTime ? BatchOffsets.maxTimestamp : BatchOffsets.baseTimestamp));
      this.timestamps.set(key, { offset, timestamp: ts });
      return ts;
    } catch {
      // Deleted by retention or truncated meanwhile: no answer this time.
      return null;
    }
  }
}

/** topic\0partition → the member a consumer group's current assignment gives it to. */
function ownersOf(group: Group): Map<string, { host: string; clientId: string }> {
  const out = new Map<string, { host: string; clientId: string }>();
  if (group.protocolType !== 'consumer' || !group.is('Stable')) return out;
  for (const m of group.members.values()) {
    if (m.assignment.length === 0) continue;
    try {
      for (const a of decodeConsumerProtocolAssignment(m.assignment).value.assignedPartitions) {
        for (const p of a.partitions) out.set(`${a.topic}\u0000${p}`, { host: m.clientHost, clientId: m.clientId });
      }
    } catch {
      // An assignment the leader encoded some other way: no owner shown.
    }
  }
  return out;
}
