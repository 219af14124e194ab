/**
 * Runs one SinkTask: consumes the connector's topics in the group `connect-<name>`, converts and
 * transforms each record (errors go through the error handler and dead letter queue), hands the
 * batch to put(), and every `offset.flush.interval.ms` commits what preCommit() says is safe.
 * Revoked partitions are committed and closed first, so another worker resumes exactly there.
 */
import { Consumer, Producer, type ConsumerBatch, type OffsetToCommit } from '@sluice/client';
import type { SinkTask, PartitionOffsets, TopicPartitionRef } from '../api/connector.js';
import type { Header, SinkRecord } from '../data/schema.js';
import { WorkerTask, type TaskRuntime } from './worker-task.js';

export function sinkGroupId(connector: string): string {
  return `connect-${connector}`;
}

const tpKey = (topic: string, partition: number) => `${topic}-${partition}`;

export class WorkerSinkTask extends WorkerTask {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer | null;
  /** Next offset to consume per partition: everything before it was put(). */
  private readonly current: PartitionOffsets = new Map();
  private lastCommit = Date.now();
  private commitRequested = false;
  private pendingPoll: Promise<ConsumerBatch | null> | null = null;
  private wake: (() => void) | null = null;
  consumed = 0;

  constructor(runtime: TaskRuntime, private readonly task: SinkTask, dlqProducer: Producer | null) {
    super(runtime);
    this.dlqProducer = dlqProducer;
    this.consumer = new Consumer({
      brokers: runtime.bootstrapServers,
      ...runtime.clientSecurity,
      clientId: `connector-consumer-${runtime.connector}-${runtime.taskId}`,
      groupId: sinkGroupId(runtime.connector),
      enableAutoCommit: false,
      sessionTimeoutMs: Number(runtime.clientProps['session.timeout.ms'] ?? 45_000),
      heartbeatIntervalMs: Number(runtime.clientProps['heartbeat.interval.ms'] ?? 3_000),
      maxPollIntervalMs: Number(runtime.clientProps['max.poll.interval.ms'] ?? 300_000),
      // A sink may start before its topics exist (the source creates them): look again often.
      metadataMaxAgeMs: Number(runtime.clientProps['metadata.max.age.ms'] ?? 3000),
      isolationLevel: runtime.clientProps['isolation.level'] === 'read_committed' ? 'read_committed' : 'read_uncommitted',
      autoOffsetReset: (runtime.clientProps['auto.offset.reset'] as 'earliest' | 'latest' | undefined) ?? 'earliest',
      rebalanceListener: {
        onPartitionsAssigned: (tps) => this.task.open(tps),
        onPartitionsRevoked: async (tps) => {
          await this.commit(tps);
          for (const tp of tps) this.current.delete(tpKey(tp.topic, tp.partition));
          await this.task.close(tps);
        },
        onPartitionsLost: async (tps) => {
          for (const tp of tps) this.current.delete(tpKey(tp.topic, tp.partition));
          await this.task.close(tps);
        },
      },
    });
    task.context = {
      configs: () => runtime.props,
      assignment: () => this.consumer.assignment(),
      offset: (tp, offset) => this.consumer.seek(tp, BigInt(offset)),
      requestCommit: () => { this.commitRequested = true; },
      pause: (...tps: TopicPartitionRef[]) => this.consumer.pause(tps),
      resume: (...tps: TopicPartitionRef[]) => this.consumer.resume(tps),
    };
  }

  protected async run(): Promise<void> {
    try {
      await this.task.start(this.runtime.props);
      const regex = this.runtime.props['topics.regex'];
      if (regex) await this.consumer.subscribe(new RegExp(`^(?:${regex})$`));
      else await this.consumer.subscribe(this.runtime.props.topics.split(',').map((t) => t.trim()).filter(Boolean));
      await this.consumeLoop();
      await this.commit(null);
    } finally {
      try {
        await this.task.stop();
      } finally {
        await this.consumer.close();
      }
    }
  }

