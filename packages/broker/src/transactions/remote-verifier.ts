/**
 * KIP-890 verification across brokers (Kafka's AddPartitionsToTxnManager): before the first batch
 * of a transaction lands in a partition whose leader is not the producer's transaction
 * coordinator, the leader asks the coordinator with AddPartitionsToTxn v4 and verify_only whether
 * the partition is in the producer's ongoing transaction. A write the coordinator never heard of
 * (a hanging transaction in the making: the client's AddPartitionsToTxn was lost, or the
 * transaction was already aborted) is refused instead of leaving the partition's LSO stuck.
 *
 * Concurrent verifications of the same transaction and partition share one request. A coordinator
 * that cannot answer yet (moving, loading, unreachable) yields NOT_ENOUGH_REPLICAS, which
 * producers retry, as Kafka maps it.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Connection, type ConnectionOptions } from '@sluice/client';
import type { BrokerContext } from '../broker-context.js';
import { TRANSACTION_STATE_TOPIC } from './transaction-log.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** The first AddPartitionsToTxn version with batched, verify-only transactions. */
const VERIFY_VERSION = 4;

export interface TransactionalWrite {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  topic: string;
  partition: number;
}

export class RemoteTransactionVerifier {
  private readonly connections = new Map<number, Connection>();
  private readonly inFlight = new Map<string, Promise<number>>();
  private stopped = false;

  constructor(
    private readonly broker: BrokerContext,
    /** The `__transaction_state` partition of a transactional id. */
    private readonly partitionFor: (transactionalId: string) => number,
    private readonly connectionOptions: Pick<ConnectionOptions, 'tls' | 'sasl'> = {},
  ) {}

  stop(): void {
    this.stopped = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  /** The broker coordinating `transactionalId` as the metadata says, null while none leads its partition. */
  coordinatorOf(transactionalId: string): number | null {
    const leader = this.broker.metadata.topic(TRANSACTION_STATE_TOPIC)?.partitions[this.partitionFor(transactionalId)]?.leader;
    return leader === undefined || leader < 0 ? null : leader;
  }

  /** An error code for the write: NONE when the coordinator has the partition in the transaction. */
  verify(write: TransactionalWrite): Promise<number> {
    const key = `${write.transactionalId}\u0000${write.producerId}\u0000${write.producerEpoch}\u0000${write.topic}\u0000${write.partition}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(write).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(write: TransactionalWrite): Promise<number> {
    if (this.stopped) return ErrorCode.NOT_ENOUGH_REPLICAS;
    const nodeId = this.coordinatorOf(write.transactionalId);
    const registration = nodeId === null ? undefined : this.broker.metadata.brokers().find((b) => b.nodeId === nodeId);
    if (nodeId === null || !registration) return ErrorCode.NOT_ENOUGH_REPLICAS;
    let connection = this.connections.get(nodeId);
    if (connection && (connection.host !== registration.host || connection.port !== registration.port)) {
      connection.close();
      connection = undefined;
    }
    if (!connection) {
      connection = new Connection({ host: registration.host, port: registration.port, clientId: `broker-${this.broker.nodeId}-txn-verification`, requestTimeoutMs: REQUEST_TIMEOUT_MS, ...this.connectionOptions });
      this.connections.set(nodeId, connection);
    }
    let code: number;
    try {
      const response = await connection.request(
        ApiKey.AddPartitionsToTxn,
        {
          transactions: [
            {
              transactionalId: write.transactionalId,
              producerId: write.producerId,
              producerEpoch: write.producerEpoch,
              verifyOnly: true,
              topics: [{ name: write.topic, partitions: [write.partition] }],
            },
          ],
        },
        { version: VERIFY_VERSION },
      );
      code = response.errorCode ?? ErrorCode.NONE;
      if (code === ErrorCode.NONE) {
        const result = response.resultsByTransaction?.find((t) => t.transactionalId === write.transactionalId);
        const partition = result?.topicResults.find((t) => t.name === write.topic)?.resultsByPartition.find((p) => p.partitionIndex === write.partition);
        code = partition ? partition.partitionErrorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
      }
    } catch (err) {
      this.broker.logger.debug(`transaction verification with broker ${nodeId}: ${(err as Error).message}`);
      connection.close();
      this.connections.delete(nodeId);
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
    return verdictOf(code);
  }
}

/** Kafka's mapping of the coordinator's answer onto the produce response. */
function verdictOf(code: number): number {
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.NETWORK_EXCEPTION:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    case ErrorCode.INVALID_PRODUCER_EPOCH:
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    default:
      return ErrorCode.INVALID_TXN_STATE;
  }
}
