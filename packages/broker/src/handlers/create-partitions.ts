/** CreatePartitions 0–3: partition counts only grow; optional explicit assignments. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, canTopic, canTransactionalId, Op } from '../security/checks.js';
import { MutationQuota } from '../quotas/client-quotas.js';

export function createPartitionsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.CreatePartitions> {
  return {
    apiKey: ApiKey.CreatePartitions,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, { header, connection }) {
      const mutations = new MutationQuota(broker.quotas, connection.principal.name, header.clientId ?? '', header.apiVersion >= 3);
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results = [];
      for (const t of request.topics) {
        if ((counts.get(t.name) ?? 0) > 1) {
          results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request.' });
          continue;
        }
        if (!canTopic(broker, connection, Op.ALTER, t.name)) {
          results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Not authorized to access the topic.' });
          continue;
        }
        if (mutations.exceeded()) {
          results.push({ name: t.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: 'The controller mutation quota is exceeded.' });
          continue;
        }
        const before = broker.topics.get(t.name)?.partitions.length ?? 0;
        try {
          await broker.topics.addPartitions(t.name, t.count, t.assignments, request.validateOnly);
          if (!request.validateOnly) mutations.record(t.count - before);
          results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
        } catch (err) {
          const { code, message } = errorOf(err, broker.logger, `adding partitions to ${t.name}`);
          results.push({ name: t.name, errorCode: code, errorMessage: message });
        }
      }
      return { throttleTimeMs: mutations.throttleTimeMs, results };
    },
  };
}
