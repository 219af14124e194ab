/**
 * The producer: `send` puts records in the accumulator and resolves when the broker acknowledged
 * them; the sender drains ready batches into one Produce request per leader, with at most
 * `maxInFlightRequestsPerConnection` outstanding per broker. Idempotence gets a producer id from
 * InitProducerId and stamps per-partition sequence numbers; up to five batches per partition are in
 * flight, as in Kafka, once the partition's first batch is acknowledged. A failed batch goes back in
 * sequence order and is resent byte for byte; retries go one at a time, once nothing earlier is in
 * flight, so the broker sees sequences in order; the batches behind a failed one come back
 * OUT_OF_ORDER_SEQUENCE_NUMBER and are retried after it.
 */
import {
  ApiKey,
  BatchOffsets,
  ErrorCode,
  computeBatchCrc,
  KafkaError,
  buildRecordBatch,
  type CompressionName,
  type ProduceRequestTopicProduceData,
  type ProduceResponse,
  type RecordHeader,
  type RecordInput,
} from '@sluice/protocol';
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { MisuseError, SluiceClientError, UnsupportedVersionError, isRetriable } from '../errors.js';
import { Accumulator, ProducerBatch, SendWaiter, estimateRecordSize, type PartitionQueue, type RecordMetadata } from './accumulator.js';
import { resolvePartitioner, type PartitionerOption, type StatefulPartitioner } from './partitioners.js';
import { needsMetadataRefresh } from '../cluster/cluster.js';

/** Errors about the producer's sequence or epoch themselves: giving the batch's sequences back cannot help. */
const SEQUENCE_STATE_ERRORS = new Set<number>([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.DUPLICATE_SEQUENCE_NUMBER,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.PRODUCER_FENCED,
]);

/** `seq + n` in Kafka's sequence space: 0 to int32 max, wrapping; `n` may be negative. */
function addSequence(seq: number, n: number): number {
  const m = 0x80000000;
  return (((seq + n) % m) + m) % m;
}

export type { RecordMetadata } from './accumulator.js';

export type Serializer<T> = (value: T, topic: string) => Buffer | null;

export interface ProducerRecord<K = Buffer | string | null, V = Buffer | string | null> {
  topic: string;
  /** Explicit partition; otherwise the partitioner picks one. */
  partition?: number;
  key?: K;
  value: V;
  headers?: Record<string, Buffer | string | null> | RecordHeader[];
  /** Milliseconds since the epoch; default: now. */
  timestamp?: bigint | number | Date;
}

export interface ProducerOptions<K = Buffer | string | null, V = Buffer | string | null> extends ClusterOptions {
  /** 0, 1, or all (-1). Default all. */
  acks?: 0 | 1 | -1 | 'all';
  /** How long a batch waits for more records (default 5). */
  lingerMs?: number;
  /** Batch size target in bytes (default 16384). */
  batchSize?: number;
  /** Bytes of records the producer may hold unacknowledged (default 32 MiB). */
  bufferMemory?: number;
  /** How long `send` waits for buffer space before failing (default 60000). */
  maxBlockMs?: number;
  maxInFlightRequestsPerConnection?: number;
  compression?: CompressionName;
  /** Idempotent delivery (needs acks=all and a broker with InitProducerId). Default false. */
  enableIdempotence?: boolean;
  /** Time from send to failure, retries included (default 120000). */
  deliveryTimeoutMs?: number;
  /** Broker-side ack timeout sent with each Produce request (default 30000). */
  ackTimeoutMs?: number;
  partitioner?: PartitionerOption;
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
}

function defaultSerializer(value: unknown, what: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new MisuseError(`${what} must be a Buffer, string or null unless a serializer is given (got ${typeof value})`);
}

function toHeaders(h: ProducerRecord['headers']): RecordHeader[] | undefined {
  if (h === undefined) return undefined;
  if (Array.isArray(h)) return h;
  const out: RecordHeader[] = [];
  for (const [key, value] of Object.entries(h)) out.push({ key, value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value) });
  return out;
}

function toTimestamp(t: ProducerRecord['timestamp'], now: bigint): bigint {
  if (t === undefined) return now;
  if (typeof t === 'bigint') return t;
  if (t instanceof Date) return BigInt(t.getTime());
  return BigInt(Math.trunc(t));
}

interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

