/**
 * Writes transaction markers (the control batches that end a transaction) to every partition of a
 * transaction, Kafka's TransactionMarkerChannelManager: each partition's marker goes to its
 * current leader, written here when that is this broker, else sent with WriteTxnMarkers (one
 * request per leader for all of its partitions), and retried, leader looked up again, until the
 * leader takes it, the topic is gone, or the coordinator gives the transaction up (it lost the
 * `__transaction_state` partition: the next coordinator resumes from the PREPARE_* state).
 */
import { ApiKey, buildControlBatch, ErrorCode } from '@sluice/protocol';
import { Connection, type ConnectionOptions } from '@sluice/client';
import type { BrokerContext } from '../broker-context.js';
import { OFFSETS_TOPIC } from '../groups/offsets-log.js';

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

/** Told when a marker lands in a `__consumer_offsets` partition here: the group coordinator settles that producer's transactional offsets. */
export type OffsetsMarkerListener = (partition: number, producerId: bigint, producerEpoch: number, commit: boolean) => void;

const RETRY_BACKOFF_MS = 100;
const REQUEST_TIMEOUT_MS = 30_000;

export class TransactionMarkerWriter {
  private stopped = false;
  /** One connection per other broker, reused by every transaction's markers. */
  private readonly connections = new Map<number, Connection>();
  onOffsetsMarker: OffsetsMarkerListener | null = null;

  constructor(
    private readonly broker: BrokerContext,
    private readonly connectionOptions: Pick<ConnectionOptions, 'tls' | 'sasl'> = {},
  ) {}

  stop(): void {
    this.stopped = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  /**
   * Writes the marker to every target; resolves when all are written (or their topics deleted),
   * or as soon as `keepGoing` says no (the caller no longer coordinates the transaction).
   */
  async writeAll(request: MarkerRequest, targets: readonly MarkerTarget[], keepGoing: () => boolean = () => true): Promise<boolean> {
    let remaining = [...targets];
    for (let attempt = 0; remaining.length > 0; attempt++) {
      if (this.stopped || !keepGoing()) return false;
      const failed: { target: MarkerTarget; code: number }[] = [];
      const byLeader = new Map<number, MarkerTarget[]>();
      for (const target of remaining) {
        const leader = this.leaderOf(target);
        if (leader === null) {
          if (!this.broker.metadata.topic(target.topic)) continue; // deleted: nothing left to end
          failed.push({ target, code: ErrorCode.LEADER_NOT_AVAILABLE });
          continue;
        }
        let list = byLeader.get(leader);
        if (!list) byLeader.set(leader, (list = []));
        list.push(target);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, list]) => {
          const codes = leader === this.broker.nodeId ? await Promise.all(list.map((t) => this.tryWrite(request, t))) : await this.send(leader, request, list);
          list.forEach((target, i) => {
            if (codes[i] === ErrorCode.TRANSACTION_COORDINATOR_FENCED) {
              // A newer coordinator already ended a transaction of this producer there: this
              // marker is stale and retrying it can never succeed.
              this.broker.logger.warn(`transaction marker of producer ${request.producerId} to ${target.topic}-${target.partition} refused: coordinator epoch ${request.coordinatorEpoch} is fenced`);
            } else if (codes[i] !== ErrorCode.NONE && codes[i] !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) failed.push({ target, code: codes[i] });
          });
        }),
      );
      remaining = failed.map((f) => f.target);
      if (remaining.length === 0) break;
      if (attempt % 50 === 0) {
        const what = failed.map((f) => `${f.target.topic}-${f.target.partition} (error ${f.code})`).join(', ');
        this.broker.logger.warn(`transaction markers of producer ${request.producerId}: ${what}; retrying`);
      }
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
    }
    return true;
  }

  /** The broker leading the partition as the metadata says, null while it has none (or the topic is unknown). */
  private leaderOf(target: MarkerTarget): number | null {
    const leader = this.broker.metadata.topic(target.topic)?.partitions[target.partition]?.leader;
    return leader === undefined || leader < 0 ? null : leader;
  }

  /** One WriteTxnMarkers request to another broker: an error code per target, in order. */
  private async send(nodeId: number, request: MarkerRequest, targets: MarkerTarget[]): Promise<number[]> {
    const registration = this.broker.metadata.brokers().find((b) => b.nodeId === nodeId);
    if (!registration) return targets.map(() => ErrorCode.BROKER_NOT_AVAILABLE);
    let connection = this.connections.get(nodeId);
    if (connection && (connection.host !== registration.host || connection.port !== registration.port)) {
      connection.close();
      connection = undefined;
    }
    if (!connection) {
      connection = new Connection({ host: registration.host, port: registration.port, clientId: `broker-${this.broker.nodeId}-txn-markers`, requestTimeoutMs: REQUEST_TIMEOUT_MS, ...this.connectionOptions });
      this.connections.set(nodeId, connection);
    }
    const byTopic = new Map<string, number[]>();
    for (const t of targets) {
      let list = byTopic.get(t.topic);
      if (!list) byTopic.set(t.topic, (list = []));
      list.push(t.partition);
    }
    try {
      const response = await connection.request(ApiKey.WriteTxnMarkers, {
        markers: [
          {
            producerId: request.producerId,
            producerEpoch: request.producerEpoch,
            transactionResult: request.commit,
            coordinatorEpoch: request.coordinatorEpoch,
            topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          },
        ],
      });
      const codes = new Map<string, number>();
      for (const m of response.markers) for (const t of m.topics) for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
      return targets.map((t) => codes.get(`${t.topic}\u0000${t.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
    } catch (err) {
      this.broker.logger.debug(`WriteTxnMarkers to broker ${nodeId}: ${(err as Error).message}`);
      // Reconnect next time (the broker may have restarted at the same address).
      connection.close();
      this.connections.delete(nodeId);
      return targets.map(() => ErrorCode.NETWORK_EXCEPTION);
    }
  }

  /** One marker written here as the partition's leader, as a WriteTxnMarkers handler answers for one partition. */
  async tryWrite(request: MarkerRequest, target: MarkerTarget): Promise<number> {
    if (!this.broker.topics.get(target.topic)?.partitions[target.partition]) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const { partition, errorCode } = this.broker.replicaManager.lookup(target.topic, target.partition);
    if (!partition) return errorCode;
    const batch = buildControlBatch(request.commit ? 'commit' : 'abort', {
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      coordinatorEpoch: request.coordinatorEpoch,
    });
    const outcome = await this.broker.replicaManager.appendRecords(partition, batch, { acks: -1, timeoutMs: REQUEST_TIMEOUT_MS, origin: 'coordinator' });
    // Kafka: once the marker is in __consumer_offsets, the group coordinator applies or drops the producer's offsets.
    if (outcome.errorCode === ErrorCode.NONE && target.topic === OFFSETS_TOPIC) this.onOffsetsMarker?.(target.partition, request.producerId, request.producerEpoch, request.commit);
    return outcome.errorCode;
  }
}
