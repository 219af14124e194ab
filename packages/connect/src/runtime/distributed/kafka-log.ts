/**
 * Kafka Connect's KafkaBasedLog: a compacted internal topic read from the beginning and then
 * tailed, every record handed to a callback, plus a producer to append. `readToEnd` waits until
 * everything written before the call has been seen.
 */
import { Admin, Consumer, OffsetSpec, Producer, type SecurityOptions } from '@sluice/client';

/** Where the worker's own clients connect, and with what TLS and SASL (its top-level settings). */
export interface WorkerConnection extends SecurityOptions {
  brokers: string[];
}
import { parseExactJson, stringifyExactJson } from '../../data/exact-json.js';

export interface LogRecord {
  key: string;
  value: unknown;
  partition: number;
  offset: bigint;
}

export class KafkaLog {
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly positions = new Map<number, bigint>();
  private partitions: number[] = [];
  private idle = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly connection: WorkerConnection,
    readonly topic: string,
    private readonly onRecord: (r: LogRecord) => void,
    clientId: string,
  ) {
    this.producer = new Producer({ ...connection, clientId: `${clientId}-producer`, acks: 'all', enableIdempotence: true, lingerMs: 0 });
    // read_committed: offsets written by exactly-once source tasks count only once committed.
    this.consumer = new Consumer({ ...connection, clientId: `${clientId}-consumer`, fetchMaxWaitMs: 100, isolationLevel: 'read_committed' });
  }

  /** Creates the topic (compacted) if missing, then reads it to the end. */
  async start(partitions: number, replicationFactor: number): Promise<void> {
    const admin = new Admin({ ...this.connection });
    try {
      const existing = await admin.listTopics({ includeInternal: true });
      if (!existing.includes(this.topic)) {
        await admin.createTopics([{ topic: this.topic, numPartitions: partitions, replicationFactor, configs: { 'cleanup.policy': 'compact' } }], { ignoreExisting: true });
      }
      const meta = await admin.describeTopics([this.topic]);
      this.partitions = meta[0].partitions.map((p) => p.partition).sort((a, b) => a - b);
    } finally {
      await admin.close();
    }
    await this.producer.connect();
    await this.consumer.assign(this.partitions.map((partition) => ({ topic: this.topic, partition })));
    await this.consumer.seekToBeginning();
    this.loop = this.tail();
    await this.readToEnd();
  }

  private async tail(): Promise<void> {
    for (;;) {
      this.idle = true;
      const batch = await this.consumer.poll();
      this.idle = false;
      if (batch === null) return;
      for (const r of batch.records) {
        const key = r.key?.toString('utf8') ?? '';
        let value: unknown = null;
        if (r.value !== null) {
          try {
            value = parseExactJson(r.value.toString('utf8'));
          } catch {
            continue; // not Connect's JSON: ignore, as Kafka logs and skips
          }
        }
        this.onRecord({ key, value, partition: r.partition, offset: r.offset });
        this.positions.set(r.partition, r.offset + 1n);
      }
    }
  }

  /** Offset of the end of partition 0 (the config topic has one partition). */
  async readToEnd(): Promise<bigint> {
    const admin = new Admin({ ...this.connection });
    let ends: Array<{ partition: number; offset: bigint }>;
    try {
      ends = await admin.listOffsets(this.topic, OffsetSpec.latest, this.partitions, 1);
    } finally {
      await admin.close();
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const behind = ends.filter((e) => {
        const own = this.positions.get(e.partition) ?? 0n;
        if (own >= e.offset) return false;
        // Waiting in poll with nothing delivered: the fetcher has looked past markers and aborted records.
        const fetched = this.consumer.fetchedPosition({ topic: this.topic, partition: e.partition });
        return !(this.idle && fetched !== null && fetched >= e.offset);
      });
      if (!behind.length) break;
      if (Date.now() > deadline) throw new Error(`timed out reading ${this.topic} to its end`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return ends.find((e) => e.partition === 0)?.offset ?? 0n;
  }

  async send(key: string, value: unknown, partition?: number): Promise<bigint> {
    const md = await this.producer.send({ topic: this.topic, key, value: value === null ? null : stringifyExactJson(value), ...(partition !== undefined ? { partition } : {}) });
    return md.offset;
  }

  async stop(): Promise<void> {
    await this.producer.close();
    await this.consumer.close();
    await this.loop;
  }
}
