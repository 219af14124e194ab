/**
 * The record accumulator: records wait here per partition, in batches of up to `batchSize` bytes,
 * until a batch is full or `lingerMs` passed since its first record. `bufferMemory` caps the bytes
 * held (waiting plus in flight); appends beyond it wait for space (back-pressure).
 */
import type { RecordInput } from '@sluice/protocol';
import { BufferExhaustedError } from '../errors.js';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1n when acks=0 (the broker does not say). */
  offset: bigint;
  timestamp: bigint;
}

/** One `send` call: resolves when every one of its records is acknowledged. */
export class SendWaiter {
  readonly results: RecordMetadata[];
  private remaining: number;
  private settled = false;
  readonly promise: Promise<RecordMetadata[]>;
  private resolveFn!: (r: RecordMetadata[]) => void;
  private rejectFn!: (e: Error) => void;

  constructor(count: number) {
    this.results = new Array<RecordMetadata>(count);
    this.remaining = count;
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  complete(n: number): void {
    this.remaining -= n;
    if (this.remaining === 0 && !this.settled) {
      this.settled = true;
      this.resolveFn(this.results);
    }
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: RecordInput[] = [];
  readonly owners: SendWaiter[] = [];
  readonly slots: number[] = [];
  readonly createdAt: number;
  bytes = 0;
  attempts = 0;
  /** Built bytes, kept so a retry resends the identical batch (same sequence numbers). */
  built: Buffer | null = null;
  baseSequence = -1;
  /** Position among its partition's batches, fixed when built: retries go back in this order. */
  order = -1;
  /**
   * Sequence numbers released by an earlier batch the broker refused, to give back before this
   * batch (in flight when that happened) is resent.
   */
  sequenceShift = 0;
  /** A retried batch waits out its backoff. */
  notBefore = 0;

  constructor(topic: string, partition: number, now: number) {
    this.topic = topic;
    this.partition = partition;
    this.createdAt = now;
  }

  settle(baseOffset: bigint, logAppendTime: bigint): void {
    for (let i = 0; i < this.records.length; i++) {
      const owner = this.owners[i];
      owner.results[this.slots[i]] = {
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
        timestamp: logAppendTime >= 0n ? logAppendTime : (this.records[i].timestamp ?? -1n),
      };
    }
    // One waiter usually owns a run of records: count them together.
    let run = 0;
    let current: SendWaiter | null = null;
    for (const owner of this.owners) {
      if (owner !== current) {
        if (current !== null) current.complete(run);
        current = owner;
        run = 0;
      }
      run++;
    }
    if (current !== null) current.complete(run);
  }

  fail(error: Error): void {
    for (const owner of this.owners) owner.fail(error);
  }
}

/** A partition's batches waiting to go (retries first); sequence state lives in the TransactionManager. */
export interface PartitionQueue {
  topic: string;
  partition: number;
  batches: ProducerBatch[];
}

/** Bytes a record adds to a batch, close to its encoded size (varint overheads rounded up). */
export function estimateRecordSize(r: RecordInput): number {
  let size = 21 + (r.key ? r.key.length : 0) + (r.value ? r.value.length : 0);
  if (r.headers) for (const h of r.headers) size += 10 + h.key.length + (h.value ? h.value.length : 0);
  return size;
}

export class Accumulator {
  private readonly topics = new Map<string, Map<number, PartitionQueue>>();
  private readonly batchSize: number;
  private readonly bufferMemory: number;
  private readonly maxBlockMs: number;
  private usedBytes = 0;
  private spaceWaiters: Array<{ bytes: number; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  /** Called when a batch fills, so the sender need not wait for linger. */
  onBatchFull: () => void = () => {};
  onBatchClosed: (topic: string, partition: number) => void = () => {};

  constructor(options: { batchSize: number; bufferMemory: number; maxBlockMs: number }) {
    this.batchSize = options.batchSize;
    this.bufferMemory = options.bufferMemory;
    this.maxBlockMs = options.maxBlockMs;
  }

  get bufferedBytes(): number {
    return this.usedBytes;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let byPartition = this.topics.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.topics.set(topic, byPartition);
    }
    let q = byPartition.get(partition);
    if (q === undefined) {
      q = { topic, partition, batches: [] };
      byPartition.set(partition, q);
    }
    return q;
  }

  /** Resolves once `bytes` fit in buffer memory; rejects after maxBlockMs. */
  reserve(bytes: number): Promise<void> | null {
    if (this.usedBytes + bytes <= this.bufferMemory || this.usedBytes === 0) {
      this.usedBytes += bytes;
      return null;
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.spaceWaiters = this.spaceWaiters.filter((w) => w !== entry);
          reject(new BufferExhaustedError(`buffer.memory (${this.bufferMemory} bytes) stayed full for ${this.maxBlockMs} ms`));
        }, this.maxBlockMs),
      };
      this.spaceWaiters.push(entry);
    });
  }

  release(bytes: number): void {
    this.usedBytes -= bytes;
    while (this.spaceWaiters.length > 0) {
      const w = this.spaceWaiters[0];
      if (this.usedBytes + w.bytes > this.bufferMemory && this.usedBytes > 0) break;
      this.spaceWaiters.shift();
      clearTimeout(w.timer);
      this.usedBytes += w.bytes;
      w.resolve();
    }
  }

  /** Appends to the partition's open batch (space already reserved). */
  append(topic: string, partition: number, record: RecordInput, size: number, owner: SendWaiter, slot: number, now: number): void {
    const q = this.queue(topic, partition);
    let batch = q.batches.length > 0 ? q.batches[q.batches.length - 1] : undefined;
    if (batch === undefined || batch.built !== null || (batch.bytes + size > this.batchSize && batch.records.length > 0)) {
      const closedFull = batch !== undefined && batch.built === null;
      batch = new ProducerBatch(topic, partition, now);
      q.batches.push(batch);
      if (closedFull) {
        // The previous batch is full: it may go now, without waiting for linger.
        this.onBatchClosed(topic, partition);
        this.onBatchFull();
      }
    }
    batch.records.push(record);
    batch.owners.push(owner);
    batch.slots.push(slot);
    batch.bytes += size;
    if (batch.bytes >= this.batchSize) this.onBatchFull();
  }

  /** Partitions with a batch waiting to go. */
  *queues(): Generator<PartitionQueue> {
    for (const byPartition of this.topics.values()) for (const q of byPartition.values()) if (q.batches.length > 0) yield q;
  }

  /** Whether the head batch may go now: full, lingered long enough, a retry, or flushing. */
  isReady(q: PartitionQueue, now: number, lingerMs: number, flushing: boolean): boolean {
    const head = q.batches[0];
    if (head === undefined) return false;
    return flushing || head.built !== null || q.batches.length > 1 || head.bytes >= this.batchSize || now - head.createdAt >= lingerMs;
  }

  /** Milliseconds until the earliest waiting batch lingers out (Infinity when none). */
  nextReadyIn(now: number, lingerMs: number): number {
    let soonest = Infinity;
    for (const q of this.queues()) {
      const head = q.batches[0];
      const at = head.built !== null ? head.notBefore : head.createdAt + lingerMs;
      soonest = Math.min(soonest, at - now);
    }
    return soonest;
  }

  hasPending(): boolean {
    for (const _ of this.queues()) return true;
    return false;
  }

  failAll(error: Error): void {
    for (const q of this.queues()) {
      for (const b of q.batches) {
        b.fail(error);
        this.release(b.bytes);
      }
      q.batches = [];
    }
  }
}
