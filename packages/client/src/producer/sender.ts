/**
 * The sender, as Kafka's: drains ready batches from the accumulator into one Produce request per
 * leader (one batch per partition per request), with at most `maxInFlight` requests outstanding per
 * broker, and settles each batch from its partition's answer. A retriable failure goes back among
 * its partition's retries in build (sequence) order and is resent byte for byte after a backoff;
 * the TransactionManager decides what may go (idempotent ordering) and owns the sequence numbers.
 * While it needs a KIP-360 epoch bump, nothing new is sent; the bump runs once nothing is in flight.
 */
import { ApiKey, ErrorCode, KafkaError, buildRecordBatch, type CompressionName, type ProduceRequestTopicProduceData, type ProduceResponse } from '@sluice/protocol';
import { needsMetadataRefresh, type Cluster } from '../cluster/cluster.js';
import { SluiceClientError, isRetriable } from '../errors.js';
import type { Accumulator, ProducerBatch, PartitionQueue } from './accumulator.js';
import type { StatefulPartitioner } from './partitioners.js';
import type { TransactionManager } from './transaction-manager.js';
import type { ProducerMetrics } from '../metrics.js';

/** Errors about the producer's sequence or epoch themselves: giving the batch's sequences back cannot help. */
const SEQUENCE_STATE_ERRORS = new Set<number>([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.DUPLICATE_SEQUENCE_NUMBER,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.PRODUCER_FENCED,
]);

export interface SenderOptions {
  acks: number;
  lingerMs: number;
  maxInFlight: number;
  compression: CompressionName;
  deliveryTimeoutMs: number;
  ackTimeoutMs: number;
}

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number];

export class Sender {
  private readonly cluster: Cluster;
  private readonly accumulator: Accumulator;
  private readonly transactions: TransactionManager;
  private readonly partitioner: StatefulPartitioner;
  private readonly options: SenderOptions;
  private readonly inFlightByNode = new Map<number, number>();
  private drainTimer: NodeJS.Timeout | null = null;
  private drainTimerAt = Infinity;
  private drainQueued = false;
  private flushing = 0;
  private inFlightRequests = 0;
  private bumping = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  /** Set by the producer: what is counted (records, requests, batches). */
  metrics: ProducerMetrics | null = null;

  constructor(cluster: Cluster, accumulator: Accumulator, transactions: TransactionManager, partitioner: StatefulPartitioner, options: SenderOptions) {
    this.cluster = cluster;
    this.accumulator = accumulator;
    this.transactions = transactions;
    this.partitioner = partitioner;
    this.options = options;
  }

