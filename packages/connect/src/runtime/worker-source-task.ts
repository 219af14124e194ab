/**
 * Runs one SourceTask: poll, transform, convert, produce; source offsets of acknowledged records
 * are written every `offset.flush.interval.ms` (and on stop), then the task's commit() runs. With
 * exactly-once source support, records and their offsets go in producer transactions instead,
 * ended per transaction.boundary (KIP-618).
 */
import { Producer, type ProducerRecord } from '@sluice/client';
import type { RecordHeader } from '@sluice/protocol';
import type { SourceTask, TransactionContext } from '../api/connector.js';
import type { SourceRecord } from '../data/schema.js';
import type { SourceOffsetStore } from './offset-store.js';
import { WorkerTask, type TaskRuntime } from './worker-task.js';
import { stringifyExactJson } from '../data/exact-json.js';

/** Polled batches whose records may be unacknowledged at once before the next poll waits. */
const MAX_BATCHES_IN_FLIGHT = 4;

/** A polled record and what it became: the record to produce, or null (filtered, or skipped on a tolerated error). */
type Converted = { record: SourceRecord; out: ProducerRecord | null };

/**
 * The TransactionContext a task gets with transaction.boundary=connector (Kafka's
 * WorkerTransactionContext): requests are taken by the worker as it dispatches records; an abort
 * wins over a commit asked for at the same point.
 */
class WorkerTransactionContext implements TransactionContext {
  private readonly commitAfter = new Set<SourceRecord>();
  private readonly abortAfter = new Set<SourceRecord>();
  private batchEnd: 'commit' | 'abort' | null = null;

  commitTransaction(record?: SourceRecord): void {
    if (record) this.commitAfter.add(record);
    else if (this.batchEnd !== 'abort') this.batchEnd = 'commit';
  }

  abortTransaction(record?: SourceRecord): void {
    if (record) this.abortAfter.add(record);
    else this.batchEnd = 'abort';
  }

  takeRecordRequest(record: SourceRecord): 'commit' | 'abort' | null {
    const abort = this.abortAfter.delete(record);
    const commit = this.commitAfter.delete(record);
    return abort ? 'abort' : commit ? 'commit' : null;
  }

  takeBatchRequest(): 'commit' | 'abort' | null {
    const end = this.batchEnd;
    this.batchEnd = null;
    return end;
  }
}

export class WorkerSourceTask extends WorkerTask {
  private readonly producer: Producer;
  private pending = new Map<string, { partition: Record<string, unknown>; offset: Record<string, unknown> }>();
  private lastFlush = Date.now();
  private inFlight: Array<{ done: Promise<unknown>; records: SourceRecord[] }> = [];
  /** Records polled and produced since start (for benchmarks and tests). */
  produced = 0;

  /** The exactly-once transaction open since its first records (transaction.boundary decides when it commits). */
  private transaction: { startedMs: number; records: SourceRecord[]; sends: Array<Promise<unknown>> } | null = null;
  /** transaction.boundary=connector: where the task asked its transactions to end. */
  private readonly transactionContext: WorkerTransactionContext | null;
  /** Topics this task has made sure exist (topic.creation.*). */
  private readonly topicsCreated = new Set<string>();

  constructor(runtime: TaskRuntime, private readonly task: SourceTask, private readonly offsets: SourceOffsetStore) {
    super(runtime);
    this.producer = new Producer({
      brokers: runtime.bootstrapServers,
      ...runtime.clientSecurity,
      clientId: `connector-producer-${runtime.connector}-${runtime.taskId}`,
      acks: 'all',
      lingerMs: Number(runtime.clientProps['linger.ms'] ?? 5),
      allowAutoTopicCreation: true,
      ...(runtime.exactlyOnce ? { transactionalId: runtime.exactlyOnce.transactionalId, transactionTimeoutMs: Number(runtime.clientProps['transaction.timeout.ms'] ?? 60_000) } : {}),
    });
    this.transactionContext = runtime.exactlyOnce && runtime.transactionBoundary?.kind === 'connector' ? new WorkerTransactionContext() : null;
    task.context = {
      configs: () => runtime.props,
      offsetStorageReader: { offset: (partition) => this.offsets.get(runtime.connector, partition) },
      transactionContext: () => this.transactionContext,
    };
  }