  private async consumeLoop(): Promise<void> {
    while (!this.stopping) {
      await this.waitWhilePaused();
      if (this.stopping) break;
      this.pendingPoll ??= this.consumer.poll(Number(this.runtime.clientProps['max.poll.records'] ?? 500));
      const untilCommit = Math.max(1, this.runtime.offsetFlushIntervalMs - (Date.now() - this.lastCommit));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.min(untilCommit, 1000));
        this.wake = () => resolve('timeout');
      });
      const got = await Promise.race([this.pendingPoll, timeout]);
      clearTimeout(timer);
      this.wake = null;
      if (got !== 'timeout') {
        this.pendingPoll = null;
        if (got === null) break; // consumer closed
        if (this.paused) await this.waitWhilePaused();
        if (this.stopping) {
          // Not put: the next owner reads this batch again from the committed offset.
          break;
        }
        await this.deliver(got);
      }
      if (this.commitRequested || Date.now() - this.lastCommit >= this.runtime.offsetFlushIntervalMs) await this.commit(null);
    }
  }

  private async deliver(batch: ConsumerBatch): Promise<void> {
    const { errors, chain, converters } = this.runtime;
    this.runtime.onTopic(batch.topic);
    const out: SinkRecord[] = [];
    for (const r of batch.records) {
      const original = { topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers };
      const key = await errors.attempt('KEY_CONVERTER', converters.keyClass, () => converters.key.toConnectData(r.topic, r.key), original);
      if (!key.ok) continue;
      const value = await errors.attempt('VALUE_CONVERTER', converters.valueClass, () => converters.value.toConnectData(r.topic, r.value), original);
      if (!value.ok) continue;
      const headers = await errors.attempt('HEADER_CONVERTER', converters.headerClass, () => r.headers.map((h): Header => {
        const sv = converters.header.toConnectHeader(r.topic, h.key, h.value);
        return { key: h.key, schema: sv.schema, value: sv.value };
      }), original);
      if (!headers.ok) continue;
      const record: SinkRecord = {
        topic: r.topic,
        kafkaPartition: r.partition,
        kafkaOffset: Number(r.offset),
        originalTopic: r.topic,
        originalKafkaPartition: r.partition,
        originalKafkaOffset: Number(r.offset),
        keySchema: key.value.schema,
        key: key.value.value,
        valueSchema: value.value.schema,
        value: value.value.value,
        timestamp: Number(r.timestamp),
        headers: headers.value,
      };
      const transformed = await errors.attempt('TRANSFORMATION', 'TransformationChain', () => chain.apply(record), original);
      if (transformed.ok && transformed.value !== null) out.push(transformed.value);
    }
    // put() failures are not tolerated (as in Kafka): the task fails and nothing past the last commit counts.
    await this.task.put(out);
    this.consumed += batch.records.length;
    const last = batch.records[batch.records.length - 1];
    this.current.set(tpKey(batch.topic, batch.partition), { topic: batch.topic, partition: batch.partition, offset: Number(last.offset) + 1 });
  }

  /** preCommit, then commit its answer (only `only`'s partitions when given). */
  private async commit(only: TopicPartitionRef[] | null): Promise<void> {
    this.lastCommit = Date.now();
    this.commitRequested = false;
    const offered: PartitionOffsets = new Map([...this.current].filter(([k]) => only === null || only.some((tp) => tpKey(tp.topic, tp.partition) === k)));
    if (!offered.size) return;
    const safe = await this.task.preCommit(offered);
    const commits: OffsetToCommit[] = [...safe.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset) }));
    if (!commits.length) return;
    try {
      await this.consumer.commit(commits);
    } catch (err) {
      // As Kafka's WorkerSinkTask: a failed commit (a rebalance under way, a coordinator moving)
      // is logged, not fatal; a later commit covers it, or the partition's next owner re-reads
      // from the last committed offset (at-least-once).
      this.runtime.log(`WorkerSinkTask{id=${this.runtime.connector}-${this.runtime.taskId}} Offset commit failed: ${(err as Error).message}`);
    }
  }

  protected onPauseChange(paused: boolean): void {
    const assigned = this.consumer.assignment();
    if (paused) this.consumer.pause(assigned);
    else this.consumer.resume(assigned);
  }

  protected interrupt(): void {
    this.wake?.();
  }

  async closeDeadLetterQueue(): Promise<void> {
    await this.dlqProducer?.close();
  }
}
