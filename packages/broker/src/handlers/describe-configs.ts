/** DescribeConfigs 1–4: topics and this broker (by its id, or "" for the cluster defaults). */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { describeBrokerConfigEntries, describeTopicConfigEntries } from './config-describer.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export function describeConfigsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeConfigs> {
  return {
    apiKey: ApiKey.DescribeConfigs,
    minVersion: 1,
    maxVersion: 4,
    handle(request, { connection }) {
      const includeSynonyms = request.includeSynonyms ?? false;
      const includeDocs = request.includeDocumentation ?? false;
      const results = request.resources.map((r) => {
        const base = { errorCode: ErrorCode.NONE, errorMessage: null as string | null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] as ReturnType<typeof describeTopicConfigEntries> };
        // Kafka: DescribeConfigs on the topic, or on the cluster for broker resources.
        if (r.resourceType === ResourceType.TOPIC && !canTopic(broker, connection, Op.DESCRIBE_CONFIGS, r.resourceName)) {
          return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Not authorized to access the topic.' };
        }
        if ((r.resourceType === ResourceType.BROKER || r.resourceType === ResourceType.BROKER_LOGGER) && !canCluster(broker, connection, Op.DESCRIBE_CONFIGS)) {
          return { ...base, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
        }
        if (r.resourceType === ResourceType.TOPIC) {
          const topic = broker.topics.get(r.resourceName);
          if (!topic) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${r.resourceName}' does not exist.` };
          return { ...base, configs: describeTopicConfigEntries(broker, topic.configs, r.configurationKeys, includeSynonyms, includeDocs) };
        }
        if (r.resourceType === ResourceType.BROKER) {
          // Kafka's checks and messages (ConfigHelper.resourceNameToBrokerId).
          if (r.resourceName !== '' && !/^[+-]?[0-9]+$/.test(r.resourceName)) {
            return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Broker id must be an integer, but it is: ${r.resourceName}` };
          }
          if (r.resourceName !== '' && Number(r.resourceName) !== broker.nodeId) {
            return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${r.resourceName}` };
          }
          return { ...base, configs: describeBrokerConfigEntries(broker, r.resourceName, r.configurationKeys, includeSynonyms, includeDocs) };
        }
        if (r.resourceType === ResourceType.BROKER_LOGGER) return { ...base };
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}.` };
      });
      return { throttleTimeMs: 0, results };
    },
  };
}
