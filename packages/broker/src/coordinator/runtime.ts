/**
 * Kafka's coordinator runtime, for the group coordinator now and the transaction coordinator
 * later: one shard per partition of the coordinator's internal topic, living on the broker that
 * leads that partition. onBecomeLeader() loads a shard by replaying its partition (requests get
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile); onResign() unloads it (NOT_COORDINATOR afterwards, and
 * for writes still waiting). A shard's writes are appended to its partition and acknowledged only
 * once the high watermark passes them, so a write is never confirmed before it is committed.
 *
 * Operations on a shard run in order because each one's state-machine step is synchronous on the
 * event loop and appends are written in call order; only the wait for the commit is asynchronous.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import type { Logger } from '../logger.js';
import type { CoordinatorPartition, CoordinatorRecord, ReplayedMarker, ReplayedRecord, TransactionalAppend } from './partition.js';
import { SystemTimer, type Timer } from './timer.js';

/** What a shard implementation provides to the runtime. */
export interface CoordinatorShard {
  /** Applies one record of the partition while loading, in log order. */
  replay(record: ReplayedRecord): void;
  /** Applies a transaction marker met while loading (shards that hold transactional records). */
  replayMarker?(marker: ReplayedMarker): void;
  /** The replay is complete: start timers, derive state. */
  onLoaded(): void;
  /** The shard is going away (resigned, or the broker stops): answer whatever is parked. */
  onUnloaded(): void;
}

/** What the runtime gives a shard. */
export interface ShardContext {
  readonly partition: number;
  /** The partition's leader epoch this shard was loaded for (the transaction coordinator's epoch). */
  readonly leaderEpoch: number;
  /** This shard's clock and timers; every timer is cancelled when the shard unloads. */
  readonly timer: Timer;
  readonly log: Logger;
  /**
   * Appends the records as one batch and resolves once the high watermark passes them; rejects
   * with the append's error, or NOT_COORDINATOR when the shard unloads first. `transactional`
   * appends them as that producer's transactional batch.
   */
  write(records: readonly CoordinatorRecord[], transactional?: TransactionalAppend): Promise<void>;
}

export type ShardStatus = 'loading' | 'active';

export interface CoordinatorRuntimeOptions<S extends CoordinatorShard> {
  /** For log lines, e.g. "__consumer_offsets". */
  readonly topic: string;
  readonly log: Logger;
  partition(partition: number): CoordinatorPartition;
  newShard(context: ShardContext): S;
  /** One per loaded shard; default wall-clock timers. */
  newTimer?(): Timer;
}

interface PendingWrite {
  lastOffset: bigint;
  resolve(): void;
  reject(err: Error): void;
}

class ShardHolder<S extends CoordinatorShard> {
  status: ShardStatus = 'loading';
  closed = false;
  readonly pending: PendingWrite[] = [];
  unsubscribe: () => void = () => {};
  shard!: S;

  constructor(
    readonly partitionId: number,
    readonly leaderEpoch: number,
    readonly partition: CoordinatorPartition,
    readonly timer: Timer,
  ) {}

  /** Resolves the writes the high watermark has passed (they are ordered by offset). */
  release(highWatermark: bigint): void {
    while (this.pending.length > 0 && this.pending[0].lastOffset < highWatermark) this.pending.shift()!.resolve();
  }
}

export interface LoadSummary {
  records: number;
  ms: number;
}

export class CoordinatorRuntime<S extends CoordinatorShard> {
  private readonly shards = new Map<number, ShardHolder<S>>();

  constructor(private readonly options: CoordinatorRuntimeOptions<S>) {}

