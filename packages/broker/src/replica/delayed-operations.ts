/**
 * Kafka's delayed operations, reduced to what one process needs: a DelayedProduce (acks=all)
 * completes when the high watermark passes its batch, and a DelayedFetch (the long poll) when any
 * of its partitions' high watermark moves. Both also complete on their timeout; neither polls.
 */
import { ErrorCode } from '@sluice/protocol';
import type { Partition } from './partition.js';

/** Waits for the partition's high watermark to reach `requiredOffset` (the batch's last offset + 1). */
export class DelayedProduce {
  private settle: ((code: number) => void) | null = null;
  readonly completion: Promise<number>;

  constructor(partition: Partition, requiredOffset: bigint, timeoutMs: number) {
    this.completion = new Promise<number>((resolve) => {
      if (partition.highWatermark >= requiredOffset) {
        resolve(ErrorCode.NONE);
        return;
      }
      const unsubscribe = partition.onHighWatermark((hw) => {
        if (hw >= requiredOffset) this.complete(ErrorCode.NONE);
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

/** A fetch parked until an append becomes visible on one of its partitions, or its wait runs out. */
export class DelayedFetch {
  private woken = false;
  private resolveWake: (() => void) | null = null;
  private readonly unsubscribes: (() => void)[];

  /** Subscribes before the caller reads, so an append landing between the read and the wait is not missed. */
  constructor(partitions: Iterable<Partition>) {
    this.unsubscribes = [...new Set(partitions)].map((p) => p.onHighWatermark(() => this.wake()));
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
