/**
 * LogLayer over @sluice/storage's LogManagers, one per log directory (log.dirs, JBOD). A new
 * partition log goes to the directory holding the fewest partitions (Kafka's nextLogDirs). Topic
 * deletion returns once the metadata no longer names the topic; the files go in the background,
 * and creating a topic of the same name waits for that removal so the new topic can never pick up
 * the old one's segments.
 */
import { LogManager, type PartitionLog, type TopicConfig } from '@sluice/storage';
import type { LogLayer } from './log-layer.js';
import type { Logger } from '../logger.js';

export class StorageLogLayer implements LogLayer {
  private readonly deletions = new Map<string, Promise<void>>();

  private readonly managers: readonly LogManager[];
  /** Where a partition not hosted yet goes when it is created (AlterReplicaLogDirs ahead of a reassignment). */
  private readonly preferredDirs = new Map<string, string>();

  constructor(
    managers: LogManager | readonly LogManager[],
    private readonly logger: Logger,
  ) {
    this.managers = Array.isArray(managers) ? managers : [managers as LogManager];
    if (this.managers.length === 0) throw new Error('no log directory');
  }

  get dataDir(): string {
    return this.managers[0].dataDir;
  }

  get logDirs(): readonly string[] {
    return this.managers.map((m) => m.dataDir);
  }

  private managerOf(topic: string, partition: number): LogManager | undefined {
    return this.managers.find((m) => m.getLog(topic, partition) !== undefined);
  }

  logDirOf(topic: string, partition: number): string | undefined {
    return this.managerOf(topic, partition)?.dataDir;
  }

  async create(topic: string, partition: number, config: TopicConfig): Promise<PartitionLog> {
    const pending = this.deletions.get(topic);
    if (pending) await pending;
    const existing = this.managerOf(topic, partition);
    if (existing) return existing.createLog(topic, partition, config);
    const key = `${topic}-${partition}`;
    const preferred = this.managers.find((m) => m.dataDir === this.preferredDirs.get(key));
    this.preferredDirs.delete(key);
    // Kafka's nextLogDirs: the directory with the fewest partitions (the first on a tie).
    const target = preferred ?? this.managers.reduce((best, m) => (m.allLogs().length < best.allLogs().length ? m : best));
    return target.createLog(topic, partition, config);
  }

  private managerFor(dir: string): LogManager {
    const m = this.managers.find((x) => x.dataDir === dir);
    if (!m) throw new Error(`${dir} is not a log directory of this broker`);
    return m;
  }

  preferLogDir(topic: string, partition: number, dir: string): void {
    this.managerFor(dir);
    this.preferredDirs.set(`${topic}-${partition}`, dir);
  }

  createFuture(topic: string, partition: number, dir: string, config: TopicConfig): Promise<PartitionLog> {
    return this.managerFor(dir).createFutureLog(topic, partition, config);
  }

  async promoteFuture(future: PartitionLog): Promise<PartitionLog> {
    const target = this.managers.find((m) => future.dir.startsWith(m.dataDir + '/'));
    if (!target) throw new Error(`${future.dir} is in no log directory of this broker`);
    // The future log takes its final name first, then the current one goes: a crash in between
    // leaves two whole copies, which the next start-up refuses to choose between (no data lost).
    const current = this.managerOf(future.topic, future.partition);
    const adopted = await target.adoptFutureLog(future);
    await current?.deleteLog(future.topic, future.partition);
    return adopted;
  }

  async abandonFuture(future: PartitionLog): Promise<void> {
    await future.deleteFromDisk();
  }

  async deletePartition(topic: string, partition: number): Promise<void> {
    await this.managerOf(topic, partition)?.deleteLog(topic, partition);
  }

  deleteTopic(topic: string): Promise<void> {
    const removal = Promise.all(this.managers.flatMap((m) => m.allLogs().filter((l) => l.topic === topic).map((l) => m.deleteLog(topic, l.partition))))
      .then(() => {
        for (const m of this.managers) m.setTopicConfig(topic, null);
      })
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
    for (const m of this.managers) m.setTopicConfig(topic, config);
  }

  async close(): Promise<void> {
    await this.settled();
    await Promise.all(this.managers.map((m) => m.shutdown()));
  }
}
