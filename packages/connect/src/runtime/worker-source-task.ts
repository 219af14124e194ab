/**
 * Runs one SourceTask: poll, transform, convert, produce; source offsets of acknowledged records
 * are written every `offset.flush.interval.ms` (and on stop), then the task's commit() runs.
 */
import { Producer, type ProducerRecord } from '@sluice/client';
import type { RecordHeader } from '@sluice/protocol';
import type { SourceTask } from '../api/connector.js';
import type { SourceRecord } from '../data/schema.js';
import type { SourceOffsetStore } from './offset-store.js';
import { WorkerTask, type TaskRuntime } from './worker-task.js';
import { stringifyExactJson } from '../data/exact-json.js';

/** Polled batches whose records may be unacknowledged at once before the next poll waits. */
const MAX_BATCHES_IN_FLIGHT = 4;

export class WorkerSourceTask extends WorkerTask {
  private readonly producer: Producer;
  private pending = new Map<string, { partition: Record<string, unknown>; offset: Record<string, unknown> }>();
  private lastFlush = Date.now();
  private inFlight: Array<{ done: Promise<unknown>; records: SourceRecord[] }> = [];
  /** Records polled and produced since start (for benchmarks and tests). */
  produced = 0;

  /** The exactly-once transaction open since its first records (transaction.boundary decides when it commits). */
  private transaction: { startedMs: number; records: SourceRecord[]; sends: Array<Promise<unknown>> } | null = null;
  /** Topics this task has made sure exist (topic.creation.*). */
  private readonly topicsCreated = new Set<string>();

  constructor(runtime: TaskRuntime, private readonly task: SourceTask, private readonly offsets: SourceOffsetStore) {
    super(runtime);
    this.producer = new Producer({
      brokers: runtime.bootstrapServers,
      clientId: `connector-producer-${runtime.connector}-${runtime.taskId}`,
      acks: 'all',
      lingerMs: Number(runtime.clientProps['linger.ms'] ?? 5),
      allowAutoTopicCreation: true,
      ...(runtime.exactlyOnce ? { transactionalId: runtime.exactlyOnce.transactionalId, transactionTimeoutMs: Number(runtime.clientProps['transaction.timeout.ms'] ?? 60_000) } : {}),
    });
    task.context = {
      configs: () => runtime.props,
      offsetStorageReader: { offset: (partition) => this.offsets.get(runtime.connector, partition) },
    };
  }

  protected async run(): Promise<void> {
    try {
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
    const { errors, chain, converters } = this.runtime;
    try {
      while (!this.stopping) {
        await this.waitWhilePaused();
        if (this.stopping) break;
        const records = (await this.task.poll()) ?? [];
        if (this.runtime.exactlyOnce && records.length && this.transaction === null) {
          this.producer.beginTransaction();
          this.transaction = { startedMs: Date.now(), records: [], sends: [] };
        }
        const sends: Array<Promise<unknown>> = [];
        const outgoing: ProducerRecord[] = [];
        const sent: SourceRecord[] = [];
        for (const record of records) {
          const transformed = await errors.attempt('TRANSFORMATION', 'TransformationChain', () => chain.apply(record), null);
          if (!transformed.ok || transformed.value === null) {
            this.stage(record);
            await this.task.commitRecord(record, null);
            continue;
          }
          const r = transformed.value;
          const key = await errors.attempt('KEY_CONVERTER', converters.keyClass, () => converters.key.fromConnectData(r.topic, r.keySchema, r.key), null);
          if (!key.ok) { this.stage(record); continue; }
          const value = await errors.attempt('VALUE_CONVERTER', converters.valueClass, () => converters.value.fromConnectData(r.topic, r.valueSchema, r.value), null);
          if (!value.ok) { this.stage(record); continue; }
          const headers = await errors.attempt('HEADER_CONVERTER', converters.headerClass, () => r.headers.map((h): RecordHeader => ({ key: h.key, value: converters.header.fromConnectHeader(r.topic, h.key, h.schema, h.value) })), null);
          if (!headers.ok) { this.stage(record); continue; }
          const out: ProducerRecord = { topic: r.topic, key: key.value, value: value.value, headers: headers.value };
          if (r.kafkaPartition !== null) out.partition = r.kafkaPartition;
          if (r.timestamp !== null) out.timestamp = r.timestamp;
          if (this.runtime.createTopic && !this.topicsCreated.has(r.topic)) {
            await this.runtime.createTopic(r.topic);
            this.topicsCreated.add(r.topic);
          }
          this.runtime.onTopic(r.topic);
          outgoing.push(out);
          sent.push(record);
        }
        // One sendBatch per poll: the producer batches anyway, and a promise per record costs.
        if (outgoing.length) {
          sends.push(this.producer.sendBatch(outgoing).then((mds) => Promise.all(mds.map((md, i) => this.task.commitRecord(sent[i], { topic: md.topic, partition: md.partition, offset: Number(md.offset) })))));
        }
        if (this.runtime.exactlyOnce) {
          const txn = this.transaction;
          if (txn) {
            txn.records.push(...records);
            // Observed at the commit; not an unhandled rejection while the transaction stays open.
            for (const s of sends) s.catch(() => undefined);
            txn.sends.push(...sends);
            const boundary = this.runtime.transactionBoundary ?? { kind: 'poll' };
            if (boundary.kind === 'poll' || Date.now() - txn.startedMs >= boundary.intervalMs) await this.commitOpenTransaction();
          }
          continue;
        }
        // Several polled batches may be in flight; offsets are staged strictly in poll order.
        const done = Promise.all(sends);
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