  /** Drains soon (a batch filled, or space is needed). */
  wakeup(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  /** Drains when the earliest waiting batch lingers out. */
  schedule(): void {
    const wait = this.flushing > 0 ? 0 : this.accumulator.nextReadyIn(Date.now(), this.options.lingerMs);
    if (wait === Infinity) return;
    if (wait <= 0) this.wakeup();
    else this.setDrainTimer(wait);
  }

  /** Sends everything buffered now, without waiting for linger, and waits for the acknowledgements. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.wakeup();
      while (this.accumulator.hasPending() || this.inFlightRequests > 0 || this.bumping) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
    } finally {
      this.flushing--;
    }
  }

  close(): void {
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
  }

  private drain(): void {
    if (this.closed) return;
    if (this.transactions.epochBumpRequired) {
      // Nothing goes until the bump: batches numbered under the old epoch would be refused. The
      // bump waits for something to send, so an idle or closing producer does not ask for one.
      if (this.inFlightRequests === 0 && !this.bumping && this.accumulator.hasPending()) void this.bumpEpoch();
      return;
    }
    const now = Date.now();
    const flushing = this.flushing > 0;
    // Only queues held back by linger or backoff set a wake-up; those blocked by in-flight limits
    // are drained again when a response arrives.
    let wakeIn = Infinity;
    // A request carries one batch per partition, so keep building requests while the in-flight
    // limits leave room and batches are ready.
    for (;;) {
      const byNode = new Map<number, ProducerBatch[]>();
      wakeIn = Infinity;
      for (const q of this.accumulator.queues()) {
        const head = q.batches[0];
        if (now - head.createdAt > this.options.deliveryTimeoutMs && head.built === null) {
          q.batches.shift();
          this.accumulator.release(head.bytes);
          head.fail(new SluiceClientError(`delivery timed out after ${this.options.deliveryTimeoutMs} ms: no leader for ${q.topic}-${q.partition}`, false));
          // It may have been the last thing flush() or close() waits for.
          queueMicrotask(() => this.notifyIdle());
          continue;
        }
        if (head.notBefore > now) {
          wakeIn = Math.min(wakeIn, head.notBefore - now);
          continue;
        }
        if (!this.accumulator.isReady(q, now, this.options.lingerMs, flushing)) {
          wakeIn = Math.min(wakeIn, head.createdAt + this.options.lingerMs - now);
          continue;
        }
        if (!this.transactions.maySend(head, this.options.maxInFlight)) continue;
        let leader: number;
        try {
          leader = this.cluster.leaderOf(q.topic, q.partition);
        } catch {
          leader = -1;
        }
        if (leader < 0) {
          void this.cluster.refreshMetadata().catch(() => undefined);
          wakeIn = Math.min(wakeIn, 100);
          continue;
        }
        const list = byNode.get(leader);
        if (list === undefined && (this.inFlightByNode.get(leader) ?? 0) >= this.options.maxInFlight) continue;
        const batch = q.batches.shift()!;
        if (batch.built === null) {
          // Closing the batch: no more appends; the sticky partitioner moves on.
          if (q.batches.length === 0) this.partitioner.onBatchClosed?.(q.topic, q.partition, this.cluster.partitionCount(q.topic));
          this.build(batch);
        }
        this.transactions.markInFlight(batch);
        if (list === undefined) byNode.set(leader, [batch]);
        else list.push(batch);
      }
      if (byNode.size === 0) break;
      for (const [node, batches] of byNode) {
        this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 0) + 1);
        this.inFlightRequests++;
        void this.sendRequest(node, batches);
      }
    }
    if (wakeIn !== Infinity) this.setDrainTimer(Math.max(1, wakeIn));
  }

  private async bumpEpoch(): Promise<void> {
    this.bumping = true;
    const retained: ProducerBatch[] = [];
    for (const q of this.accumulator.queues()) for (const b of q.batches) if (b.built !== null) retained.push(b);
    try {
      await this.transactions.bumpEpoch(retained);
    } catch (error) {
      // FATAL_ERROR: nothing can be sent any more.
      this.accumulator.failAll(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.bumping = false;
    }
    this.drain();
    this.notifyIdle();
  }

  private setDrainTimer(wait: number): void {
    const at = Date.now() + wait;
    if (this.drainTimer !== null && this.drainTimerAt <= at) return;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimerAt = at;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      this.drainTimerAt = Infinity;
      this.drain();
    }, wait);
  }

  private build(batch: ProducerBatch): void {
    const stamp = this.transactions.assign(batch);
    batch.built = buildRecordBatch(batch.records, { compression: this.options.compression, ...stamp, isTransactional: this.transactions.transactionalId !== null });
    this.metrics?.batchBuilt(batch.built.length, batch.bytes);
  }

  private async sendRequest(node: number, batches: ProducerBatch[]): Promise<void> {
    const topics = new Map<string, ProduceRequestTopicProduceData>();
    for (const b of batches) {
      let t = topics.get(b.topic);
      if (t === undefined) topics.set(b.topic, (t = { name: b.topic, partitionData: [] }));
      t.partitionData.push({ index: b.partition, records: b.built });
      b.attempts++;
    }
    let response: ProduceResponse | null = null;
    let requestError: Error | null = null;
    const sentAt = performance.now();
    try {
      const c = await this.cluster.connectionTo(node);
      response = await c.request(
        ApiKey.Produce,
        { transactionalId: this.transactions.transactionalId, acks: this.options.acks, timeoutMs: this.options.ackTimeoutMs, topicData: [...topics.values()] },
        { expectResponse: this.options.acks !== 0 },
      );
    } catch (error) {
      requestError = error instanceof Error ? error : new Error(String(error));
    }
    this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 1) - 1);
    if (this.metrics !== null && requestError === null) this.metrics.request(performance.now() - sentAt, batches.reduce((n, b) => n + b.records.length, 0));
    let refresh = false;
    if (requestError !== null) {
      for (const b of batches) refresh = this.handleBatchError(b, requestError) || refresh;
    } else if (response === null) {
      for (const b of batches) this.complete(b, -1n, -1n);
    } else {
      const byKey = new Map<string, PartitionResponse>();
      for (const t of response.responses) for (const p of t.partitionResponses) byKey.set(`${t.name}\0${p.index}`, p);
      for (const b of batches) {
        const p = byKey.get(`${b.topic}\0${b.partition}`);
        refresh = (p === undefined ? this.handleBatchError(b, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no response for ${b.topic}-${b.partition}`)) : this.handlePartitionResponse(b, p)) || refresh;
      }
    }
    this.inFlightRequests--;
    if (refresh) {
      try {
        await this.cluster.refreshMetadata();
      } catch {
        // batches stay queued; the next drain retries
      }
    }
    this.drain();
    this.notifyIdle();
  }

  /** Settles or requeues one batch from its partition's answer; returns whether metadata is stale. */
  private handlePartitionResponse(b: ProducerBatch, p: PartitionResponse): boolean {
    if (p.errorCode === 0) {
      this.complete(b, p.baseOffset, p.logAppendTimeMs ?? -1n);
      return false;
    }
    const idempotent = this.transactions.idempotent;
    if (p.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && idempotent && (b.sequenceShift !== 0 || this.transactions.epochBumpRequired || this.earlierBatchPending(b))) {
      // Behind a batch that failed (or is still on its way): not a lost sequence, just early. Or
      // behind one whose failure calls for a new epoch: renumbered under it before it is resent.
      return this.handleBatchError(b, new SluiceClientError(`${b.topic}-${b.partition}: sequence ${b.baseSequence} arrived before an earlier batch; retrying after it`, true));
    }
    if (p.errorCode === ErrorCode.UNKNOWN_PRODUCER_ID && idempotent) {
      // The broker lost this producer's state (records expired or deleted): retry under a bumped
      // epoch, from sequence 0, as Kafka's idempotent producer does.
      this.transactions.requestEpochBump();
      return this.handleBatchError(b, new SluiceClientError(`${b.topic}-${b.partition}: the broker has no state for this producer; retrying under a new epoch`, true, { cause: new KafkaError(p.errorCode, p.errorMessage ?? '') }));
    }
    if (p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      // An earlier attempt was written; the broker does not say at which offset.
      this.complete(b, -1n, -1n);
      return false;
    }
    return this.handleBatchError(b, new KafkaError(p.errorCode, p.errorMessage ?? `${b.topic}-${b.partition}`), true);
  }

  /** Whether a batch built before `b` for its partition is queued for a retry or still in flight. */
  private earlierBatchPending(b: ProducerBatch): boolean {
    const q = this.accumulator.queue(b.topic, b.partition);
    return this.transactions.earlierBatchPending(b, q.batches.some((x) => x.built !== null && x.order < b.order));
  }

  private complete(b: ProducerBatch, baseOffset: bigint, logAppendTime: bigint): void {
    this.transactions.markDone(b);
    this.transactions.onAcknowledged(b, this.accumulator.queue(b.topic, b.partition).batches);
    this.accumulator.release(b.bytes);
    this.metrics?.recordsSent(b.records.length);
    b.settle(baseOffset, logAppendTime);
  }

  /**
   * Requeues a retriable failure at the head of its partition; fails the batch otherwise. Returns
   * whether metadata is stale. `answeredByBroker`: the error is the broker's answer for this batch.
   */
  private handleBatchError(b: ProducerBatch, error: Error, answeredByBroker = false): boolean {
    const q: PartitionQueue = this.accumulator.queue(b.topic, b.partition);
    this.transactions.markDone(b);
    const expired = Date.now() - b.createdAt > this.options.deliveryTimeoutMs;
    const retry = this.cluster.options.retry;
    const retries = retry?.retries ?? Number.MAX_SAFE_INTEGER;
    if (!this.closed && isRetriable(error) && !expired && b.attempts <= retries) {
      b.notBefore = Date.now() + Math.min(retry?.maxRetryTimeMs ?? 1000, (retry?.initialRetryTimeMs ?? 100) * 2 ** (b.attempts - 1));
      this.transactions.onRetry(b);
      // Back among the other retries in the order the batches were built (their sequence order),
      // ahead of batches never sent.
      let at = 0;
      while (at < q.batches.length && q.batches[at].built !== null && q.batches[at].order < b.order) at++;
      q.batches.splice(at, 0, b);
      return needsMetadataRefresh(error);
    }
    this.accumulator.release(b.bytes);
    if (this.transactions.idempotent && b.baseSequence >= 0) {
      const code = error instanceof KafkaError ? error.code : null;
      if (answeredByBroker && error instanceof KafkaError && !error.retriable && !SEQUENCE_STATE_ERRORS.has(error.code)) {
        // A definite refusal frees the sequences.
        this.transactions.releaseSequences(b, q.batches);
      } else if (isRetriable(error) || code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID) {
        // Its fate is unknown (it may have been written) or the broker's sequence is: the
        // partition's sequence cannot continue, so the producer moves to a new epoch (KIP-360).
        this.transactions.requestEpochBump();
      }
    }
    this.metrics?.recordsFailed(b.records.length);
    b.fail(expired && isRetriable(error) ? new SluiceClientError(`delivery timed out after ${this.options.deliveryTimeoutMs} ms: ${error.message}`, false, { cause: error }) : error);
    return false;
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
