/** DeleteTopics 1–6: by name, or (v6) by topic id. */
import { ApiKey, ErrorCode, type DeleteTopicsResponseDeletableTopicResult } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { ZERO_UUID } from '../metadata/metadata-store.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';
import { MutationQuota } from '../quotas/client-quotas.js';

export function deleteTopicsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DeleteTopics> {
  return {
    apiKey: ApiKey.DeleteTopics,
    minVersion: 1,
    maxVersion: 6,
    async handle(request, { header, connection }) {
      const mutations = new MutationQuota(broker.quotas, connection.principal.name, header.clientId ?? '', header.apiVersion >= 5);
      // v6 names topics (or ids) in `topics`; earlier versions list names in `topicNames`.
      const wanted = header.apiVersion >= 6 ? (request.topics ?? []) : (request.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
      const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
      for (const w of wanted) {
        const byId = w.topicId !== ZERO_UUID && (w.name === null || w.name === undefined || w.name === '');
        const topic = byId ? broker.topics.byId(w.topicId) : broker.topics.get(w.name ?? '');
        // Kafka: Delete on the topic; a topic the principal may not even Describe stays unnamed.
        const checkedName = topic?.name ?? (byId ? null : (w.name ?? ''));
        if (checkedName !== null && !canTopic(broker, connection, Op.DELETE, checkedName)) {
          responses.push({
            name: byId ? null : checkedName,
            topicId: w.topicId,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: 'Not authorized to access the topic.',
          });
          continue;
        }
        if (!topic) {
          responses.push({
            name: byId ? null : (w.name ?? null),
            topicId: w.topicId,
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: byId ? `Topic id ${w.topicId} does not exist.` : `Topic '${w.name}' does not exist.`,
          });
          continue;
        }
        if (mutations.exceeded()) {
          responses.push({ name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: 'The controller mutation quota is exceeded.' });
          continue;
        }
        try {
          await broker.topics.delete(topic.name);
          mutations.record(topic.partitions.length);
          responses.push({ name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null });
        } catch (err) {
          const { code, message } = errorOf(err, broker.logger, `deleting topic ${topic.name}`);
          responses.push({ name: topic.name, topicId: topic.topicId, errorCode: code, errorMessage: message });
        }
      }
      return { throttleTimeMs: mutations.throttleTimeMs, responses };
    },
  };
}
