/**
 * KIP-618's per-connector offsets topic (a source connector's `offsets.storage.topic`, distributed
 * workers): as Kafka's ConnectorOffsetBackingStore, offsets are read from the connector's own
 * topic first and the worker's global topic second; writes go to the connector's topic and then,
 * best effort, to the global one, so tools reading the global topic still see them.
 */
import { offsetKey, type OffsetWrite, type SourceOffsetStore } from '../offset-store.js';
import type { KafkaOffsetStore } from './kafka-offset-store.js';

export class ConnectorOffsetStore implements SourceOffsetStore {
  constructor(
    readonly primary: KafkaOffsetStore,
    private readonly worker: KafkaOffsetStore,
    private readonly started: Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  ready(): Promise<void> {
    return this.started;
  }

  get(connector: string, partition: Record<string, unknown>): Record<string, unknown> | null {
    return this.primary.get(connector, partition) ?? this.worker.get(connector, partition);
  }

  forConnector(connector: string): Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> {
    const merged = new Map<string, { partition: Record<string, unknown>; offset: Record<string, unknown> }>();
    for (const o of this.worker.forConnector(connector)) merged.set(offsetKey(connector, o.partition), o);
    for (const o of this.primary.forConnector(connector)) merged.set(offsetKey(connector, o.partition), o);
    return [...merged.values()];
  }

  async set(connector: string, writes: OffsetWrite[]): Promise<void> {
    await this.primary.set(connector, writes);
    await this.copyToWorker(connector, writes);
  }

  /** The global topic's copy: a failure there is logged, not fatal (the connector's topic is the record). */
  async copyToWorker(connector: string, writes: OffsetWrite[]): Promise<void> {
    try {
      await this.worker.set(connector, writes);
    } catch (err) {
      this.log(`Failed to write offsets of connector ${connector} to the worker's global offsets topic: ${(err as Error).message}`);
    }
  }

  /** Both topics read to their ends (before answering the offsets endpoints). */
  async readToEnd(): Promise<void> {
    await this.started;
    await Promise.all([this.primary.log.readToEnd(), this.worker.log.readToEnd()]);
  }
}
