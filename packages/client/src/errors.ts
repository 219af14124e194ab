/**
 * Client-side errors. Broker errors are `KafkaError` from @sluice/protocol (Kafka's name, code,
 * retriability); the client adds its own for transport failures, timeouts and misuse, all with
 * the same `retriable` flag so retry loops treat every error alike.
 */
import { KafkaError, errorForCode } from '@sluice/protocol';

export { KafkaError, errorForCode };

/** Any error the client raises itself (not one a broker returned). */
export class SluiceClientError extends Error {
  readonly retriable: boolean;
  constructor(message: string, retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceClientError';
    this.retriable = retriable;
  }
}

/** The socket failed or closed; requests in flight on it fail with this. Retriable. */
export class ConnectionError extends SluiceClientError {
  readonly broker: string;
  constructor(broker: string, message: string, options?: { cause?: unknown }) {
    super(`${broker}: ${message}`, true, options);
    this.name = 'ConnectionError';
    this.broker = broker;
  }
}

/** No response within `requestTimeoutMs`. Retriable. */
export class RequestTimeoutError extends SluiceClientError {
  constructor(message: string) {
    super(message, true);
    this.name = 'RequestTimeoutError';
  }
}

/** The caller used the API wrongly (bad argument, wrong state). Never retriable. */
export class MisuseError extends SluiceClientError {
  constructor(message: string) {
    super(message, false);
    this.name = 'MisuseError';
  }
}

/** The broker supports no version of an API in the client's range. */
export class UnsupportedVersionError extends SluiceClientError {
  constructor(message: string) {
    super(message, false);
    this.name = 'UnsupportedVersionError';
  }
}

/** The producer's buffer stayed full for `maxBlockMs`. */
export class BufferExhaustedError extends SluiceClientError {
  constructor(message: string) {
    super(message, true);
    this.name = 'BufferExhaustedError';
  }
}

export function isRetriable(error: unknown): boolean {
  return (error instanceof KafkaError || error instanceof SluiceClientError) && error.retriable;
}

/** A newer producer with the same transactional id fenced this one (fatal: close the producer). */
export class ProducerFencedError extends SluiceClientError {
  constructor(message: string) {
    super(message, false);
    this.name = 'ProducerFencedError';
  }
}

/** The current transaction failed and must be aborted; the producer stays usable. */
export class TransactionAbortableError extends SluiceClientError {
  constructor(message: string) {
    super(message, false);
    this.name = 'TransactionAbortableError';
  }
}

/**
 * Kafka's LogTruncationException: the leader's log no longer has records this consumer consumed
 * (an unclean leader election truncated them) and autoOffsetReset is 'none', so the consumer does
 * not choose where to go on; `divergedAt` is the first offset known to diverge, where a seek resumes.
 */
export class LogTruncationError extends SluiceClientError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly consumed: bigint,
    readonly divergedAt: bigint,
  ) {
    super(`${topic}-${partition}: the leader's log diverges from offset ${divergedAt}, before the consumed position ${consumed} (records were truncated by an unclean leader election); seek to go on`, false);
    this.name = 'LogTruncationError';
  }
}
