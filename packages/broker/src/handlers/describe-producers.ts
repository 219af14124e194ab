/**
 * DescribeProducers 0: the active producers of partitions this broker leads, from each log's
 * producer state (epoch, last sequence and timestamp) and transaction state (the first offset
 * of a producer's open transaction, -1 when none) — what kafka-transactions.sh
 * --describe-producers and --find-hanging read.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import { canCluster, canTopic, Op } from '../security/checks.js';

export function describeProducersHandler(broker: BrokerContext, transactions: () => TransactionCoordinator | null): ApiHandler<typeof ApiKey.DescribeProducers> {
  void transactions;
  return {
    apiKey: ApiKey.DescribeProducers,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, { connection }) {
      const topics = await Promise.all(
        request.topics.map(async (t) => ({
          name: t.name,
          partitions: await Promise.all(
            t.partitionIndexes.map(async (partitionIndex) => {
              const base = { partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: [] as ActiveProducer[] };
              // Kafka: Read on the topic.
              if (!canTopic(broker, connection, Op.READ, t.name)) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
              const { partition, errorCode } = broker.topics.get(t.name)?.partitions[partitionIndex]
                ? broker.replicaManager.lookup(t.name, partitionIndex)
                : { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
              if (!partition) return { ...base, errorCode };
              try {
                const txns = await partition.log.transactionState();
                const open = txns.openTransactions();
                const producers = new Map<bigint, ActiveProducer>();
                const state = partition.log.producerStateManager;
                for (const [producerId, entry] of state?.entries() ?? []) {
                  const last = entry.batches[entry.batches.length - 1];
                  producers.set(producerId, {
                    producerId,
                    producerEpoch: entry.epoch,
                    lastSequence: last ? last.lastSeq : -1,
                    lastTimestamp: BigInt(last ? last.timestamp : entry.lastUpdateMs),
                    coordinatorEpoch: -1,
                    currentTxnStartOffset: open.get(producerId) ?? -1n,
                  });
                }
                // A producer with an open transaction is active even if its idempotent state is not loaded.
                for (const [producerId, first] of open) {
                  if (!producers.has(producerId)) producers.set(producerId, { producerId, producerEpoch: -1, lastSequence: -1, lastTimestamp: -1n, coordinatorEpoch: -1, currentTxnStartOffset: first });
                }
                return { ...base, activeProducers: [...producers.values()] };
              } catch (err) {
                const { code, message } = errorOf(err, broker.logger, `DescribeProducers ${t.name}-${partitionIndex}`);
                return { ...base, errorCode: code, errorMessage: message };
              }
            }),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    },
  };
}

interface ActiveProducer {
  producerId: bigint;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: bigint;
  coordinatorEpoch: number;
  currentTxnStartOffset: bigint;
}
