/** DescribeLogDirs 1–4: each log directory (log.dirs), its partitions' sizes and offset lags, and its disk's space. */
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
      type Entry = { partitionIndex: number; partitionSize: bigint; offsetLag: bigint; isFutureKey: boolean };
      const byDir = new Map<string, Map<string, Entry[]>>(broker.replicaManager.logDirs.map((d) => [d, new Map()]));
      for (const topic of broker.topics.all()) {
        const partitions = wanted ? wanted.get(topic.name) : undefined;
        if (wanted && !partitions) continue;
        for (const p of topic.partitions) {
          if (partitions && !partitions.has(p.partition)) continue;
          const partition = broker.replicaManager.getPartition(topic.name, p.partition);
          const dir = broker.replicaManager.logDirOf(topic.name, p.partition);
          if (!partition || dir === undefined) continue;
          // Kafka's getLogEndOffsetLag for a current replica: how far its log end is below its HW.
          const lag = partition.highWatermark - partition.logEndOffset;
          const topics = byDir.get(dir)!;
          const list = topics.get(topic.name) ?? topics.set(topic.name, []).get(topic.name)!;
          list.push({ partitionIndex: p.partition, partitionSize: BigInt(partition.sizeInBytes), offsetLag: lag > 0n ? lag : 0n, isFutureKey: false });
          // A replica being moved (AlterReplicaLogDirs): its future log, lagging by what is left to copy.
          const future = broker.replicaManager.logDirMoves.moveOf(topic.name, p.partition)?.future;
          if (future && !future.isClosed) {
            const futureDir = byDir.get(future.dir.slice(0, future.dir.lastIndexOf('/')));
            if (futureDir) {
              const futureLag = partition.logEndOffset - future.logEndOffset;
              (futureDir.get(topic.name) ?? futureDir.set(topic.name, []).get(topic.name)!).push({ partitionIndex: p.partition, partitionSize: BigInt(future.sizeInBytes), offsetLag: futureLag > 0n ? futureLag : 0n, isFutureKey: true });
            }
          }
        }
      }
      const results = await Promise.all(
        [...byDir].map(async ([logDir, topics]) => {
          let totalBytes = -1n;
          let usableBytes = -1n;
          try {
            const fs = await statfs(logDir, { bigint: true });
            totalBytes = fs.blocks * fs.bsize;
            usableBytes = fs.bavail * fs.bsize;
          } catch {
            // Leave -1 (unknown), as Kafka does when it cannot tell.
          }
          return { errorCode: ErrorCode.NONE, logDir, topics: [...topics].map(([name, partitions]) => ({ name, partitions })), totalBytes, usableBytes };
        }),
      );
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
    },
  };
}
