/**
 * All partition logs of one data directory (Kafka's log.dirs entry): opens them with recovery at
 * start-up, creates and deletes them, runs retention / flush / checkpoint / compaction in the
 * background, and on clean shutdown writes the checkpoints and the `.kafka_cleanshutdown` marker
 * that lets the next start skip the scan of every active segment.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLEANER_OFFSET_CHECKPOINT,
  CLEAN_SHUTDOWN_MARKER,
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  REPLICATION_OFFSET_CHECKPOINT,
  fsyncDirectory,
  partitionKey,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
  type PartitionOffset,
} from './checkpoint.js';
import { defaultTopicConfig, type TopicConfig } from './config.js';
import { LogCleaner } from './cleaner.js';
import { PartitionLog, parsePartitionDirName } from './partition-log.js';

export interface LogManagerOptions {
  dataDir: string;
  /** Config for topics without an entry in topicConfigs (default: Kafka's defaults). */
  defaultConfig?: TopicConfig;
  topicConfigs?: Map<string, TopicConfig>;
  /**
   * Where failures of background work (retention, compaction, flushes, checkpoints) are reported;
   * the broker passes its logger. Default: process warnings.
   */
  onBackgroundError?: (message: string) => void;
  /** log.retention.check.interval.ms */
  retentionCheckIntervalMs?: number;
  /** log.flush.scheduler.interval.ms: how often flush.ms is checked. */
  flushCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms */
  checkpointIntervalMs?: number;
  /** log.cleaner.backoff.ms: pause between compaction passes. */
  cleanerBackoffMs?: number;
  /** log.cleaner.enable */
  cleanerEnabled?: boolean;
  /** producer.id.expiration.ms, read at each use (it changes live). Default one day. */
  producerIdExpirationMs?: () => number;
  /** producer.id.expiration.check.interval.ms: how often idle producers' state is dropped. */
  producerIdExpirationCheckIntervalMs?: number;
  /** Logs opened concurrently at start-up. */
  recoveryConcurrency?: number;
  now?: () => number;
}

/** Kafka's suffix of a future replica's directory: `<topic>-<partition>.<id>-future`. */
export const FUTURE_SUFFIX = '-future';

