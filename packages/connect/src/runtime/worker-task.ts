/** What source and sink task runners share: state for the status API, pause/resume, stopping. */
import type { SecurityOptions } from '@sluice/client';
import type { Converter, HeaderConverter } from '../converters/converter.js';
import type { TransformationChain } from './connector-config.js';
import type { ErrorHandler } from './error-handler.js';
import { ConfigException } from '../api/config-def.js';
import { SourceConnector, type Connector } from '../api/connector.js';

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING';

export interface TaskConverters {
  key: Converter;
  value: Converter;
  header: HeaderConverter;
  keyClass: string;
  valueClass: string;
  headerClass: string;
}

export interface TaskRuntime {
  connector: string;
  taskId: number;
  props: Record<string, string>;
  converters: TaskConverters;
  chain: TransformationChain;
  errors: ErrorHandler;
  bootstrapServers: string[];
  offsetFlushIntervalMs: number;
  /** Producer (source) or consumer (sink) settings by their Kafka client names. */
  clientProps: Record<string, string>;
  /** TLS and SASL of the task's producer or consumer, from those settings. */
  clientSecurity: SecurityOptions;
  /** Clients made for this task alone (an admin with the connector's admin.override.*): closed when it ends. */
  ownedClients?: Array<{ close(): unknown }>;
  log: (line: string) => void;
  /** Topics the task has produced to or consumed from (GET /connectors/{name}/topics). */
  onTopic: (topic: string) => void;
  /** Source tasks with topic.creation.* (KIP-158): creates a topic before the task's first record to it. */
  createTopic?: ((topic: string) => Promise<void>) | null;
  /**
   * KIP-618's transaction.boundary for exactly-once source tasks: a transaction per poll, or one
   * per transaction.boundary.interval.ms.
   */
  transactionBoundary?: TransactionBoundary;
  /** Exactly-once source support (KIP-618): records and offsets commit in one transaction per poll. */
  exactlyOnce?: ExactlyOnceSource | null;
}

export interface ExactlyOnceSource {
  transactionalId: string;
  offsetsTopic: string;
  /** Reads the offsets topic to its end: after fencing, so a zombie's last commit is seen. */
  catchUp(): Promise<void>;
  /** Makes committed offsets visible to this worker's offset reader at once. */
  remember(connector: string, writes: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }>): void;
}

export abstract class WorkerTask {
  state: TaskState = 'UNASSIGNED';
  trace: string | null = null;
  protected stopping = false;
  protected paused = false;
  private resumeWaiters: Array<() => void> = [];
  private loop: Promise<void> | null = null;

  constructor(readonly runtime: TaskRuntime) {}

  start(startPaused: boolean): void {
    this.paused = startPaused;
    this.state = startPaused ? 'PAUSED' : 'RUNNING';
    this.loop = this.run()
      .then(
        () => undefined,
        (err: unknown) => this.fail(err),
      )
      .finally(() => Promise.allSettled((this.runtime.ownedClients ?? []).map(async (c) => c.close())));
  }

  protected fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.stopping) {
      this.runtime.log(`Task ${this.runtime.connector}-${this.runtime.taskId} stopped with an error: ${e.message}`);
      return;
    }
    this.state = 'FAILED';
    let trace = e.stack ?? `${e.name}: ${e.message}`;
    if (e.cause instanceof Error) trace += `\nCaused by: ${e.cause.stack ?? e.cause.message}`;
    this.trace = trace;
    this.runtime.log(`Task ${this.runtime.connector}-${this.runtime.taskId} failed: ${e.message}`);
  }

  protected abstract run(): Promise<void>;
  protected abstract onPauseChange(paused: boolean): void;

  pause(): void {
    if (this.state === 'FAILED') return;
    this.paused = true;
    this.state = 'PAUSED';
    this.onPauseChange(true);
  }

  resume(): void {
    if (this.state === 'FAILED') return;
    this.paused = false;
    this.state = 'RUNNING';
    this.onPauseChange(false);
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  protected waitWhilePaused(): Promise<void> {
    if (!this.paused || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  /** Stops the loop, lets it commit what it has, and waits (bounded) for it. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const w of this.resumeWaiters.splice(0)) w();
    this.interrupt();
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
  }

  /** Wake a loop that waits on I/O so it sees `stopping`. */
  protected abstract interrupt(): void;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type TransactionBoundary = { kind: 'poll' } | { kind: 'interval'; intervalMs: number } | { kind: 'connector' };

/**
 * transaction.boundary of a source connector's config (poll, the default, or interval with
 * transaction.boundary.interval.ms, default the worker's offset.flush.interval.ms, or connector
 * when the connector's canDefineTransactionBoundaries says SUPPORTED; refused otherwise, as Kafka
 * refuses it).
 */
export function transactionBoundaryOf(config: Record<string, string>, offsetFlushIntervalMs: number, connector?: Connector): TransactionBoundary {
  const boundary = (config['transaction.boundary'] ?? 'poll').trim().toLowerCase();
  if (boundary === 'poll') return { kind: 'poll' };
  if (boundary === 'interval') {
    const raw = config['transaction.boundary.interval.ms'];
    const intervalMs = raw === undefined ? offsetFlushIntervalMs : Number(raw);
    if (!Number.isInteger(intervalMs) || intervalMs < 0) throw new ConfigException('transaction.boundary.interval.ms', `Invalid value ${raw} for configuration transaction.boundary.interval.ms: must be a non-negative number of milliseconds`);
    return { kind: 'interval', intervalMs };
  }
  if (boundary === 'connector') {
    if (connector instanceof SourceConnector && connector.canDefineTransactionBoundaries(config) === 'SUPPORTED') return { kind: 'connector' };
    throw new ConfigException('transaction.boundary', CONNECTOR_BOUNDARIES_UNSUPPORTED);
  }
  throw new ConfigException('transaction.boundary', `Invalid value ${config['transaction.boundary']} for configuration transaction.boundary: String must be one of: poll, interval, connector`);
}

/** Kafka's wording when a connector cannot define its transactions' boundaries. */
export const CONNECTOR_BOUNDARIES_UNSUPPORTED =
  'The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition.';
