/**
 * Writes transaction markers (the control batches that end a transaction) to every partition of
 * a transaction, the single-broker form of Kafka's TransactionMarkerChannelManager: each
 * partition is retried until its leader takes the marker, or its topic is gone.
 */
import { buildControlBatch, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';

export interface MarkerTarget {
  topic: string;
  partition: number;
}

export interface MarkerRequest {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
}

const RETRY_BACKOFF_MS = 100;

export class TransactionMarkerWriter {
  private stopped = false;

  constructor(private readonly broker: BrokerContext) {}

  stop(): void {
    this.stopped = true;
  }

  /** Writes the marker to every target; resolves when all are written (or their topics deleted). */
  async writeAll(request: MarkerRequest, targets: readonly MarkerTarget[]): Promise<void> {
    await Promise.all(targets.map((t) => this.writeOne(request, t)));
  }

  /** One marker, retried until written. Returns the last error code (NONE when written). */
  async writeOne(request: MarkerRequest, target: MarkerTarget): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const code = await this.tryWrite(request, target);
      if (code === ErrorCode.NONE || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return code;
      if (this.stopped) return code;
      if (attempt % 50 === 0) this.broker.logger.warn(`transaction marker for producer ${request.producerId} to ${target.topic}-${target.partition}: error ${code}, retrying`);
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
    }
  }

  /** One attempt, as a WriteTxnMarkers handler answers for one partition. */
  async tryWrite(request: MarkerRequest, target: MarkerTarget): Promise<number> {
    if (!this.broker.topics.get(target.topic)?.partitions[target.partition]) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const { partition, errorCode } = this.broker.replicaManager.lookup(target.topic, target.partition);
    if (!partition) return errorCode;
    const batch = buildControlBatch(request.commit ? 'commit' : 'abort', {
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      coordinatorEpoch: request.coordinatorEpoch,
    });
    const outcome = await this.broker.replicaManager.appendRecords(partition, batch, { acks: -1, timeoutMs: 30_000, origin: 'coordinator' });
    return outcome.errorCode;
  }
}
