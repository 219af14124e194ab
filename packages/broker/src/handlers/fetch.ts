/**
 * Fetch 4–17: resolves the requested partitions (names or ids, leadership, leader epochs; from v11 a
 * consumer may read a follower, KIP-392) and hands
 * them to ReplicaManager.fetchMessages, which reads and long-polls (a DelayedFetch). No fetch
 * sessions: every response carries session id 0, which tells the client to keep sending full
 * requests.
 */
import { ApiKey, ErrorCode, type FetchRequest, type FetchResponsePartitionData, type FetchResponseFetchableTopicResponse } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { ZERO_UUID } from '../metadata/metadata-store.js';
import type { FetchPartitionResult, FetchTarget } from '../replica/replica-manager.js';
import { canCluster, canTopic, Op } from '../security/checks.js';
import type { BrokerMetrics, TopicMeters } from '../metrics/broker-metrics.js';

/** Kafka's response limit before v3 introduced max_bytes. */
const DEFAULT_MAX_BYTES = 0x7fffffff;

interface Target extends FetchTarget {
  topicIndex: number;
  name: string | null;
  topicId: string;
  index: number;
  /** The topic exists (its meters may be counted). */
  known: boolean;
}

export function fetchHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.Fetch> {
  return {
    apiKey: ApiKey.Fetch,
    minVersion: 4,
    maxVersion: 17,
    async handle(request, { header, connection }) {
      const version = header.apiVersion;
      if ((request.sessionId ?? 0) !== 0) {
        // We never hand out sessions, so a non-zero id is one we do not know.
        return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [], nodeEndpoints: [] };
      }
      // A follower broker names itself: in the body up to v14, in ReplicaState from v15 (KIP-903).
      const replicaId = version >= 15 ? (request.replicaState?.replicaId ?? -1) : (request.replicaId ?? -1);
      // Kafka: a follower's fetch needs ClusterAction on the cluster, a consumer's Read on each topic.
      const fromFollower = replicaId >= 0;
      const followerAllowed = fromFollower && broker.authorizer.enabled ? canCluster(broker, connection, Op.CLUSTER_ACTION) : true;
      const allowed = (topic: string): boolean => (fromFollower ? followerAllowed : canTopic(broker, connection, Op.READ, topic));
      // KIP-392: from v11 a consumer sends client metadata (its rack) and may read from a follower.
      const withClientMetadata = !fromFollower && version >= 11;
      const targets = resolveTargets(broker, request, version >= 13, allowed, withClientMetadata);
      const results = await broker.replicaManager.fetchMessages({
        targets,
        maxBytes: Math.min(request.maxBytes ?? DEFAULT_MAX_BYTES, broker.config.int('fetch.max.bytes')),
        minBytes: Math.max(0, request.minBytes),
        maxWaitMs: request.maxWaitMs,
        buffers: broker.buffers,
        replicaId,
        isolationLevel: request.isolationLevel ?? 0,
        clientRack: withClientMetadata ? (request.rackId ?? '') : null,
      });
      if (broker.metrics !== null) countFetch(broker.metrics, targets, results, replicaId >= 0);
      // Pooled read buffers in the response go back to the pool once the connection has written them.
      const partitions: FetchResponsePartitionData[] = results.map((r, i) => ({
        partitionIndex: targets[i].index,
        errorCode: r.errorCode,
        highWatermark: r.highWatermark,
        lastStableOffset: r.lastStableOffset,
        logStartOffset: r.logStartOffset,
        abortedTransactions: r.abortedTransactions,
        preferredReadReplica: r.preferredReadReplica ?? -1,
        ...(r.divergingEpoch ? { divergingEpoch: r.divergingEpoch } : {}),
        records: r.records,
      }));
      // consumer_byte_rate: the bytes handed out count against the consumer's quota (followers are not throttled).
      let throttleTimeMs = 0;
      if (!fromFollower && broker.quotas.active) {
        let bytes = 0;
        for (const p of partitions) bytes += p.records?.length ?? 0;
        throttleTimeMs = broker.quotas.record('consumer_byte_rate', connection.principal.name, header.clientId ?? '', bytes);
      }
      return { throttleTimeMs, errorCode: ErrorCode.NONE, sessionId: 0, responses: group(targets, partitions, version >= 13), nodeEndpoints: [] };
    },
  };
}

/** BrokerTopicMetrics of a fetch: per partition of a known topic, one meter lookup per topic run. */
function countFetch(metrics: BrokerMetrics, targets: Target[], results: readonly FetchPartitionResult[], replica: boolean): void {
  let meters: TopicMeters | null = null;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (!t.known || t.name === null) continue;
    if (meters === null || meters.topic !== t.name) meters = metrics.topic(t.name!);
    const r = results[i];
    meters.totalFetchRequests++;
    if (r.errorCode !== ErrorCode.NONE) meters.failedFetchRequests++;
    if (replica) meters.replicationBytesOut += r.records.length;
    else meters.bytesOut += r.records.length;
  }
}

function resolveTargets(broker: BrokerContext, request: FetchRequest, byId: boolean, allowed: (topic: string) => boolean, allowFollower: boolean): Target[] {
  const targets: Target[] = [];
  request.topics.forEach((t, topicIndex) => {
    const topic = byId ? broker.topics.byId(t.topicId ?? ZERO_UUID) : broker.topics.get(t.topic ?? '');
    for (const p of t.partitions) {
      const unknownTopic = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const name = topic?.name ?? (byId ? null : (t.topic ?? ''));
      const { partition, errorCode } = name !== null && !allowed(name)
        ? { partition: null, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }
        : topic?.partitions[p.partition]
        ? broker.replicaManager.lookup(topic.name, p.partition, p.currentLeaderEpoch, { allowFollower })
        : { partition: null, errorCode: topic ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : unknownTopic };
      targets.push({
        topicIndex,
        name: topic?.name ?? t.topic ?? null,
        topicId: topic?.topicId ?? t.topicId ?? ZERO_UUID,
        index: p.partition,
        known: topic !== undefined,
        partition,
        errorCode,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
      });
    }
  });
  return targets;
}

function group(targets: Target[], partitions: FetchResponsePartitionData[], byId: boolean): FetchResponseFetchableTopicResponse[] {
  const topics: FetchResponseFetchableTopicResponse[] = [];
  let current: FetchResponseFetchableTopicResponse | null = null;
  let currentIndex = -1;
  targets.forEach((target, i) => {
    if (!current || currentIndex !== target.topicIndex) {
      current = byId ? { topicId: target.topicId, partitions: [] } : { topic: target.name ?? '', partitions: [] };
      currentIndex = target.topicIndex;
      topics.push(current);
    }
    current.partitions.push(partitions[i]);
  });
  return topics;
}
