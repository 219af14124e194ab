/**
 * Kafka's delayed operations, reduced to what one process needs: a DelayedProduce (acks=all)
 * completes when the high watermark passes its batch, and a DelayedFetch (the long poll) when any
 * of its partitions has more to read. Both also complete on their timeout; neither polls.
 */
import { ErrorCode } from '@sluice/protocol';
import type { Partition } from './partition.js';

/**
 * Waits for the partition's high watermark to reach `requiredOffset` (the batch's last offset + 1).
 * When it does, an ISR that shrank below min.insync.replicas meanwhile makes the answer
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND (the batch is in, but not as durably as asked; Kafka's rule).
 */
export class DelayedProduce {
  private settle: ((code: number) => void) | null = null;
  readonly completion: Promise<number>;

  constructor(partition: Partition, requiredOffset: bigint, timeoutMs: number, minInsyncReplicas = 1) {
    const verdict = () => (partition.isr.length < minInsyncReplicas ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE);
    this.completion = new Promise<number>((resolve) => {
      if (partition.highWatermark >= requiredOffset) {
        resolve(verdict());
        return;
      }
      const unsubscribe = partition.onHighWatermark((hw) => {
        if (hw >= requiredOffset) this.complete(verdict());
      });
      const timer = setTimeout(() => this.complete(ErrorCode.REQUEST_TIMED_OUT), Math.max(0, timeoutMs));
      this.settle = (code) => {
        this.settle = null;
        clearTimeout(timer);
        unsubscribe();
        resolve(code);
      };
    });
  }

  /** Completes now with `code` (e.g. NOT_LEADER_OR_FOLLOWER when leadership moved); later calls do nothing. */
  complete(code: number): void {
    this.settle?.(code);
  }
}

/**
 * A fetch parked until there is more to read on one of its partitions, or its wait runs out: for a
 * consumer, the high watermark moved; for a follower (which reads up to the log end), the leader
 * appended.
 */
export class DelayedFetch {
  private woken = false;
  private resolveWake: (() => void) | null = null;
  private readonly unsubscribes: (() => void)[];

  /** Subscribes before the caller reads, so an append landing between the read and the wait is not missed. */
  constructor(partitions: Iterable<Partition>, wakeOn: 'high-watermark' | 'log-end' = 'high-watermark') {
    this.unsubscribes = [...new Set(partitions)].map((p) => (wakeOn === 'log-end' ? p.onLogEnd(() => this.wake()) : p.onHighWatermark(() => this.wake())));
  }

  wake(): void {
    this.woken = true;
    this.cancel();
    this.resolveWake?.();
  }

  cancel(): void {
    for (const u of this.unsubscribes) u();
    this.unsubscribes.length = 0;
  }

  /** Resolves on the wake-up (possibly already seen) or after timeoutMs. */
  until(timeoutMs: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.cancel();
        resolve();
      }, timeoutMs);
      this.resolveWake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