  protected async run(): Promise<void> {
    try {
      // A connector's own offsets topic is created and read before the task may ask for offsets.
      await this.offsets.ready?.();
      await this.producer.connect();
      // A new instance of the task fences the previous one (a zombie on a worker presumed dead).
      if (this.runtime.exactlyOnce) {
        await this.producer.initTransactions();
        // KIP-618: offsets are read only after the fence, when the previous instance's last
        // transaction has either committed or been aborted.
        await this.runtime.exactlyOnce.catchUp();
      }
      await this.task.start(this.runtime.props);
      await this.pollLoop();
      // A graceful stop commits what an interval's transaction holds so far.
      await this.commitOpenTransaction();
      await this.commitOffsets();
    } finally {
      try {
        await this.stopTaskOnce();
      } finally {
        await this.producer.close();
      }
    }
  }

  private async pollLoop(): Promise<void> {
    try {
      while (!this.stopping) {
        await this.waitWhilePaused();
        if (this.stopping) break;
        const records = (await this.task.poll()) ?? [];
        const converted: Converted[] = [];
        for (const record of records) converted.push({ record, out: await this.convert(record) });
        if (this.runtime.exactlyOnce) {
          await this.dispatchTransactional(converted);
          continue;
        }
        // Several polled batches may be in flight; offsets are staged strictly in poll order.
        const done = this.send(converted) ?? Promise.resolve();
        done.catch(() => undefined); // observed when settled in order; not an unhandled rejection meanwhile
        this.inFlight.push({ done, records });
        while (this.inFlight.length > MAX_BATCHES_IN_FLIGHT) await this.settleOldest();
        if (Date.now() - this.lastFlush >= this.runtime.offsetFlushIntervalMs) await this.commitOffsets();
      }
    } catch (err) {
      // A poll cut short by stop() may throw; what was acknowledged before still gets committed.
      if (!this.stopping) throw err;
    }
  }

  /** Transform and convert one record: what to produce, null when it is filtered out or its conversion failed (tolerated). */
  private async convert(record: SourceRecord): Promise<ProducerRecord | null> {
    const { errors, chain, converters } = this.runtime;
    const transformed = await errors.attempt('TRANSFORMATION', 'TransformationChain', () => chain.apply(record), null);
    if (!transformed.ok || transformed.value === null) {
      this.stage(record);
      await this.task.commitRecord(record, null);
      return null;
    }
    const r = transformed.value;
    const key = await errors.attempt('KEY_CONVERTER', converters.keyClass, () => converters.key.fromConnectData(r.topic, r.keySchema, r.key), null);
    if (!key.ok) return this.skipped(record);
    const value = await errors.attempt('VALUE_CONVERTER', converters.valueClass, () => converters.value.fromConnectData(r.topic, r.valueSchema, r.value), null);
    if (!value.ok) return this.skipped(record);
    const headers = await errors.attempt('HEADER_CONVERTER', converters.headerClass, () => r.headers.map((h): RecordHeader => ({ key: h.key, value: converters.header.fromConnectHeader(r.topic, h.key, h.schema, h.value) })), null);
    if (!headers.ok) return this.skipped(record);
    const out: ProducerRecord = { topic: r.topic, key: key.value, value: value.value, headers: headers.value };
    if (r.kafkaPartition !== null) out.partition = r.kafkaPartition;
    if (r.timestamp !== null) out.timestamp = r.timestamp;
    if (this.runtime.createTopic && !this.topicsCreated.has(r.topic)) {
      await this.runtime.createTopic(r.topic);
      this.topicsCreated.add(r.topic);
    }
    this.runtime.onTopic(r.topic);
    return out;
  }

  private skipped(record: SourceRecord): null {
    this.stage(record);
    return null;
  }

  /** One sendBatch for the records to produce (the producer batches anyway; a promise per record costs); null when there are none. */
  private send(converted: readonly Converted[]): Promise<unknown> | null {
    const sent = converted.filter((c): c is { record: SourceRecord; out: ProducerRecord } => c.out !== null);
    if (sent.length === 0) return null;
    return this.producer.sendBatch(sent.map((c) => c.out)).then((mds) => Promise.all(mds.map((md, i) => this.task.commitRecord(sent[i].record, { topic: md.topic, partition: md.partition, offset: Number(md.offset) }))));
  }

