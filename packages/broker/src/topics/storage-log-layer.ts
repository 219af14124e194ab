/**
 * LogLayer over @sluice/storage's LogManager. Topic deletion returns once the metadata no longer
 * names the topic; the files go in the background, and creating a topic of the same name waits
 * for that removal so the new topic can never pick up the old one's segments.
 */
import { LogManager, type PartitionLog, type TopicConfig } from '@sluice/storage';
import type { LogLayer } from './log-layer.js';
import type { Logger } from '../logger.js';

export class StorageLogLayer implements LogLayer {
  private readonly deletions = new Map<string, Promise<void>>();

  constructor(
    private readonly manager: LogManager,
    private readonly logger: Logger,
  ) {}

  get dataDir(): string {
    return this.manager.dataDir;
  }

  async create(topic: string, partition: number, config: TopicConfig): Promise<PartitionLog> {
    const pending = this.deletions.get(topic);
    if (pending) await pending;
    return this.manager.createLog(topic, partition, config);
  }

  async deletePartition(topic: string, partition: number): Promise<void> {
    if (this.manager.getLog(topic, partition)) await this.manager.deleteLog(topic, partition);
  }

  deleteTopic(topic: string): Promise<void> {
    const logs = this.manager.allLogs().filter((l) => l.topic === topic);
    const removal = Promise.all(logs.map((l) => this.manager.deleteLog(topic, l.partition)))
      .then(() => this.manager.setTopicConfig(topic, null))
      .catch((err: unknown) => this.logger.error(`removing the data of deleted topic ${topic} failed: ${(err as Error).message}`))
      .finally(() => {
        if (this.deletions.get(topic) === removal) this.deletions.delete(topic);
      });
    this.deletions.set(topic, removal);
    return Promise.resolve();
  }

  /** Resolves when every background topic removal has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.deletions.values()]);
  }

  updateTopicConfig(topic: string, config: TopicConfig): void {
    this.manager.setTopicConfig(topic, config);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.manager.shutdown();
  }
}
