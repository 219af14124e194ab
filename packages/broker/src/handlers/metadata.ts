/**
 * Metadata 0–12. Unknown topics are auto-created (when the broker and the request allow it) before
 * answering, so on one broker the client gets a usable topic in one round trip (a cluster answers
 * LEADER_NOT_AVAILABLE for it first, as Kafka does). Leaders, ISRs, the brokers and
 * the controller are what the metadata store says (one broker: itself throughout).
 */
import { ApiKey, ErrorCode, type MetadataResponseTopic } from '@sluice/protocol';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  CLUSTER_AUTHORIZED_OPERATIONS,
  TOPIC_AUTHORIZED_OPERATIONS,
  errorOf,
  type BrokerContext,
} from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { partitionState, ZERO_UUID, type TopicMetadata } from '../metadata/metadata-store.js';
import { topicNameProblem } from '../metadata/topic-name.js';
import { ResourceType } from '../security/acls.js';
import type { Requester } from '../security/acl-authorizer.js';
import { authorizedOperations, canCluster, canTopic, CLUSTER_OPERATIONS, Op, TOPIC_OPERATIONS } from '../security/checks.js';
import { connectionListener } from '../security/session.js';

export function describeTopic(broker: BrokerContext, topic: TopicMetadata, includeOps: boolean, who?: Requester): MetadataResponseTopic {
  const live = new Set(broker.metadata.brokers().map((b) => b.nodeId));
  live.add(broker.nodeId);
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      // Kafka: a partition without a live leader is reported with LEADER_NOT_AVAILABLE (clients retry).
      errorCode: p.leader < 0 || !live.has(p.leader) ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: partitionState(p).isr,
      offlineReplicas: p.replicas.filter((id) => !live.has(id)),
    })),
    topicAuthorizedOperations: !includeOps
      ? AUTHORIZED_OPERATIONS_OMITTED
      : who && broker.authorizer.enabled
        ? authorizedOperations(broker, who, ResourceType.TOPIC, topic.name, TOPIC_OPERATIONS)
        : TOPIC_AUTHORIZED_OPERATIONS,
  };
}

/**
 * The registered brokers (this one with its current advertised endpoint, registered yet or not),
 * each at its endpoint for `listenerName` (the listener the client connected to, as Kafka answers);
 * a broker without that listener is left out, as Kafka does.
 */
export function clusterBrokers(broker: BrokerContext, listenerName?: string): { nodeId: number; host: string; port: number; rack: string | null }[] {
  const self = { nodeId: broker.nodeId, ...broker.advertisedEndpoint(listenerName), rack: broker.config.string('broker.rack') ?? null };
  const others = broker.metadata.brokers().filter((b) => b.nodeId !== broker.nodeId);
  const out = [self];
  for (const b of others) {
    const endpoint = listenerName && b.endpoints ? b.endpoints.find((e) => e.name === listenerName) : { host: b.host, port: b.port };
    if (endpoint) out.push({ nodeId: b.nodeId, host: endpoint.host, port: endpoint.port, rack: b.rack });
  }
  return out.sort((a, b) => a.nodeId - b.nodeId);
}

/** The controller as the store says; this broker while the store names none. */
export function controllerId(broker: BrokerContext): number {
  const id = broker.metadata.controllerId();
  return id >= 0 ? id : broker.nodeId;
}

function errorTopic(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

export function metadataHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.Metadata> {
  return {
    apiKey: ApiKey.Metadata,
    minVersion: 0,
    maxVersion: 12,
    async handle(request, { header, connection }) {
      const version = header.apiVersion;
      // Kafka: only topics the principal may Describe are listed; a named one it may not is TOPIC_AUTHORIZATION_FAILED.
      const describable = (name: string): boolean => canTopic(broker, connection, Op.DESCRIBE, name);
      const includeOps = request.includeTopicAuthorizedOperations ?? false;
      // v0: an empty list means "all topics"; v1+: null does.
      const all = request.topics === null || (version === 0 && request.topics.length === 0);
      const allowAutoCreate = (request.allowAutoTopicCreation ?? true) && broker.config.bool('auto.create.topics.enable');
      let topics: MetadataResponseTopic[];
      if (all) {
        topics = broker.topics
          .all()
          .filter((t) => describable(t.name))
          .map((t) => describeTopic(broker, t, includeOps, connection));
      } else {
        topics = await Promise.all(
          request.topics!.map(async (requested): Promise<MetadataResponseTopic> => {
            if (requested.name === null || requested.name === undefined) {
              const byId = requested.topicId && requested.topicId !== ZERO_UUID ? broker.topics.byId(requested.topicId) : undefined;
              if (byId && !describable(byId.name)) return errorTopic(null, byId.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
              return byId ? describeTopic(broker, byId, includeOps, connection) : errorTopic(null, requested.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID);
            }
            const name = requested.name;
            if (!describable(name)) return errorTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            const existing = broker.topics.get(name);
            if (existing) return describeTopic(broker, existing, includeOps, connection);
            if (topicNameProblem(name)) return errorTopic(name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
            if (!allowAutoCreate) return errorTopic(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            // Auto-creation needs Create on the cluster or on the topic.
            if (!canCluster(broker, connection, Op.CREATE) && !canTopic(broker, connection, Op.CREATE, name)) return errorTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            try {
              const created = await broker.topics.autoCreate(name);
              // In a cluster the other brokers (its leaders among them) learn of the topic through
              // etcd a moment later: answer as Kafka does for a topic it just auto-created,
              // LEADER_NOT_AVAILABLE, so the client asks again instead of going to a leader that
              // may not know the topic yet. One broker knows it at once: usable in one round trip.
              if (broker.metadata.clustered) return errorTopic(name, created.topicId, ErrorCode.LEADER_NOT_AVAILABLE);
              return describeTopic(broker, created, includeOps, connection);
            } catch (err) {
              return errorTopic(name, ZERO_UUID, errorOf(err, broker.logger, `auto-creating topic ${name}`).code);
            }
          }),
        );
      }
      return {
        throttleTimeMs: 0,
        brokers: clusterBrokers(broker, connectionListener(connection)),
        clusterId: broker.clusterId,
        controllerId: controllerId(broker),
        topics,
        clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
          ? AUTHORIZED_OPERATIONS_OMITTED
          : broker.authorizer.enabled
            ? authorizedOperations(broker, connection, ResourceType.CLUSTER, 'kafka-cluster', CLUSTER_OPERATIONS)
            : CLUSTER_AUTHORIZED_OPERATIONS,
      };
    },
  };
}
