/** CreateTopics 2–7: validateOnly, configs, explicit replica assignments; the described configs from v5. */
import { ApiKey, ErrorCode, type CreateTopicsResponseCreatableTopicResult } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { ZERO_UUID } from '../metadata/metadata-store.js';
import { describeTopicConfigEntries } from './config-describer.js';
import { canCluster, canTopic, Op } from '../security/checks.js';
import { MutationQuota } from '../quotas/client-quotas.js';

export function createTopicsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.CreateTopics> {
  return {
    apiKey: ApiKey.CreateTopics,
    minVersion: 2,
    maxVersion: 7,
    async handle(request, { header, connection }) {
      const mutations = new MutationQuota(broker.quotas, connection.principal.name, header.clientId ?? '', header.apiVersion >= 6);
      // Kafka: Create on the cluster, or on each topic.
      const clusterCreate = canCluster(broker, connection, Op.CREATE);
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const topics: CreateTopicsResponseCreatableTopicResult[] = [];
      // One at a time, in request order: later topics see the earlier ones (name collisions).
      for (const t of request.topics) {
        const failed = (errorCode: number, errorMessage: string | null): CreateTopicsResponseCreatableTopicResult => ({
          name: t.name,
          topicId: ZERO_UUID,
          errorCode,
          errorMessage,
          topicConfigErrorCode: ErrorCode.NONE,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        });
        if ((counts.get(t.name) ?? 0) > 1) {
          topics.push(failed(ErrorCode.INVALID_REQUEST, `Create topics request contains multiple entries for the topic ${t.name}.`));
          continue;
        }
        if (!clusterCreate && !canTopic(broker, connection, Op.CREATE, t.name)) {
          topics.push(failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
          continue;
        }
        if (mutations.exceeded()) {
          topics.push(failed(ErrorCode.THROTTLING_QUOTA_EXCEEDED, 'The controller mutation quota is exceeded.'));
          continue;
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        try {
          const created = await broker.topics.create({
            name: t.name,
            numPartitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            assignments: t.assignments,
            configs,
            validateOnly: request.validateOnly ?? false,
          });
          if (!request.validateOnly) mutations.record(created.partitions.length);
          topics.push({
            name: t.name,
            topicId: request.validateOnly ? ZERO_UUID : created.topicId,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            topicConfigErrorCode: ErrorCode.NONE,
            numPartitions: created.partitions.length,
            replicationFactor: created.partitions[0]?.replicas.length ?? 1,
            configs: describeTopicConfigEntries(broker, created.configs, null, false).map((e) => ({
              name: e.name,
              value: e.value,
              readOnly: e.readOnly,
              configSource: e.configSource ?? 5,
              isSensitive: e.isSensitive,
            })),
          });
        } catch (err) {
          const { code, message } = errorOf(err, broker.logger, `creating topic ${t.name}`);
          topics.push(failed(code, message));
        }
      }
      return { throttleTimeMs: mutations.throttleTimeMs, topics };
    },
  };
}
