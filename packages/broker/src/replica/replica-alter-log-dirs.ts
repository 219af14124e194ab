/**
 * AlterReplicaLogDirs (KIP-113), as Kafka's ReplicaAlterLogDirsManager: moving a replica to
 * another log directory of this broker creates a future log there, copies the current log into it
 * while the replica keeps serving (truncating the copy where the current log was truncated), and
 * once the copy has caught up swaps it in with no write in between (Partition.exclusive). The
 * copy is held to `replica.alter.log.dirs.io.max.bytes.per.second` when it is set (Kafka's
 * alter-log-dirs replication quota), except its last chunk, copied with writes held.
 */
import type { PartitionLog } from '@sluice/storage';
import type { Logger } from '../logger.js';
import type { LogLayer } from '../topics/log-layer.js';
import type { Partition } from './partition.js';
import type { ReplicationQuota } from './replication-quota.js';
import { wholeBatches } from './replica-fetcher-manager.js';

/** Bytes copied per read of the current log. */
const COPY_CHUNK = 1 << 20;
/** Pause while the copy is caught up but the swap could not happen yet. */
const IDLE_MS = 20;

export interface LogDirMove {
  partition: Partition;
  targetDir: string;
  future: PartitionLog | null;
  cancelled: boolean;
  done: Promise<void>;
}

const key = (topic: string, index: number) => `${topic}\u0000${index}`;

export class ReplicaAlterLogDirsManager {
  private readonly moves = new Map<string, LogDirMove>();

  /** replica.alter.log.dirs.io.max.bytes.per.second, read live; null copies unthrottled. */
  quota: ReplicationQuota | null = null;

  constructor(
    private readonly logs: LogLayer,
    private readonly logger: Logger,
  ) {}

  /** The move under way for a partition, if any (DescribeLogDirs shows its future log). */
  moveOf(topic: string, index: number): LogDirMove | undefined {
    return this.moves.get(key(topic, index));
  }

  /** Starts moving `partition` to `targetDir` (a move to another directory replaces one under way). */
  start(partition: Partition, targetDir: string): void {
    const k = key(partition.topic, partition.index);
    const previous = this.moves.get(k);
    if (previous && previous.targetDir === targetDir && !previous.cancelled) return;
    if (previous) previous.cancelled = true;
    const move: LogDirMove = { partition, targetDir, future: null, cancelled: false, done: Promise.resolve() };
    this.moves.set(k, move);
    move.done = (previous?.done ?? Promise.resolve()).then(() => this.run(move)).catch((err: unknown) => {
      this.logger.error(`moving ${partition.topic}-${partition.index} to ${targetDir} failed: ${(err as Error).message}`);
    }).finally(() => {
      if (this.moves.get(k) === move) this.moves.delete(k);
    });
  }

  /** Cancels the move of a partition that stops being hosted here; its future log is removed. */
  cancel(topic: string, index: number): void {
    const move = this.moves.get(key(topic, index));
    if (move) move.cancelled = true;
  }

  async shutdown(): Promise<void> {
    for (const m of this.moves.values()) m.cancelled = true;
    await Promise.all([...this.moves.values()].map((m) => m.done));
  }

  private async run(move: LogDirMove): Promise<void> {
    const { partition, targetDir } = move;
    const name = `${partition.topic}-${partition.index}`;
    if (move.cancelled || this.logs.logDirOf(partition.topic, partition.index) === targetDir) return;
    const future = await this.logs.createFuture(partition.topic, partition.index, targetDir, partition.config);
    move.future = future;
    this.logger.info(`moving ${name} to log directory ${targetDir}: copying into a future replica`);
    try {
      for (;;) {
        if (move.cancelled || partition.log.isClosed) {
          await this.logs.abandonFuture(future);
          this.logger.info(`move of ${name} to ${targetDir} cancelled`);
          return;
        }
        // Held to the throttle: wait (in steps, so a cancel is seen) until the rate is back at it.
        const wait = this.quota?.delayMs() ?? 0;
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, Math.min(wait, 250)));
          continue;
        }
        // Copy in chunks while more than a chunk is missing; the rest is copied with writes held.
        if ((await this.copyOnce(partition.log, future, this.quota)) === 'more') continue;
        // (Nearly) caught up: swap with no write in between (the last appends are copied inside).
        let swapped = false;
        await partition.exclusive(async (current) => {
          if (move.cancelled || current.isClosed) return current;
          while ((await this.copyOnce(current, future)) !== 'idle');
          const highWatermark = current.highWatermark;
          const adopted = await this.logs.promoteFuture(future);
          adopted.highWatermark = highWatermark < adopted.logEndOffset ? highWatermark : adopted.logEndOffset;
          swapped = true;
          return adopted;
        });
        if (swapped) {
          this.logger.info(`moved ${name} to log directory ${targetDir}`);
          return;
        }
        await new Promise((r) => setTimeout(r, IDLE_MS));
      }
    } catch (err) {
      if (!future.isClosed) await this.logs.abandonFuture(future).catch(() => undefined);
      throw err;
    }
  }

  /**
   * One step of the copy: brings the future log back in line with the current one where it was
   * truncated or moved its start, else appends the next chunk. Returns 'idle' when the copy is
   * caught up, 'end' when this step reached the current log's end, 'more' when more is missing.
   */
  private async copyOnce(current: PartitionLog, future: PartitionLog, quota: ReplicationQuota | null = null): Promise<'idle' | 'end' | 'more'> {
    if (future.logEndOffset < current.logStartOffset || future.logStartOffset < current.logStartOffset) {
      await future.truncateFullyAndStartAt(current.logStartOffset);
      return 'more';
    }
    // The current log was truncated (a follower's truncation) below or into what was copied.
    const epoch = future.latestEpoch;
    if (epoch >= 0) {
      const end = current.endOffsetForEpoch(epoch);
      if (end.epoch !== epoch || end.endOffset < future.logEndOffset) {
        // Cut back to where the current log ends that epoch (or an older one: the next step checks
        // again); with nothing to compare, copy again from the start.
        if (end.endOffset >= 0n && end.endOffset < future.logEndOffset) await future.truncateTo(end.endOffset);
        else await future.truncateFullyAndStartAt(current.logStartOffset);
        return 'more';
      }
    }
    if (future.logEndOffset > current.logEndOffset) {
      await future.truncateTo(current.logEndOffset);
      return 'more';
    }
    if (future.logEndOffset === current.logEndOffset) return 'idle';
    const endAtRead = current.logEndOffset;
    const read = await current.read(future.logEndOffset, COPY_CHUNK, { maxOffset: endAtRead, minOneBatch: true });
    const records = wholeBatches(Buffer.from(read.records));
    if (records.length === 0) return 'idle';
    await future.appendAsFollower(records);
    quota?.record(records.length);
    // 'end' once the copy reached where the log ended when this chunk was read: what is missing now
    // was appended during one chunk's copy, and the swap copies it with writes held. Comparing
    // with the log's end now would chase a steady writer for ever. (A read of whole batches is
    // nearly always shorter than the chunk, so its length says nothing.)
    return future.logEndOffset >= endAtRead ? 'end' : 'more';
  }
}
