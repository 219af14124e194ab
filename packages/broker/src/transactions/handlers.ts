/**
 * The transaction APIs, as dispatcher handlers over the TransactionCoordinator (as groups/handlers.ts
 * does for groups): AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, WriteTxnMarkers,
 * DescribeTransactions, ListTransactions; and TxnOffsetCommit, which the group's coordinator answers. Versions before PRODUCER_FENCED existed get
 * INVALID_PRODUCER_EPOCH instead, as Kafka answers them.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler, Dispatcher } from '../dispatch/dispatcher.js';
import type { TransactionCoordinator } from './transaction-coordinator.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import { canCluster, canGroup, canTopic, canTransactionalId, Op, type Authorizing } from '../security/checks.js';

const allowAll: Authorizing = { authorizer: { enabled: false, authorize: () => true, authorizeAny: () => true } };

/** PRODUCER_FENCED for clients that know it, INVALID_PRODUCER_EPOCH for older request versions. */
export function fencedFor(code: number, version: number, firstFencedVersion: number): number {
  return code === ErrorCode.PRODUCER_FENCED && version < firstFencedVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

export function registerTransactionHandlers(dispatcher: Dispatcher, broker: BrokerContext, coordinator: TransactionCoordinator, groups: GroupCoordinator): void {
  dispatcher.register(addPartitionsToTxnHandler(coordinator, broker));
  dispatcher.register(addOffsetsToTxnHandler(coordinator, broker));
  dispatcher.register(endTxnHandler(coordinator, broker));
  dispatcher.register(txnOffsetCommitHandler(groups, broker));
  dispatcher.register(writeTxnMarkersHandler(coordinator, broker));
  dispatcher.register(describeTransactionsHandler(coordinator, broker));
  dispatcher.register(listTransactionsHandler(coordinator, broker));
}

export function addPartitionsToTxnHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.AddPartitionsToTxn> {
  return {
    apiKey: ApiKey.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, { header, connection }) {
      const version = header.apiVersion;
      const one = async (t: { transactionalId: string; producerId: bigint; producerEpoch: number; verifyOnly: boolean; topics: { name: string; partitions: number[] }[] }) => {
        // Kafka: Write on the transactional id and on every topic; when any is refused nothing is added.
        const txnDenied = !canTransactionalId(broker, connection, Op.WRITE, t.transactionalId);
        const deniedTopics = new Set(t.topics.filter((topic) => !canTopic(broker, connection, Op.WRITE, topic.name)).map((topic) => topic.name));
        if (txnDenied || deniedTopics.size > 0) {
          return t.topics.map((topic) => ({
            name: topic.name,
            resultsByPartition: topic.partitions.map((partitionIndex) => ({
              partitionIndex,
              partitionErrorCode: txnDenied ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : deniedTopics.has(topic.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED,
            })),
          }));
        }
        const targets = t.topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
        const codes = await coordinator.addPartitions(t.transactionalId, t.producerId, t.producerEpoch, targets, t.verifyOnly);
        let i = 0;
        return t.topics.map((topic) => ({
          name: topic.name,
          resultsByPartition: topic.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: fencedFor(codes[i++], version, 2) })),
        }));
      };
      if (version >= 4) {
        const results = await Promise.all(
          (request.transactions ?? []).map(async (t) => ({ transactionalId: t.transactionalId, topicResults: await one({ ...t, verifyOnly: t.verifyOnly ?? false }) })),
        );
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: results, resultsByTopicV3AndBelow: [] };
      }
      const topicResults = await one({
        transactionalId: request.v3AndBelowTransactionalId ?? '',
        producerId: request.v3AndBelowProducerId ?? -1n,
        producerEpoch: request.v3AndBelowProducerEpoch ?? -1,
        verifyOnly: false,
        topics: request.v3AndBelowTopics ?? [],
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: [], resultsByTopicV3AndBelow: topicResults };
    },
  };
}

