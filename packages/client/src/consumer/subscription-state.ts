/**
 * What the consumer is subscribed to and where it is in each assigned partition, as Kafka's
 * SubscriptionState: the subscription (topics and patterns, or a manual assignment), the assigned
 * partitions, each one's fetch and consumed positions WITH the leader epoch of the record before
 * them (KIP-320: a commit stores it, so a later leader can tell whether the position survived a
 * truncation), paused partitions and the reset strategy. The fetcher and the consumer go through
 * it instead of sharing a struct.
 */
import { MisuseError } from '../errors.js';
import type { TopicPartition } from './assignors.js';
import { tpKey } from './group.js';
import type { KafkaRecord } from '@sluice/protocol';

export type Subscription = { kind: 'none' } | { kind: 'topics'; topics: string[]; patterns: RegExp[] } | { kind: 'manual' };

export type OffsetResetStrategy = 'earliest' | 'latest' | 'none';

/** An offset and the leader epoch of the record before it (null when unknown: a seek, a reset). */
export interface FetchPosition {
  offset: bigint;
  leaderEpoch: number | null;
}

/** Records decoded from one fetch of one partition. */
export interface FetchedBatch {
  state: PartitionState;
  /** The partition's `version` when fetched: stale after a seek, pause or revoke. */
  version: number;
  records: KafkaRecord[];
  index: number;
  bytes: number;
  /** Leader epoch per run of records: each record batch's last offset and partitionLeaderEpoch, in order. */
  epochs: Array<{ lastOffset: bigint; leaderEpoch: number }>;
  /** Cursor into `epochs` (records are handed out in order). */
  epochAt: number;
}

/** One assigned partition. Mutated only by SubscriptionState and the fetcher's buffering. */
export interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to fetch; null until the starting offset is known. */
  fetchPosition: bigint | null;
  /** Leader epoch of the last fetched record (KIP-320), null when unknown. */
  fetchLeaderEpoch: number | null;
  /** Next offset to hand to the application (what a commit stores). */
  consumedPosition: bigint | null;
  /** Leader epoch of the last consumed record (what a commit stores as committedLeaderEpoch). */
  consumedLeaderEpoch: number | null;
  paused: boolean;
  /** Bumped on seek/pause/revoke so responses already in flight are discarded. */
  version: number;
  buffered: FetchedBatch[];
  bufferedBytes: number;
  highWatermark: bigint;
  /** Set when OFFSET_OUT_OF_RANGE asks for a reset by policy. */
  needsReset: boolean;
}

/** The leader epoch of the record at `offset` in `b` (-1 when the batch carried none). */
export function leaderEpochOf(b: FetchedBatch, offset: bigint): number {
  while (b.epochAt < b.epochs.length - 1 && b.epochs[b.epochAt].lastOffset < offset) b.epochAt++;
  return b.epochs[b.epochAt]?.leaderEpoch ?? -1;
}

const epochOrNull = (e: number | null | undefined): number | null => (e === undefined || e === null || e < 0 ? null : e);

export class SubscriptionState {
  subscription: Subscription = { kind: 'none' };
  readonly resetStrategy: OffsetResetStrategy;
  /** Assigned partitions by tpKey, in delivery rotation order. */
  readonly states = new Map<string, PartitionState>();
  /** Called when positions change, so the fetcher looks again. */
  onPositionsChanged: () => void = () => {};

  constructor(resetStrategy: OffsetResetStrategy) {
    this.resetStrategy = resetStrategy;
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  isAssigned(tp: TopicPartition): boolean {
    return this.states.has(tpKey(tp));
  }

  get size(): number {
    return this.states.size;
  }

  partitions(): IterableIterator<PartitionState> {
    return this.states.values();
  }

  /** The state of an assigned partition, or undefined. */
  find(tp: TopicPartition): PartitionState | undefined {
    return this.states.get(tpKey(tp));
  }

  /** The state of an assigned partition; misuse when it is not assigned. */
  stateOf(tp: TopicPartition): PartitionState {
    const s = this.states.get(tpKey(tp));
    if (s === undefined) throw new MisuseError(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return s;
  }

  /** Adds partitions without positions; returns their states. */
  add(tps: TopicPartition[]): PartitionState[] {
    const added: PartitionState[] = [];
    for (const tp of tps) {
      const s: PartitionState = {
        topic: tp.topic,
        partition: tp.partition,
        fetchPosition: null,
        fetchLeaderEpoch: null,
        consumedPosition: null,
        consumedLeaderEpoch: null,
        paused: false,
        version: 0,
        buffered: [],
        bufferedBytes: 0,
        highWatermark: -1n,
        needsReset: false,
      };
      this.states.set(tpKey(tp), s);
      added.push(s);
    }
    return added;
  }

  remove(tp: TopicPartition): boolean {
    const s = this.states.get(tpKey(tp));
    if (s === undefined) return false;
    s.version++;
    this.states.delete(tpKey(tp));
    return true;
  }

  /** Moves a partition to `position`, dropping what was fetched ahead. */
  seek(s: PartitionState, position: FetchPosition): void {
    s.version++;
    s.buffered = [];
    s.bufferedBytes = 0;
    s.needsReset = false;
    s.fetchPosition = position.offset;
    s.consumedPosition = position.offset;
    s.fetchLeaderEpoch = s.consumedLeaderEpoch = epochOrNull(position.leaderEpoch);
    this.onPositionsChanged();
  }

  /** The application is done with the records before `next` (fetched at `version`). */
  consumed(s: PartitionState, version: number, next: bigint, leaderEpoch: number): void {
    // A revoked, sought or paused partition has a new version: its old position must not come back.
    if (s.version !== version) return;
    s.consumedPosition = next;
    s.consumedLeaderEpoch = epochOrNull(leaderEpoch);
  }

  /** The fetcher got records up to `next` (exclusive), the last of them in `leaderEpoch`. */
  fetched(s: PartitionState, next: bigint, leaderEpoch: number): void {
    s.fetchPosition = next;
    s.fetchLeaderEpoch = epochOrNull(leaderEpoch);
  }

  /** Next offset the application will see, and the leader epoch of the record before it. */
  position(tp: TopicPartition): FetchPosition | null {
    const s = this.stateOf(tp);
    return s.consumedPosition === null ? null : { offset: s.consumedPosition, leaderEpoch: s.consumedLeaderEpoch };
  }

  requestReset(s: PartitionState): void {
    s.needsReset = true;
  }

  pause(tp: TopicPartition): void {
    const s = this.stateOf(tp);
    if (s.paused) return;
    s.paused = true;
    // Drop what was fetched ahead; it is fetched again on resume.
    s.version++;
    s.buffered = [];
    s.bufferedBytes = 0;
    s.fetchPosition = s.consumedPosition;
    s.fetchLeaderEpoch = s.consumedLeaderEpoch;
  }

  resume(tp: TopicPartition): void {
    this.stateOf(tp).paused = false;
    this.onPositionsChanged();
  }

  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Moves `s` to the end of the rotation, so one busy partition does not starve the others. */
  rotate(s: PartitionState): void {
    const key = tpKey(s);
    this.states.delete(key);
    this.states.set(key, s);
  }
}