export class Producer<K = Buffer | string | null, V = Buffer | string | null> {
  readonly cluster: Cluster;
  private readonly acks: number;
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private readonly compression: CompressionName;
  private readonly idempotent: boolean;
  private readonly deliveryTimeoutMs: number;
  private readonly ackTimeoutMs: number;
  private readonly partitioner: StatefulPartitioner;
  private readonly keySerializer: Serializer<K> | null;
  private readonly valueSerializer: Serializer<V> | null;
  private readonly accumulator: Accumulator;
  private readonly inFlightByNode = new Map<number, number>();
  private identity: ProducerIdentity | null = null;
  private connected: Promise<void> | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private drainTimerAt = Infinity;
  private drainQueued = false;
  private flushing = 0;
  private inFlightRequests = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(options: ProducerOptions<K, V>) {
    this.cluster = new Cluster(options);
    const acks = options.acks ?? 'all';
    this.acks = acks === 'all' ? -1 : acks;
    if (![0, 1, -1].includes(this.acks)) throw new MisuseError(`acks must be 0, 1, -1 or 'all'`);
    this.lingerMs = options.lingerMs ?? 5;
    this.maxInFlight = options.maxInFlightRequestsPerConnection ?? 5;
    this.compression = options.compression ?? 'none';
    this.idempotent = options.enableIdempotence ?? false;
    if (this.idempotent && this.acks !== -1) throw new MisuseError('enableIdempotence requires acks=all');
    if (this.idempotent && this.maxInFlight > 5) throw new MisuseError('enableIdempotence requires maxInFlightRequestsPerConnection <= 5');
    if (this.idempotent && options.retry?.retries === 0) throw new MisuseError('enableIdempotence requires retries > 0');
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.partitioner = resolvePartitioner(options.partitioner);
    this.keySerializer = options.keySerializer ?? null;
    this.valueSerializer = options.valueSerializer ?? null;
    this.accumulator = new Accumulator({
      batchSize: options.batchSize ?? 16_384,
      bufferMemory: options.bufferMemory ?? 32 * 1024 * 1024,
      maxBlockMs: options.maxBlockMs ?? 60_000,
    });
    this.accumulator.onBatchFull = () => this.queueDrain();
    this.accumulator.onBatchClosed = (topic, partition) => this.partitioner.onBatchClosed?.(topic, partition, this.cluster.partitionCount(topic));
  }

  /** Connects and (when idempotent) obtains a producer id. `send` calls it on first use. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new MisuseError('producer is closed'));
    this.connected ??= (async () => {
      await this.cluster.connect();
      if (this.idempotent) await this.initProducerId();
    })().catch((error: unknown) => {
      this.connected = null;
      throw error;
    });
    return this.connected;
  }

  private async initProducerId(): Promise<void> {
    const response = await this.cluster.withRetry(async () => {
      const c = await this.cluster.anyConnection();
      if (c.versionOf(ApiKey.InitProducerId) < 0) throw new UnsupportedVersionError(`${c.address} does not support InitProducerId: idempotence is unavailable`);
      const r = await c.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, 'InitProducerId');
      return r;
    });
    this.identity = { producerId: response.producerId ?? -1n, producerEpoch: response.producerEpoch };
  }

  /** The producer id and epoch in use (idempotent producers), for diagnostics and tests. */
  get producerIdentity(): Readonly<ProducerIdentity> | null {
    return this.identity;
  }

  /** Sends one record; resolves with its offset once acknowledged. */
  async send(record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    const [result] = await this.sendBatch([record]);
    return result;
  }

