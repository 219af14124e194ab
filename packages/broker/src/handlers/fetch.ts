/**
 * Fetch 4–17 with long polling: read every requested partition (up to its partition max bytes and
 * the response's max bytes, the first non-empty partition always getting at least one whole
 * batch), and when fewer than min.bytes came back, park on those partitions until an append or
 * max.wait.ms, then read again. Reads stop at the high watermark. No fetch sessions: every
 * response carries session id 0, which tells the client to keep sending full requests.
 */
import { ApiKey, ErrorCode, type FetchRequest, type FetchResponsePartitionData, type FetchResponseFetchableTopicResponse } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { ZERO_UUID } from '../metadata/metadata-store.js';

const EMPTY = Buffer.alloc(0);
/** Kafka's response limit before v3 introduced max_bytes. */
const DEFAULT_MAX_BYTES = 0x7fffffff;

interface Target {
  topicIndex: number;
  name: string | null;
  topicId: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  /** Set when the partition cannot be read at all (unknown topic, bad epoch). */
  fixedError: number | null;
}

export function fetchHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.Fetch> {
  return {
    apiKey: ApiKey.Fetch,
    minVersion: 4,
    maxVersion: 17,
    async handle(request, { header }) {
      const version = header.apiVersion;
      if ((request.sessionId ?? 0) !== 0) {
        // We never hand out sessions, so a non-zero id is one we do not know.
        return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [], nodeEndpoints: [] };
      }
      const targets = resolveTargets(broker, request, version >= 13);
      const maxBytes = Math.min(request.maxBytes ?? DEFAULT_MAX_BYTES, broker.config.int('fetch.max.bytes'));
      const minBytes = Math.max(0, request.minBytes);
      const deadline = Date.now() + Math.max(0, request.maxWaitMs);

      const watched = targets.filter((t) => t.name !== null).map((t) => ({ topic: t.name!, partition: t.partition }));
      for (;;) {
        // Watch before reading, so an append landing between the read and the wait is not missed.
        const wake = watch(broker, watched);
        const { partitions, bytes, anyError } = await readAll(broker, targets, maxBytes);
        const remaining = deadline - Date.now();
        if (bytes >= minBytes || anyError || remaining <= 0 || broker.stopping) {
          // Pooled read buffers in the response go back to the pool once the connection has written them.
          wake.cancel();
          return {
            throttleTimeMs: 0,
            errorCode: ErrorCode.NONE,
            sessionId: 0,
            responses: group(targets, partitions, version >= 13),
            nodeEndpoints: [],
          };
        }
        // Not enough yet: these bytes are read again after the wait, so their buffers can go back now.
        for (const p of partitions) if (p.records) broker.buffers.release(p.records);
        await wake.until(remaining);
      }
    },
  };
}

function resolveTargets(broker: BrokerContext, request: FetchRequest, byId: boolean): Target[] {
  const targets: Target[] = [];
  request.topics.forEach((t, topicIndex) => {
    const topic = byId ? broker.topics.byId(t.topicId ?? ZERO_UUID) : broker.topics.get(t.topic ?? '');
    for (const p of t.partitions) {
      const assignment = topic?.partitions[p.partition];
      let fixedError: number | null = null;
      if (!topic) fixedError = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (!assignment) fixedError = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.currentLeaderEpoch !== undefined && p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== assignment.leaderEpoch) {
        fixedError = p.currentLeaderEpoch < assignment.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
      }
      targets.push({
        topicIndex,
        name: topic?.name ?? t.topic ?? null,
        topicId: topic?.topicId ?? t.topicId ?? ZERO_UUID,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        fixedError,
      });
    }
  });
  return targets;
}

function emptyPartition(partitionIndex: number, errorCode: number): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

async function readAll(broker: BrokerContext, targets: Target[], maxBytes: number) {
  let bytes = 0;
  let anyError = false;
  const partitions: FetchResponsePartitionData[] = [];
  // Sequential: each read's size limit depends on what the earlier partitions returned.
  for (const target of targets) {
    if (target.fixedError !== null) {
      anyError = true;
      partitions.push(emptyPartition(target.partition, target.fixedError));
      continue;
    }
    const log = broker.topics.partitionLog(target.name!, target.partition);
    if (!log) {
      anyError = true;
      partitions.push(emptyPartition(target.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      continue;
    }
    const budget = Math.min(target.partitionMaxBytes, maxBytes - bytes);
    const highWatermark = log.highWatermark;
    const result: FetchResponsePartitionData = {
      partitionIndex: target.partition,
      errorCode: ErrorCode.NONE,
      highWatermark,
      lastStableOffset: highWatermark,
      logStartOffset: log.logStartOffset,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: EMPTY,
    };
    if (target.fetchOffset === highWatermark || budget <= 0) {
      partitions.push(result);
      continue;
    }
    try {
      const read = await log.read(target.fetchOffset, Math.max(0, budget), { maxOffset: highWatermark, minOneBatch: bytes === 0, buffers: broker.buffers });
      result.records = read.records;
      result.highWatermark = read.highWatermark;
      result.lastStableOffset = read.highWatermark;
      result.logStartOffset = read.logStartOffset;
      bytes += read.records.length;
    } catch (err) {
      const { code } = errorOf(err, broker.log, `fetch from ${target.name}-${target.partition}`);
      result.errorCode = code;
      anyError = true;
    }
    partitions.push(result);
  }
  return { partitions, bytes, anyError };
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

/** A registration for the next append on any of `partitions`. */
function watch(broker: BrokerContext, partitions: { topic: string; partition: number }[]) {
  let woken = false;
  let resolveWake: (() => void) | null = null;
  const cancel = broker.waiters.watch(partitions, () => {
    woken = true;
    resolveWake?.();
  });
  return {
    cancel,
    /** Resolves on the append (possibly already seen) or after timeoutMs. */
    until(timeoutMs: number): Promise<void> {
      if (woken) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          cancel();
          resolve();
        }, timeoutMs);
        resolveWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
