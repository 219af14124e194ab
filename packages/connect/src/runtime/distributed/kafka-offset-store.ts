/**
 * Source offsets in `offset.storage.topic`, as Kafka Connect writes them: key
 * `["<connector>",{partition}]`, value the offset object (JSON), null to delete. The producer's
 * key hashing picks the partition, as Kafka's does.
 */
import { normalizedOffsetKey, offsetKey, offsetsOfConnector, type OffsetWrite, type SourceOffsetStore } from '../offset-store.js';
import { KafkaLog, type LogRecord, type WorkerConnection } from './kafka-log.js';

export class KafkaOffsetStore implements SourceOffsetStore {
  private readonly entries = new Map<string, Record<string, unknown>>();
  readonly log: KafkaLog;

  constructor(connection: WorkerConnection, topic: string, clientId: string) {
    this.log = new KafkaLog(connection, topic, (r) => this.apply(r), clientId);
  }

  private apply(r: LogRecord): void {
    let key: string;
    try {
      key = normalizedOffsetKey(r.key);
    } catch {
      return;
    }
    if (r.value === null) this.entries.delete(key);
    else this.entries.set(key, r.value as Record<string, unknown>);
  }

  get(connector: string, partition: Record<string, unknown>): Record<string, unknown> | null {
    return this.entries.get(offsetKey(connector, partition)) ?? null;
  }

  forConnector(connector: string): Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> {
    return offsetsOfConnector(this.entries, connector);
  }

  /** Offsets another producer (a task's transaction) has already committed to the topic. */
  remember(connector: string, writes: OffsetWrite[]): void {
    for (const w of writes) {
      if (w.offset === null) this.entries.delete(offsetKey(connector, w.partition));
      else this.entries.set(offsetKey(connector, w.partition), w.offset);
    }
  }

  async set(connector: string, writes: OffsetWrite[]): Promise<void> {
    await Promise.all(writes.map((w) => this.log.send(offsetKey(connector, w.partition), w.offset)));
    for (const w of writes) {
      if (w.offset === null) this.entries.delete(offsetKey(connector, w.partition));
      else this.entries.set(offsetKey(connector, w.partition), w.offset);
    }
  }
}