  /**
   * Exactly-once: the batch joins the open transaction (one begins with the first records), which
   * ends where transaction.boundary says: after every poll, once its interval has passed, or where
   * the connector's TransactionContext asked (after a record, or after this batch).
   */
  private async dispatchTransactional(converted: readonly Converted[]): Promise<void> {
    const context = this.transactionContext;
    let from = 0;
    if (context) {
      for (let i = 0; i < converted.length; i++) {
        const end = context.takeRecordRequest(converted[i].record);
        if (!end) continue;
        this.addToTransaction(converted.slice(from, i + 1));
        from = i + 1;
        await (end === 'abort' ? this.abortOpenTransaction() : this.commitOpenTransaction());
      }
    }
    this.addToTransaction(converted.slice(from));
    if (context) {
      const end = context.takeBatchRequest();
      if (end === 'abort') await this.abortOpenTransaction();
      else if (end === 'commit') await this.commitOpenTransaction();
      return;
    }
    const txn = this.transaction;
    const boundary = this.runtime.transactionBoundary ?? { kind: 'poll' };
    if (txn && (boundary.kind === 'poll' || (boundary.kind === 'interval' && Date.now() - txn.startedMs >= boundary.intervalMs))) await this.commitOpenTransaction();
  }

  private addToTransaction(items: readonly Converted[]): void {
    if (items.length === 0) return;
    if (!this.transaction) {
      this.producer.beginTransaction();
      this.transaction = { startedMs: Date.now(), records: [], sends: [] };
    }
    this.transaction.records.push(...items.map((c) => c.record));
    const sending = this.send(items);
    if (!sending) return;
    sending.catch(() => undefined); // observed at the commit; not an unhandled rejection while the transaction stays open
    this.transaction.sends.push(sending);
  }

  /** Aborts the open transaction (the connector asked): its records are dropped and their offsets not committed. */
  private async abortOpenTransaction(): Promise<void> {
    const txn = this.transaction;
    if (!txn) return;
    this.transaction = null;
    await Promise.allSettled(txn.sends);
    await this.producer.abortTransaction();
  }

  private taskStop: Promise<void> | null = null;

  /** Kafka calls SourceTask.stop once, from outside the poll loop, to cut a blocking poll short. */
  private stopTaskOnce(): Promise<void> {
    this.taskStop ??= Promise.resolve(this.task.stop());
    return this.taskStop;
  }

  /** Commits the open transaction (if any): its records and their source offsets together. */
  private async commitOpenTransaction(): Promise<void> {
    const txn = this.transaction;
    if (!txn) return;
    this.transaction = null;
    await this.commitTransaction(txn.records, txn.sends);
  }

  /** The records of one transaction (a poll's, or an interval's) and their source offsets commit together. */
  private async commitTransaction(records: SourceRecord[], sends: Array<Promise<unknown>>): Promise<void> {
    const eos = this.runtime.exactlyOnce!;
    const last = new Map<string, { partition: Record<string, unknown>; offset: Record<string, unknown> }>();
    for (const r of records) if (Object.keys(r.sourceOffset).length) last.set(stringifyExactJson(r.sourcePartition), { partition: r.sourcePartition, offset: r.sourceOffset });
    try {
      for (const w of last.values()) {
        sends.push(this.producer.send({ topic: eos.offsetsTopic, key: stringifyExactJson([this.runtime.connector, w.partition]), value: stringifyExactJson(w.offset) }));
      }
      await Promise.all(sends);
      await this.producer.commitTransaction();
    } catch (err) {
      await this.producer.abortTransaction().catch(() => undefined);
      throw err;
    }
    eos.remember(this.runtime.connector, [...last.values()]);
    this.produced += records.length;
    await this.task.commit();
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight[0];
    await oldest.done;
    this.inFlight.shift();
    for (const record of oldest.records) this.stage(record);
    this.produced += oldest.records.length;
  }

  private stage(record: SourceRecord): void {
    this.pending.set(stringifyExactJson(record.sourcePartition), { partition: record.sourcePartition, offset: record.sourceOffset });
  }

  private async commitOffsets(): Promise<void> {
    this.lastFlush = Date.now();
    while (this.inFlight.length) await this.settleOldest();
    const writes = [...this.pending.values()].filter((w) => Object.keys(w.offset).length > 0);
    this.pending.clear();
    if (writes.length) await this.offsets.set(this.runtime.connector, writes);
    await this.task.commit();
  }

  protected onPauseChange(): void {}

  protected interrupt(): void {
    this.stopTaskOnce().catch(() => undefined);
  }
}
