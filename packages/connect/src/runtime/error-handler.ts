/**
 * Kafka Connect's RetryWithToleranceOperator: runs one stage of record processing, retrying
 * retriable failures for up to `errors.retry.timeout` (with exponential backoff capped at
 * `errors.retry.delay.max.ms`), then either fails the task (`errors.tolerance=none`) or skips the
 * record, logging it (`errors.log.enable`) and sending the original bytes to the dead letter queue
 * with `__connect.errors.*` context headers.
 */
import type { RecordHeader } from '@sluice/protocol';

export type Stage = 'KEY_CONVERTER' | 'VALUE_CONVERTER' | 'HEADER_CONVERTER' | 'TRANSFORMATION' | 'TASK_PUT' | 'TASK_POLL' | 'KAFKA_PRODUCE' | 'KAFKA_CONSUME';

/** An error a connector marks as worth retrying (Kafka's RetriableException). */
export class RetriableError extends Error {
  override name = 'RetriableException';
  readonly retriable = true;
}

export class ConnectException extends Error {
  override name = 'ConnectException';
}

/** The consumed record an error happened on, as it was in Kafka. */
export interface OriginalRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DeadLetterQueueSender {
  send(record: { topic: string; key: Buffer | null; value: Buffer | null; headers: RecordHeader[] }): Promise<unknown>;
}

export interface ErrorHandlingOptions {
  connector: string;
  taskId: number;
  tolerance: 'none' | 'all';
  retryTimeoutMs: number;
  retryDelayMaxMs: number;
  logEnable: boolean;
  logIncludeMessages: boolean;
  dlqTopic: string;
  dlqContextHeaders: boolean;
  dlq: DeadLetterQueueSender | null;
  log: (line: string) => void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false };

function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

export class ErrorHandler {
  /** Records skipped because of tolerated errors (for status and tests). */
  skipped = 0;

  constructor(private readonly options: ErrorHandlingOptions) {}

  /**
   * `execute` without a promise when the operation is synchronous and succeeds: converters and
   * transforms run per record, and an await per stage costs throughput.
   */
  attempt<T>(stage: Stage, executingClass: string, fn: () => T, original: OriginalRecord | null): Outcome<T> | Promise<Outcome<T>> {
    try {
      const value = fn();
      if (!(value instanceof Promise)) return { ok: true, value };
    } catch {
      // fall through: retries, tolerance and reporting live in execute
    }
    return this.execute(stage, executingClass, fn, original);
  }

  async execute<T>(stage: Stage, executingClass: string, fn: () => T | Promise<T>, original: OriginalRecord | null): Promise<Outcome<T>> {
    const deadline = this.options.retryTimeoutMs < 0 ? Infinity : Date.now() + this.options.retryTimeoutMs;
    let delay = 300;
    for (;;) {
      try {
        return { ok: true, value: await fn() };
      } catch (err) {
        if (isRetriable(err) && Date.now() < deadline) {
          const wait = Math.min(delay, this.options.retryDelayMaxMs, Math.max(0, deadline - Date.now()));
          await new Promise((r) => setTimeout(r, wait));
          delay *= 2;
          continue;
        }
        await this.report(stage, executingClass, err as Error, original);
        if (this.options.tolerance === 'none') {
          const e = new ConnectException(`Tolerance exceeded in error handler: ${(err as Error).message}`);
          e.cause = err;
          throw e;
        }
        this.skipped++;
        return { ok: false };
      }
    }
  }

  private async report(stage: Stage, executingClass: string, err: Error, original: OriginalRecord | null): Promise<void> {
    const o = this.options;
    if (o.logEnable) {
      let line = `Error encountered in task ${o.connector}-${o.taskId}. Executing stage '${stage}' with class '${executingClass}'`;
      if (original) {
        line += `, where consumed record is {topic='${original.topic}', partition=${original.partition}, offset=${original.offset}}`;
        if (o.logIncludeMessages) line += ` key=${original.key?.toString('utf8') ?? 'null'} value=${original.value?.toString('utf8') ?? 'null'}`;
      }
      o.log(`${line}. ${err.name}: ${err.message}`);
    }
    if (o.dlq && o.dlqTopic && original && o.tolerance === 'all') {
      const headers = [...original.headers];
      if (o.dlqContextHeaders) {
        const h = (key: string, value: string) => headers.push({ key: `__connect.errors.${key}`, value: Buffer.from(value) });
        h('topic', original.topic);
        h('partition', String(original.partition));
        h('offset', String(original.offset));
        h('connector.name', o.connector);
        h('task.id', String(o.taskId));
        h('stage', stage);
        h('class.name', executingClass);
        h('exception.class.name', err.name);
        h('exception.message', err.message);
        h('exception.stacktrace', err.stack ?? `${err.name}: ${err.message}`);
      }
      try {
        await o.dlq.send({ topic: o.dlqTopic, key: original.key, value: original.value, headers });
      } catch (dlqErr) {
        o.log(`Could not write to dead letter queue ${o.dlqTopic}: ${(dlqErr as Error).message}`);
      }
    }
  }
}
