/** DescribeLogDirs 1–4: the one data directory, its partitions' sizes and the disk's space. */
import { statfs } from 'node:fs/promises';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { canCluster, Op } from '../security/checks.js';

export function describeLogDirsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeLogDirs> {
  return {
    apiKey: ApiKey.DescribeLogDirs,
    minVersion: 1,
    maxVersion: 4,
    async handle(request, { connection }) {
      // Kafka: Describe on the cluster.
      if (!canCluster(broker, connection, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
      const wanted = request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
      const topics = [];
      for (const topic of broker.topics.all()) {
        const partitions = wanted ? wanted.get(topic.name) : undefined;
        if (wanted && !partitions) continue;
        const entries = [];
        for (const p of topic.partitions) {
          if (partitions && !partitions.has(p.partition)) continue;
          const partition = broker.replicaManager.getPartition(topic.name, p.partition);
          if (!partition) continue;
          entries.push({ partitionIndex: p.partition, partitionSize: BigInt(partition.sizeInBytes), offsetLag: 0n, isFutureKey: false });
        }
        if (entries.length) topics.push({ name: topic.name, partitions: entries });
      }
      let totalBytes = -1n;
      let usableBytes = -1n;
      try {
        const fs = await statfs(broker.dataDir, { bigint: true });
        totalBytes = fs.blocks * fs.bsize;
        usableBytes = fs.bavail * fs.bsize;
      } catch {
        // Leave -1 (unknown), as Kafka does when it cannot tell.
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: [{ errorCode: ErrorCode.NONE, logDir: broker.dataDir, topics, totalBytes, usableBytes }],
      };
    },
  };
}
