/**
 * The producer: `send` serializes records, picks their partitions and puts them in the
 * accumulator, and resolves when the broker acknowledged them. The parts are Kafka's: the
 * `Accumulator` batches, the `Sender` drains batches into Produce requests and settles them, the
 * `TransactionManager` owns the producer id, epoch and sequence numbers (idempotence, KIP-360).
 */
import type { CompressionName, RecordHeader, RecordInput } from '@sluice/protocol';
import { Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { MisuseError } from '../errors.js';
import { ProducerMetrics, registerSnapshot, type MetricRegistry, type ProducerMetricsSnapshot } from '../metrics.js';
import { Accumulator, SendWaiter, estimateRecordSize, type RecordMetadata } from './accumulator.js';
import { resolvePartitioner, type PartitionerOption, type StatefulPartitioner } from './partitioners.js';
import { Sender } from './sender.js';
import { TransactionManager, type ProducerIdAndEpoch } from './transaction-manager.js';

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
  /** Kafka's transactional.id: transactions (initTransactions, beginTransaction, …); implies idempotence. */
  transactionalId?: string;
  /** transaction.timeout.ms sent with InitProducerId (default 60000). */
  transactionTimeoutMs?: number;
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

export class Producer<K = Buffer | string | null, V = Buffer | string | null> {
  readonly cluster: Cluster;
  private readonly partitioner: StatefulPartitioner;
  private readonly keySerializer: Serializer<K> | null;
  private readonly valueSerializer: Serializer<V> | null;
  private readonly accumulator: Accumulator;
  private readonly transactions: TransactionManager;
  private readonly sender: Sender;
  private connected: Promise<void> | null = null;
  private closed = false;
  /** Settles when the latest sendBatch call has appended its records (see sendBatch). */
  private appendOrder: Promise<void> = Promise.resolve();
  private readonly metricsState: ProducerMetrics;

  constructor(options: ProducerOptions<K, V>) {
    this.cluster = new Cluster(options);
    const acksOption = options.acks ?? 'all';
    const acks = acksOption === 'all' ? -1 : acksOption;
    if (![0, 1, -1].includes(acks)) throw new MisuseError(`acks must be 0, 1, -1 or 'all'`);
    const maxInFlight = options.maxInFlightRequestsPerConnection ?? 5;
    const transactionalId = options.transactionalId ?? null;
    const idempotent = options.enableIdempotence ?? transactionalId !== null;
    if (transactionalId !== null && !idempotent) throw new MisuseError('a transactionalId requires enableIdempotence');
    if (idempotent && acks !== -1) throw new MisuseError('enableIdempotence requires acks=all');
    if (idempotent && maxInFlight > 5) throw new MisuseError('enableIdempotence requires maxInFlightRequestsPerConnection <= 5');
    if (idempotent && options.retry?.retries === 0) throw new MisuseError('enableIdempotence requires retries > 0');
    this.partitioner = resolvePartitioner(options.partitioner);
    this.keySerializer = options.keySerializer ?? null;
    this.valueSerializer = options.valueSerializer ?? null;
    this.accumulator = new Accumulator({
      batchSize: options.batchSize ?? 16_384,
      bufferMemory: options.bufferMemory ?? 32 * 1024 * 1024,
      maxBlockMs: options.maxBlockMs ?? 60_000,
    });
    this.transactions = new TransactionManager(this.cluster, idempotent, transactionalId === null ? null : { transactionalId, transactionTimeoutMs: options.transactionTimeoutMs ?? 60_000 });
    this.sender = new Sender(this.cluster, this.accumulator, this.transactions, this.partitioner, {
      acks,
      lingerMs: options.lingerMs ?? 5,
      maxInFlight,
      compression: options.compression ?? 'none',
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
    });
    this.accumulator.onBatchFull = () => this.sender.wakeup();
    this.accumulator.onBatchClosed = (topic, partition) => this.partitioner.onBatchClosed?.(topic, partition, this.cluster.partitionCount(topic));
    const bufferMemory = options.bufferMemory ?? 32 * 1024 * 1024;
    this.metricsState = new ProducerMetrics(() => ({ total: bufferMemory, available: Math.max(0, bufferMemory - this.accumulator.bufferedBytes) }));
    this.sender.metrics = this.metricsState;
  }

  /** Kafka's producer-metrics, as a snapshot (see metrics.ts). */
  metrics(): ProducerMetricsSnapshot {
    return this.metricsState.snapshot();
  }

  /** Puts these metrics on a prom-client Registry (`kafka_producer_producer_metrics_*{client_id}`). */
  registerMetrics(registry: MetricRegistry): void {
    registerSnapshot(registry, 'kafka_producer_producer_metrics', this.cluster.clientId, () => this.metricsState.snapshot());
  }

  /** Connects and (when idempotent) obtains a producer id. `send` calls it on first use. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new MisuseError('producer is closed'));
    this.connected ??= (async () => {
      await this.cluster.connect();
      await this.transactions.initializeProducerId();
    })().catch((error: unknown) => {
      this.connected = null;
      throw error;
    });
    return this.connected;
  }

  /** The producer id and epoch in use (idempotent producers), for diagnostics and tests. */
  get producerIdentity(): Readonly<ProducerIdAndEpoch> | null {
    return this.transactions.producerIdAndEpoch;
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
    // Records reach the accumulator in call order even when an earlier call waits (metadata,
    // AddPartitionsToTxn, buffer memory): Kafka orders a producer's records per partition by send.
    const previous = this.appendOrder;
    let appended!: () => void;
    this.appendOrder = new Promise<void>((resolve) => (appended = resolve));
    let acknowledged: Promise<RecordMetadata[]>;
    try {
      await previous;
      ({ acknowledged } = await this.appendBatch(records));
    } finally {
      appended();
    }
    return acknowledged;
  }

  /** Serializes, partitions and appends; resolves once appended, with the acknowledgements' promise. */
  private async appendBatch(records: ReadonlyArray<ProducerRecord<K, V>>): Promise<{ acknowledged: Promise<RecordMetadata[]> }> {
    await this.connect();
    const fatal = this.transactions.fatalError;
    if (fatal !== null) throw fatal;
    const topics = new Set<string>();
    for (const r of records) {
      if (typeof r.topic !== 'string' || r.topic === '') throw new MisuseError('every record needs a topic');
      topics.add(r.topic);
    }
    await this.cluster.ensureTopics(topics);
    const waiter = new SendWaiter(records.length);
    const now = Date.now();
    const nowBig = BigInt(now);
    const prepared: { r: ProducerRecord<K, V>; input: RecordInput; partition: number }[] = [];
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
      prepared.push({ r, input, partition });
    }
    // Transactional: every partition joins the transaction before its records can be sent.
    if (this.transactions.transactionalId !== null) await this.transactions.addPartitions(prepared.map((p) => ({ topic: p.r.topic, partition: p.partition })));
    for (let i = 0; i < prepared.length; i++) {
      const { r, input, partition } = prepared[i];
      const size = estimateRecordSize(input);
      const wait = this.accumulator.reserve(size);
      if (wait !== null) {
        this.sender.wakeup();
        await wait;
      }
      this.accumulator.append(r.topic, partition, input, size, waiter, i, now);
    }
    this.sender.schedule();
    return { acknowledged: waiter.promise };
  }

  // ---- transactions (a transactionalId is required) ----

  /** Kafka's initTransactions: the producer id and epoch of the transactional id, fencing older instances. */
  async initTransactions(): Promise<void> {
    if (this.transactions.transactionalId === null) throw new MisuseError('initTransactions needs a transactionalId');
    await this.connect();
  }

  beginTransaction(): void {
    this.transactions.beginTransaction();
  }

  /**
   * The consumer's positions (the next offsets to read) commit with the transaction. `groupMetadata`
   * is the consumer's group identity (groupId, generationId, memberId, groupInstanceId).
   */
  async sendOffsetsToTransaction(
    offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint | number | string; metadata?: string | null; leaderEpoch?: number }>,
    groupMetadata: { groupId: string; generationId?: number; memberId?: string; groupInstanceId?: string | null },
  ): Promise<void> {
    await this.transactions.sendOffsets(
      offsets.map((o) => ({ ...o, offset: BigInt(o.offset) })),
      { groupId: groupMetadata.groupId, generationId: groupMetadata.generationId ?? -1, memberId: groupMetadata.memberId ?? '', groupInstanceId: groupMetadata.groupInstanceId ?? null },
    );
  }

  /** Flushes the transaction's records, then commits it (EndTxn). A failed send must be aborted instead. */
  async commitTransaction(): Promise<void> {
    await this.flush();
    await this.transactions.endTransaction(true);
  }

  /** Aborts the transaction: its records (sent or not) are never seen by read_committed consumers. */
  async abortTransaction(): Promise<void> {
    // Records still in flight are awaited so none is written after the abort marker.
    await this.flush().catch(() => undefined);
    await this.transactions.endTransaction(false);
  }

  /** Sends everything buffered now, without waiting for linger, and waits for the acknowledgements. */
  flush(): Promise<void> {
    return this.sender.flush();
  }

  /** Flushes, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.connected) await this.flush();
    } finally {
      this.closed = true;
      this.sender.close();
      this.accumulator.failAll(new MisuseError('producer closed'));
      this.cluster.close();
    }
  }
}
