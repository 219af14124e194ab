/**
 * AlterReplicaLogDirs 1–2 (KIP-113): move replicas of this broker to other log directories. Each
 * hosted replica is copied into a future replica in its new directory while it keeps serving, then
 * swapped in; a replica not hosted yet is created there later. Kafka: Alter on the cluster.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { resolve } from 'node:path';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, Op } from '../security/checks.js';

export function alterReplicaLogDirsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.AlterReplicaLogDirs> {
  return {
    apiKey: ApiKey.AlterReplicaLogDirs,
    minVersion: 1,
    maxVersion: 2,
    async handle(request, { connection }) {
      const allowed = canCluster(broker, connection, Op.ALTER);
      const results = new Map<string, Array<{ partitionIndex: number; errorCode: number }>>();
      for (const dir of request.dirs) {
        // Kafka compares canonical paths: a relative or trailing-slash spelling names the same directory.
        const path = resolve(dir.path);
        for (const t of dir.topics) {
          const list = results.get(t.name) ?? results.set(t.name, []).get(t.name)!;
          for (const index of t.partitions) {
            let errorCode: number = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
            if (allowed) {
              const topic = broker.topics.get(t.name);
              errorCode = !topic || !topic.partitions[index] ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : broker.replicaManager.alterReplicaLogDir(t.name, index, path);
            }
            list.push({ partitionIndex: index, errorCode });
          }
        }
      }
      return { throttleTimeMs: 0, results: [...results].map(([topicName, partitions]) => ({ topicName, partitions })) };
    },
  };
}