export function addOffsetsToTxnHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.AddOffsetsToTxn> {
  return {
    apiKey: ApiKey.AddOffsetsToTxn,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, { header, connection }) {
      // Kafka: Write on the transactional id, Read on the group.
      if (!canTransactionalId(broker, connection, Op.WRITE, request.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      if (!canGroup(broker, connection, Op.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      const code = await coordinator.addOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId);
      return { throttleTimeMs: 0, errorCode: fencedFor(code, header.apiVersion, 2) };
    },
  };
}

export function endTxnHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.EndTxn> {
  return {
    apiKey: ApiKey.EndTxn,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, { header, connection }) {
      if (!canTransactionalId(broker, connection, Op.WRITE, request.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
      const code = await coordinator.endTxn(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
      const txn = coordinator.get(request.transactionalId);
      return { throttleTimeMs: 0, errorCode: fencedFor(code, header.apiVersion, 2), producerId: txn?.producerId ?? -1n, producerEpoch: txn?.producerEpoch ?? -1 };
    },
  };
}

/** TxnOffsetCommit, sent to the group's coordinator: the offsets become the producer's transactional records in __consumer_offsets. */
export function txnOffsetCommitHandler(groups: GroupCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.TxnOffsetCommit> {
  return {
    apiKey: ApiKey.TxnOffsetCommit,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, { header, connection }) {
      // Kafka: Write on the transactional id, Read on the group and on each topic.
      const refusal = !canTransactionalId(broker, connection, Op.WRITE, request.transactionalId)
        ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        : !canGroup(broker, connection, Op.READ, request.groupId)
          ? ErrorCode.GROUP_AUTHORIZATION_FAILED
          : request.topics.some((t) => !canTopic(broker, connection, Op.READ, t.name))
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : ErrorCode.NONE;
      if (refusal !== ErrorCode.NONE) {
        return {
          throttleTimeMs: 0,
          topics: request.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: refusal === ErrorCode.TOPIC_AUTHORIZATION_FAILED && canTopic(broker, connection, Op.READ, t.name) ? ErrorCode.OPERATION_NOT_ATTEMPTED : refusal })),
          })),
        };
      }
      const partitions = request.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
          commitTimestamp: -1,
        })),
      );
      const codes = await groups.txnCommitOffsets(
        {
          groupId: request.groupId,
          generationId: request.generationId ?? -1,
          memberId: request.memberId ?? '',
          groupInstanceId: request.groupInstanceId ?? null,
          retentionTimeMs: -1,
          partitions,
        },
        request.producerId,
        request.producerEpoch,
      );
      let i = 0;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: fencedFor(codes[i++], header.apiVersion, 2) })),
        })),
      };
    },
  };
}

/** WriteTxnMarkers: what a coordinator elsewhere sends a partition leader; written here once each. */
export function writeTxnMarkersHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.WriteTxnMarkers> {
  return {
    apiKey: ApiKey.WriteTxnMarkers,
    minVersion: 0,
    maxVersion: 1,
    async handle(request, { connection }) {
      // Kafka: ClusterAction on the cluster (brokers only).
      if (!canCluster(broker, connection, Op.CLUSTER_ACTION)) {
        return {
          markers: request.markers.map((m) => ({
            producerId: m.producerId,
            topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED })) })),
          })),
        };
      }
      const markers = await Promise.all(
        request.markers.map(async (m) => ({
          producerId: m.producerId,
          topics: await Promise.all(
            m.topics.map(async (t) => ({
              name: t.name,
              partitions: await Promise.all(
                t.partitionIndexes.map(async (partitionIndex) => ({
                  partitionIndex,
                  errorCode: await coordinator.markers.tryWrite(
                    { producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, commit: m.transactionResult },
                    { topic: t.name, partition: partitionIndex },
                  ),
                })),
              ),
            })),
          ),
        })),
      );
      return { markers };
    },
  };
}

export function describeTransactionsHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.DescribeTransactions> {
  return {
    apiKey: ApiKey.DescribeTransactions,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        transactionStates: request.transactionalIds.map((transactionalId) => {
          if (!canTransactionalId(broker, connection, Op.DESCRIBE, transactionalId)) {
            return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
          }
          const notHere = coordinator.coordinatorError(transactionalId);
          if (notHere !== ErrorCode.NONE) {
            return { errorCode: notHere, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
          }
          const txn = coordinator.get(transactionalId);
          if (!txn || txn.state === 'Dead') {
            return { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
          }
          const byTopic = new Map<string, number[]>();
          for (const p of txn.partitions.values()) {
            const list = byTopic.get(p.topic) ?? [];
            list.push(p.partition);
            byTopic.set(p.topic, list);
          }
          return {
            errorCode: ErrorCode.NONE,
            transactionalId,
            transactionState: txn.state,
            transactionTimeoutMs: txn.timeoutMs,
            transactionStartTimeMs: BigInt(txn.startTimestampMs),
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
          };
        }),
      };
    },
  };
}

const STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'];

export function listTransactionsHandler(coordinator: TransactionCoordinator, broker: Authorizing = allowAll): ApiHandler<typeof ApiKey.ListTransactions> {
  return {
    apiKey: ApiKey.ListTransactions,
    minVersion: 0,
    maxVersion: 1,
    async handle(request, { connection }) {
      const states = request.stateFilters;
      const ids = request.producerIdFilters;
      const duration = request.durationFilter ?? -1n;
      const now = Date.now();
      if (coordinator.loading) return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters: [], transactionStates: [] };
      const listed = coordinator.all().filter(
        (t) =>
          t.state !== 'Dead' &&
          // Kafka: only the transactional ids the principal may Describe.
          canTransactionalId(broker, connection, Op.DESCRIBE, t.transactionalId) &&
          (states.length === 0 || states.includes(t.state)) &&
          (ids.length === 0 || ids.includes(t.producerId)) &&
          // KIP-994: only transactions running longer than the duration.
          (duration < 0n || (t.state === 'Ongoing' && BigInt(now - t.startTimestampMs) >= duration)),
      );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        unknownStateFilters: states.filter((s) => !STATES.includes(s)),
        transactionStates: listed.map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state })),
      };
    },
  };
}