export interface StartupReport {
  cleanShutdown: boolean;
  logsOpened: number;
  millis: number;
}

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly topicConfigs: Map<string, TopicConfig>;
  private defaultConfig: TopicConfig;
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();
  private busy = new Set<string>();
  private shutDown = false;
  readonly cleaner: LogCleaner;
  startup: StartupReport = { cleanShutdown: false, logsOpened: 0, millis: 0 };
  private readonly now: () => number;

  private constructor(readonly options: LogManagerOptions) {
    this.defaultConfig = options.defaultConfig ?? defaultTopicConfig;
    this.topicConfigs = new Map(options.topicConfigs ?? []);
    this.now = options.now ?? Date.now;
    this.cleaner = new LogCleaner(this.now);
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    const started = performance.now();
    const mgr = new LogManager(options);
    const dir = options.dataDir;
    await mkdir(dir, { recursive: true });
    const markerPath = join(dir, CLEAN_SHUTDOWN_MARKER);
    const cleanShutdown = await stat(markerPath).then(() => true, () => false);
    const [recovery, logStart, hw, cleaner] = await Promise.all([
      readOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT)),
      readOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT)),
      readOffsetCheckpoint(join(dir, REPLICATION_OFFSET_CHECKPOINT)),
      readOffsetCheckpoint(join(dir, CLEANER_OFFSET_CHECKPOINT)),
    ]);
    const entries = await readdir(dir, { withFileTypes: true });
    const toOpen: Array<{ name: string; topic: string; partition: number }> = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      // A future replica (AlterReplicaLogDirs) whose move did not finish: the current replica in
      // its old directory is intact, so the copy is dropped (the move has to be asked for again).
      if (e.name.endsWith('-delete') || e.name.endsWith(FUTURE_SUFFIX)) {
        await rm(join(dir, e.name), { recursive: true, force: true });
        continue;
      }
      const parsed = parsePartitionDirName(e.name);
      if (parsed) toOpen.push({ name: e.name, ...parsed });
    }
    let next = 0;
    const worker = async () => {
      while (next < toOpen.length) {
        const { name, topic, partition } = toOpen[next++];
        const key = partitionKey(topic, partition);
        const log = await PartitionLog.open({
          dir: join(dir, name),
          topic,
          partition,
          config: mgr.configFor(topic),
          cleanShutdown,
          checkpoints: { recoveryPoint: recovery.get(key), logStartOffset: logStart.get(key), highWatermark: hw.get(key) },
          now: mgr.now,
          producerIdExpirationMs: options.producerIdExpirationMs,
        });
        mgr.logs.set(key, log);
        const dirty = cleaner.get(key);
        if (dirty !== undefined) mgr.cleaner.setFirstDirtyOffset(log, dirty);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.recoveryConcurrency ?? 8) }, worker));
    // From here on a crash is unclean again.
    if (cleanShutdown) {
      await unlink(markerPath);
      await fsyncDirectory(dir);
    }
    await mgr.checkpoint();
    mgr.startup = { cleanShutdown, logsOpened: toOpen.length, millis: performance.now() - started };
    return mgr;
  }

  configFor(topic: string): TopicConfig {
    return this.topicConfigs.get(topic) ?? this.defaultConfig;
  }

  /** Applies a topic's new config to its live logs (AlterConfigs). */
  setTopicConfig(topic: string, config: TopicConfig | null): void {
    if (config) this.topicConfigs.set(topic, config);
    else this.topicConfigs.delete(topic);
    for (const log of this.logs.values()) if (log.topic === topic) log.updateConfig(this.configFor(topic));
  }

  setDefaultConfig(config: TopicConfig): void {
    this.defaultConfig = config;
    for (const log of this.logs.values()) if (!this.topicConfigs.has(log.topic)) log.updateConfig(config);
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionKey(topic, partition));
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  async createLog(topic: string, partition: number, config?: TopicConfig): Promise<PartitionLog> {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) throw new Error(`invalid topic name '${topic}'`);
    const key = partitionKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing) return existing;
    if (config) this.topicConfigs.set(topic, config);
    const dir = join(this.dataDir, key);
    await mkdir(dir, { recursive: true });
    await fsyncDirectory(this.dataDir);
    const log = await PartitionLog.open({ dir, topic, partition, config: this.configFor(topic), now: this.now, producerIdExpirationMs: this.options.producerIdExpirationMs });
    this.logs.set(key, log);
    return log;
  }

  /**
   * A future replica of a partition in this directory (AlterReplicaLogDirs): an empty log under
   * `<topic>-<partition>.<id>-future`, not served or checkpointed until `adoptFutureLog`.
   */
  async createFutureLog(topic: string, partition: number, config?: TopicConfig): Promise<PartitionLog> {
    const key = partitionKey(topic, partition);
    const dir = join(this.dataDir, `${key}.${randomUUID().replace(/-/g, '')}${FUTURE_SUFFIX}`);
    await mkdir(dir, { recursive: true });
    await fsyncDirectory(this.dataDir);
    return PartitionLog.open({ dir, topic, partition, config: config ?? this.configFor(topic), now: this.now, producerIdExpirationMs: this.options.producerIdExpirationMs });
  }

  /** Makes a caught-up future log (in this directory) the partition's log here: closed, renamed to its final name, reopened. */
  async adoptFutureLog(future: PartitionLog): Promise<PartitionLog> {
    const key = partitionKey(future.topic, future.partition);
    if (this.logs.has(key)) throw new Error(`${key} already has a log in ${this.dataDir}`);
    await future.close();
    const checkpoints = future.state;
    const dir = join(this.dataDir, key);
    await rename(future.dir, dir);
    await fsyncDirectory(this.dataDir);
    const log = await PartitionLog.open({ dir, topic: future.topic, partition: future.partition, config: this.configFor(future.topic), cleanShutdown: true, checkpoints, now: this.now, producerIdExpirationMs: this.options.producerIdExpirationMs });
    this.logs.set(key, log);
    return log;
  }

  async deleteLog(topic: string, partition: number): Promise<boolean> {
    const key = partitionKey(topic, partition);
    const log = this.logs.get(key);
    if (!log) return false;
    this.logs.delete(key);
    this.cleaner.forget(log);
    await log.deleteFromDisk();
    await fsyncDirectory(this.dataDir);
    return true;
  }

  /** Writes the recovery-point, log-start, high-watermark and cleaner checkpoints. */
  async checkpoint(): Promise<void> {
    const recovery: PartitionOffset[] = [];
    const starts: PartitionOffset[] = [];
    const hws: PartitionOffset[] = [];
    const dirty: PartitionOffset[] = [];
    for (const log of this.logs.values()) {
      const { topic, partition } = log;
      recovery.push({ topic, partition, offset: log.recoveryPoint });
      starts.push({ topic, partition, offset: log.logStartOffset });
      hws.push({ topic, partition, offset: log.highWatermark });
      const firstDirty = this.cleaner.firstDirtyOffset(log);
      if (firstDirty !== undefined) dirty.push({ topic, partition, offset: firstDirty });
    }
    const dir = this.dataDir;
    await writeOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT), recovery);
    await writeOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT), starts);
    await writeOffsetCheckpoint(join(dir, REPLICATION_OFFSET_CHECKPOINT), hws);
    await writeOffsetCheckpoint(join(dir, CLEANER_OFFSET_CHECKPOINT), dirty);
  }

  private reportBackgroundError(message: string): void {
    if (this.options.onBackgroundError) this.options.onBackgroundError(message);
    else process.emitWarning(message);
  }

  /** One retention pass over every log (cleanup.policy=delete). Returns segments deleted. */
  async runRetention(): Promise<number> {
    let deleted = 0;
    for (const log of this.allLogs()) {
      if (log.isClosed) continue;
      try {
        await log.maybeRollForTime();
        deleted += await log.deleteExpiredSegments();
      } catch (e) {
        this.reportBackgroundError(`retention of ${log.topic}-${log.partition} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return deleted;
  }

  /** fsyncs logs whose unflushed data is older than their flush.ms. */
  async runFlushCheck(): Promise<void> {
    const due = this.allLogs().filter((l) => l.unflushedMessageCount > 0 && l.millisSinceLastFlush >= l.config.flushMs);
    await Promise.all(due.map((l) => l.flush()));
  }

  /** One compaction pass over every log whose cleanup.policy includes compact. */
  async runCleaner(): Promise<number> {
    let cleaned = 0;
    for (const log of this.allLogs()) {
      if (this.shutDown) break;
      if (log.isClosed || this.cleaner.uncleanable.has(log)) continue;
      try {
        if (await this.cleaner.maybeClean(log)) cleaned++;
      } catch (e) {
        // Like Kafka, a log the cleaner cannot read is marked uncleanable rather than retried forever.
        const reason = e instanceof Error ? e.message : String(e);
        this.cleaner.uncleanable.set(log, reason);
        this.reportBackgroundError(`compaction of ${log.topic}-${log.partition} failed, marked uncleanable: ${reason}`);
      }
    }
    return cleaned;
  }

  /** Starts the background tasks (each skipped while its previous run is still going). */
  startBackgroundTasks(): void {
    const every = (name: string, ms: number, task: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        if (this.busy.has(name) || this.shutDown) return;
        this.busy.add(name);
        const p = task()
          .catch((e: unknown) => {
            this.reportBackgroundError(`storage background task ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
          })
          .finally(() => {
            this.busy.delete(name);
            this.running.delete(p);
          });
        this.running.add(p);
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every('retention', this.options.retentionCheckIntervalMs ?? 300_000, () => this.runRetention());
    every('flush', this.options.flushCheckIntervalMs ?? 1_000, () => this.runFlushCheck());
    every('checkpoint', this.options.checkpointIntervalMs ?? 60_000, () => this.checkpoint());
    every('producer-expiration', this.options.producerIdExpirationCheckIntervalMs ?? 600_000, async () => {
      for (const log of this.allLogs()) log.expireProducers();
    });
    if (this.options.cleanerEnabled ?? true) every('cleaner', this.options.cleanerBackoffMs ?? 15_000, () => this.runCleaner());
  }

  /** Stops background work, closes every log, writes checkpoints and the clean-shutdown marker. */
  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
    await Promise.all(this.allLogs().map((l) => l.close()));
    await this.checkpoint();
    await writeFile(join(this.dataDir, CLEAN_SHUTDOWN_MARKER), '');
    await fsyncDirectory(this.dataDir);
  }
}