  /** Sends records (any topics/partitions); resolves with their metadata, in input order. */
  async sendBatch(records: ReadonlyArray<ProducerRecord<K, V>>): Promise<RecordMetadata[]> {
    if (this.closed) throw new MisuseError('producer is closed');
    if (records.length === 0) return [];
    await this.connect();
    const topics = new Set<string>();
    for (const r of records) {
      if (typeof r.topic !== 'string' || r.topic === '') throw new MisuseError('every record needs a topic');
      topics.add(r.topic);
    }
    await this.cluster.ensureTopics(topics);
    const waiter = new SendWaiter(records.length);
    const now = Date.now();
    const nowBig = BigInt(now);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const key = this.keySerializer && r.key !== undefined ? this.keySerializer(r.key, r.topic) : defaultSerializer(r.key, 'key');
      const value = this.valueSerializer ? this.valueSerializer(r.value, r.topic) : defaultSerializer(r.value, 'value');
      const input: RecordInput = { key, value, timestamp: toTimestamp(r.timestamp, nowBig) };
      const headers = toHeaders(r.headers);
      if (headers !== undefined) input.headers = headers;
      const count = this.cluster.partitionCount(r.topic);
      let partition = r.partition;
      if (partition === undefined) partition = this.partitioner.partition({ topic: r.topic, key, value, partitionCount: count });
      else if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
        throw new MisuseError(`partition ${partition} does not exist in ${r.topic} (${count} partitions)`);
      }
      const size = estimateRecordSize(input);
      const wait = this.accumulator.reserve(size);
      if (wait !== null) {
        this.queueDrain();
        await wait;
      }
      this.accumulator.append(r.topic, partition, input, size, waiter, i, now);
    }
    this.scheduleDrain();
    return waiter.promise;
  }

  /** Sends everything buffered now, without waiting for linger, and waits for the acknowledgements. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.queueDrain();
      while (this.accumulator.hasPending() || this.inFlightRequests > 0) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.connected) await this.flush();
    } finally {
      this.closed = true;
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.accumulator.failAll(new MisuseError('producer closed'));
      this.cluster.close();
    }
  }

  // ---- sender ----

  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  private scheduleDrain(): void {
    const wait = this.flushing > 0 ? 0 : this.accumulator.nextReadyIn(Date.now(), this.lingerMs);
    if (wait === Infinity) return;
    if (wait <= 0) this.queueDrain();
    else this.setDrainTimer(wait);
  }

  private drain(): void {
    if (this.closed) return;
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
        if (now - head.createdAt > this.deliveryTimeoutMs && head.built === null) {
          q.batches.shift();
          this.accumulator.release(head.bytes);
          head.fail(new SluiceClientError(`delivery timed out after ${this.deliveryTimeoutMs} ms: no leader for ${q.topic}-${q.partition}`, false));
          // It may have been the last thing flush() or close() waits for.
          queueMicrotask(() => this.notifyIdle());
          continue;
        }
        if (head.notBefore > now) {
          wakeIn = Math.min(wakeIn, head.notBefore - now);
          continue;
        }
        if (!this.accumulator.isReady(q, now, this.lingerMs, flushing)) {
          wakeIn = Math.min(wakeIn, head.createdAt + this.lingerMs - now);
          continue;
        }
        if (this.idempotent) {
          const isRetry = head.built !== null;
          const inFlight = q.inFlightBatches.size;
          if (isRetry ? inFlight > 0 : inFlight >= (q.acked ? this.maxInFlight : 1)) continue;
        }
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
        if (list === undefined && (this.inFlightByNode.get(leader) ?? 0) >= this.maxInFlight) continue;
        const batch = q.batches.shift()!;
        if (batch.built === null) {
          // Closing the batch: no more appends; the sticky partitioner moves on.
          if (q.batches.length === 0) this.partitioner.onBatchClosed?.(q.topic, q.partition, this.cluster.partitionCount(q.topic));
          this.build(batch, q);
        }
        q.inFlightBatches.set(batch.order, batch);
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

  private build(batch: ProducerBatch, q: PartitionQueue): void {
    batch.order = q.nextOrder++;
    const id = this.identity;
    if (id !== null) {
      batch.baseSequence = q.nextSequence;
      q.nextSequence = addSequence(q.nextSequence, batch.records.length);
    }
    batch.built = buildRecordBatch(batch.records, {
      compression: this.compression,
      producerId: id?.producerId ?? -1n,
      producerEpoch: id?.producerEpoch ?? -1,
      baseSequence: id !== null ? batch.baseSequence : -1,
    });
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
    try {
      const c = await this.cluster.connectionTo(node);
      response = await c.request(
        ApiKey.Produce,
        { transactionalId: null, acks: this.acks, timeoutMs: this.ackTimeoutMs, topicData: [...topics.values()] },
        { expectResponse: this.acks !== 0 },
      );
    } catch (error) {
      requestError = error instanceof Error ? error : new Error(String(error));
    }
    this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 1) - 1);
    let refresh = false;
    if (requestError !== null) {
      for (const b of batches) refresh = this.handleBatchError(b, requestError) || refresh;
    } else if (response === null) {
      for (const b of batches) this.complete(b, -1n, -1n);
    } else {
      const byKey = new Map<string, ProduceResponse['responses'][number]['partitionResponses'][number]>();
      for (const t of response.responses) for (const p of t.partitionResponses) byKey.set(`${t.name}\0${p.index}`, p);
      for (const b of batches) {
        const p = byKey.get(`${b.topic}\0${b.partition}`);
        if (p === undefined) {
          refresh = this.handleBatchError(b, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no response for ${b.topic}-${b.partition}`)) || refresh;
        } else if (p.errorCode === 0) {
          this.complete(b, p.baseOffset, p.logAppendTimeMs ?? -1n);
        } else if (p.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && this.idempotent && (b.sequenceShift !== 0 || this.earlierBatchPending(b))) {
          // Behind a batch that failed (or is still on its way): not a lost sequence, just early.
          refresh = this.handleBatchError(b, new SluiceClientError(`${b.topic}-${b.partition}: sequence ${b.baseSequence} arrived before an earlier batch; retrying after it`, true)) || refresh;
        } else if (p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          // An earlier attempt was written; the broker does not say at which offset.
          this.complete(b, -1n, -1n);
        } else {
          refresh = this.handleBatchError(b, new KafkaError(p.errorCode, p.errorMessage ?? `${b.topic}-${b.partition}`), true) || refresh;
        }
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

  /** Whether a batch built before `b` for its partition is queued for a retry or still in flight. */
  private earlierBatchPending(b: ProducerBatch): boolean {
    const q = this.accumulator.queue(b.topic, b.partition);
    for (const order of q.inFlightBatches.keys()) if (order < b.order) return true;
    return q.batches.some((x) => x.built !== null && x.order < b.order);
  }

  private complete(b: ProducerBatch, baseOffset: bigint, logAppendTime: bigint): void {
    const q = this.accumulator.queue(b.topic, b.partition);
    q.inFlightBatches.delete(b.order);
    q.acked = true;
    if (b.sequenceShift !== 0) this.undoRelease(q, b);
    this.accumulator.release(b.bytes);
    b.settle(baseOffset, logAppendTime);
  }

  /**
   * Requeues a retriable failure at the head of its partition; fails the batch otherwise. Returns
   * whether metadata is stale. `answeredByBroker`: the error is the broker's answer for this batch.
   */
  private handleBatchError(b: ProducerBatch, error: Error, answeredByBroker = false): boolean {
    const q = this.accumulator.queue(b.topic, b.partition);
    q.inFlightBatches.delete(b.order);
    const expired = Date.now() - b.createdAt > this.deliveryTimeoutMs;
    const retries = this.cluster.options.retry?.retries ?? Number.MAX_SAFE_INTEGER;
    if (!this.closed && isRetriable(error) && !expired && b.attempts <= retries) {
      const backoff = Math.min(this.cluster.options.retry?.maxRetryTimeMs ?? 1000, (this.cluster.options.retry?.initialRetryTimeMs ?? 100) * 2 ** (b.attempts - 1));
      b.notBefore = Date.now() + backoff;
      if (b.sequenceShift !== 0) {
        this.resequence(b, addSequence(b.baseSequence, -b.sequenceShift));
        b.sequenceShift = 0;
      }
      // Back among the other retries in the order the batches were built (their sequence order),
      // ahead of batches never sent.
      let at = 0;
      while (at < q.batches.length && q.batches[at].built !== null && q.batches[at].order < b.order) at++;
      q.batches.splice(at, 0, b);
      return needsMetadataRefresh(error);
    }
    this.accumulator.release(b.bytes);
    // Only a definite refusal frees the sequences: a retriable error (timed out, not enough
    // replicas after append) may have been written.
    if (this.idempotent && answeredByBroker && b.baseSequence >= 0 && error instanceof KafkaError && !error.retriable && !SEQUENCE_STATE_ERRORS.has(error.code)) {
      this.releaseSequences(q, b);
    }
    b.fail(expired && isRetriable(error) ? new SluiceClientError(`delivery timed out after ${this.deliveryTimeoutMs} ms: ${error.message}`, false, { cause: error }) : error);
    return false;
  }

  /**
   * The broker refused `failed` without writing it (too large, corrupt, …): the partition's later
   * batches move down by its record count so the broker sees no gap, as Kafka's client does.
   * Queued ones are rewritten now; those in flight come back OUT_OF_ORDER_SEQUENCE_NUMBER and are
   * rewritten before they are resent.
   */
  private releaseSequences(q: PartitionQueue, failed: ProducerBatch): void {
    const n = failed.records.length;
    q.nextSequence = addSequence(q.nextSequence, -n);
    for (const x of q.batches) if (x.built !== null && x.order > failed.order) this.resequence(x, addSequence(x.baseSequence, -n));
    for (const x of q.inFlightBatches.values()) if (x.order > failed.order) x.sequenceShift += n;
  }

  /**
   * `acked` was written at the sequences it was sent with although earlier sequences were given
   * back meanwhile (a broker with no state for the producer accepts any sequence): the batches
   * after it continue from its sequences again.
   */
  private undoRelease(q: PartitionQueue, acked: ProducerBatch): void {
    const s = acked.sequenceShift;
    acked.sequenceShift = 0;
    q.nextSequence = addSequence(q.nextSequence, s);
    for (const x of q.batches) if (x.built !== null && x.order > acked.order) this.resequence(x, addSequence(x.baseSequence, s));
    for (const x of q.inFlightBatches.values()) if (x.order > acked.order) x.sequenceShift -= s;
  }

  /** Gives a built (not in flight) batch a new base sequence: the header field and the CRC over it. */
  private resequence(b: ProducerBatch, baseSequence: number): void {
    b.baseSequence = baseSequence;
    const built = b.built!;
    built.writeInt32BE(baseSequence, BatchOffsets.baseSequence);
    built.writeUInt32BE(computeBatchCrc(built, 0, built.length), BatchOffsets.crc);
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
