/**
 * Produce 3–11 (record batch v2 only, as Kafka 4). Partitions are appended concurrently through
 * the ReplicaManager, which owns leadership, the high watermark and acks=all waiting (a
 * DelayedProduce bounded by the request's timeout). acks=0 gets no response; its errors are only
 * logged.
 */
import { ApiKey, ErrorCode, type ProduceResponseTopicProduceResponse } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { LeaderHints } from './leader-hints.js';
import { canTopic, canTransactionalId, Op } from '../security/checks.js';
import { isThrottleable } from '../network/connection.js';
import { connectionListener } from '../security/session.js';

export function produceHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.Produce> {
  return {
    apiKey: ApiKey.Produce,
    minVersion: 3,
    maxVersion: 11,
    // Every append below has settled (written or refused) before the response exists, and the
    // log keeps no reference to appended bytes, so the request frame can be reused after it.
    releasesRequestFrame: true,
    async handle(request, { header, connection }) {
      const acks = request.acks;
      // Kafka: a transactional produce needs Write on its transactional id, every topic Write.
      const txnDenied = request.transactionalId !== null && request.transactionalId !== undefined && !canTransactionalId(broker, connection, Op.WRITE, request.transactionalId);
      const validAcks = acks === 0 || acks === 1 || acks === -1;
      const hints = new LeaderHints(broker, connectionListener(connection));
      const responses: ProduceResponseTopicProduceResponse[] = await Promise.all(
        request.topicData.map(async (topicData) => {
          const denied = txnDenied ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : canTopic(broker, connection, Op.WRITE, topicData.name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          // A denied principal learns nothing of the topic (not even whether it exists).
          const topic = denied === ErrorCode.NONE ? broker.topics.get(topicData.name) : undefined;
          // Meters of topics that exist only: unknown names must not grow the metrics page.
          const meters = topic && broker.metrics !== null ? broker.metrics.topic(topic.name) : null;
          return {
            name: topicData.name,
            partitionResponses: await Promise.all(
              topicData.partitionData.map(async (p) => {
                const result = { index: p.index, errorCode: ErrorCode.NONE, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null as string | null };
                if (denied !== ErrorCode.NONE) return { ...result, errorCode: denied };
                if (!validAcks) return { ...result, errorCode: ErrorCode.INVALID_REQUIRED_ACKS };
                const { partition, errorCode } = topic?.partitions[p.index] ? broker.replicaManager.lookup(topicData.name, p.index) : { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
                const withLeader = <R extends { errorCode: number }>(r: R): R & { currentLeader?: { leaderId: number; leaderEpoch: number } } => {
                  const leader = LeaderHints.applies(r.errorCode) ? hints.leaderOf(topicData.name, p.index) : undefined;
                  return leader ? { ...r, currentLeader: leader } : r;
                };
                if (!topic || !partition) return withLeader({ ...result, errorCode });
                // Internal topics (__consumer_offsets, …) are written by the broker's own coordinators only.
                if (topic.internal) return { ...result, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `Cannot append to internal topic ${topic.name}` };
                if (!p.records || p.records.length === 0) return { ...result, errorCode: ErrorCode.INVALID_RECORD, errorMessage: 'The produce request carries no records.' };
                if (meters !== null) meters.totalProduceRequests++;
                const appended = await broker.replicaManager.appendRecords(partition, p.records, { acks, timeoutMs: request.timeoutMs, origin: 'client', transactionalId: request.transactionalId ?? null });
                if (appended.errorCode !== ErrorCode.NONE) {
                  if (meters !== null) meters.failedProduceRequests++;
                  return withLeader({ ...result, errorCode: appended.errorCode, errorMessage: appended.errorMessage });
                }
                if (meters !== null) {
                  meters.messagesIn += Number(appended.lastOffset - appended.baseOffset) + 1;
                  meters.bytesIn += p.records.length;
                }
                return { ...result, baseOffset: appended.baseOffset, logAppendTimeMs: appended.logAppendTimeMs, logStartOffset: appended.logStartOffset };
              }),
            ),
          };
        }),
      );
      // producer_byte_rate: the record bytes of the request count against the producer's quota.
      let throttleTimeMs = 0;
      if (broker.quotas.active) {
        let bytes = 0;
        for (const t of request.topicData) for (const p of t.partitionData) bytes += p.records?.length ?? 0;
        throttleTimeMs = broker.quotas.record('producer_byte_rate', connection.principal.name, header.clientId ?? '', bytes);
      }
      if (acks === 0) {
        // No response to carry the throttle: the connection is muted all the same (as Kafka does).
        if (throttleTimeMs > 0 && isThrottleable(connection)) connection.throttle(throttleTimeMs);
        return null;
      }
      return { responses, throttleTimeMs, nodeEndpoints: hints.nodeEndpoints() };
    },
  };
}