  /**
   * This broker became leader of `partition` at `leaderEpoch`: load its shard. A call for an epoch
   * no newer than the loaded (or loading) one is ignored; a newer one reloads.
   */
  async onBecomeLeader(partition: number, leaderEpoch: number): Promise<LoadSummary> {
    const existing = this.shards.get(partition);
    if (existing && existing.leaderEpoch >= leaderEpoch) return { records: 0, ms: 0 };
    if (existing) this.unload(existing);
    const startedAt = performance.now();
    const holder = new ShardHolder<S>(partition, leaderEpoch, this.options.partition(partition), this.options.newTimer?.() ?? new SystemTimer());
    holder.shard = this.options.newShard(this.contextFor(holder));
    this.shards.set(partition, holder);
    holder.unsubscribe = holder.partition.onHighWatermark((hw) => holder.release(hw));
    let records = 0;
    try {
      for await (const record of holder.partition.read()) {
        // Resigned (or superseded) while loading: stop reading.
        if (holder.closed) return { records, ms: performance.now() - startedAt };
        if ('commit' in record) holder.shard.replayMarker?.(record);
        else {
          holder.shard.replay(record);
          records++;
        }
      }
    } catch (err) {
      this.options.log.error(`${this.options.topic}-${partition}: loading the coordinator shard failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!holder.closed) this.unload(holder);
      throw err;
    }
    if (holder.closed) return { records, ms: performance.now() - startedAt };
    holder.status = 'active';
    holder.shard.onLoaded();
    return { records, ms: performance.now() - startedAt };
  }

  /**
   * This broker no longer leads `partition`: unload its shard. With a leader epoch, a resignation
   * older than the loaded epoch is ignored (a newer leadership already reloaded it).
   */
  onResign(partition: number, leaderEpoch?: number): void {
    const holder = this.shards.get(partition);
    if (!holder) return;
    if (leaderEpoch !== undefined && leaderEpoch < holder.leaderEpoch) return;
    this.unload(holder);
  }

  /** Unloads every shard (broker shutdown). */
  close(): void {
    for (const holder of [...this.shards.values()]) this.unload(holder);
  }

  /** The shard of `partition`; throws NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS when it cannot serve. */
  shard(partition: number): S {
    const holder = this.shards.get(partition);
    if (!holder) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker does not coordinate ${this.options.topic}-${partition}.`);
    if (holder.status === 'loading') throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, `${this.options.topic}-${partition} is still loading.`);
    return holder.shard;
  }

  status(partition: number): ShardStatus | null {
    return this.shards.get(partition)?.status ?? null;
  }

  /** The shards that serve requests, in partition order. */
  activeShards(): S[] {
    return [...this.shards.values()].filter((h) => h.status === 'active').sort((a, b) => a.partitionId - b.partitionId).map((h) => h.shard);
  }

  /** True while some shard is loading (requests across all groups cannot be complete yet). */
  get loading(): boolean {
    for (const h of this.shards.values()) if (h.status === 'loading') return true;
    return false;
  }

  private unload(holder: ShardHolder<S>): void {
    if (this.shards.get(holder.partitionId) === holder) this.shards.delete(holder.partitionId);
    holder.closed = true;
    holder.unsubscribe();
    holder.timer.cancelAll();
    const notCoordinator = new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates ${this.options.topic}-${holder.partitionId}.`);
    for (const w of holder.pending.splice(0)) w.reject(notCoordinator);
    holder.shard.onUnloaded();
  }

  private contextFor(holder: ShardHolder<S>): ShardContext {
    const topic = this.options.topic;
    const timer = holder.timer;
    // Once unloaded, a late callback (a write failing with NOT_COORDINATOR) must not start timers.
    const guarded: Timer = {
      now: () => timer.now(),
      schedule: (key, delayMs, fn) => {
        if (!holder.closed) timer.schedule(key, delayMs, fn);
      },
      cancel: (key) => timer.cancel(key),
      isScheduled: (key) => timer.isScheduled(key),
      cancelAll: () => timer.cancelAll(),
    };
    return {
      partition: holder.partitionId,
      leaderEpoch: holder.leaderEpoch,
      timer: guarded,
      log: this.options.log,
      async write(records, transactional) {
        if (holder.closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates ${topic}-${holder.partitionId}.`);
        if (records.length === 0) return;
        const { lastOffset } = await holder.partition.append(records, transactional);
        if (holder.closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `This broker no longer coordinates ${topic}-${holder.partitionId}.`);
        if (holder.partition.highWatermark > lastOffset) return;
        await new Promise<void>((resolve, reject) => {
          // Keep the queue ordered by offset; appends usually complete in order, so this is a push.
          let i = holder.pending.length;
          while (i > 0 && holder.pending[i - 1].lastOffset > lastOffset) i--;
          holder.pending.splice(i, 0, { lastOffset, resolve, reject });
        });
      },
    };
  }
}
