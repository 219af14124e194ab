/**
 * A scripted Kafka cluster for situations our broker cannot produce on demand: a partition leader
 * moving between nodes, responses held back, InitProducerId, transactional data in a fetch. Every
 * node answers ApiVersions, Metadata (topic `t`, partitions 0..n-1, led by `cluster.leader`),
 * InitProducerId (producer 4242 at epoch 3; a request holding an id gets that id at the next epoch,
 * as KIP-360's bump), Produce (stored per partition; NOT_LEADER_OR_FOLLOWER from a non-leader;
 * with `checkSequences`, idempotence checked as a broker does), ListOffsets and Fetch (the stored
 * batches, or `cluster.fetchOverride`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ApiKey, ErrorCode, decodeRequest, encodeResponse, readBatchHeader, setBaseOffset, setPartitionLeaderEpoch, type DecodedRequest } from '@sluice/protocol';

/** 'hold': answered on releaseHeld(); a number: answered with that error code; { hold: code }: both. */
export type ProduceVerdict = 'ok' | 'drop' | 'hold' | number | { hold: number };

export interface ScriptedCluster {
  ports: number[];
  bootstrap: string;
  /** Node id (1-based) leading every partition. */
  leader: number;
  /** The leaders' epoch: in Metadata, and stamped on stored batches (default 0). */
  leaderEpoch: number;
  /** Error codes the next Fetch answers for a partition get, one per fetch, before serving it. */
  fetchErrors: number[];
  /** Each fetched partition's currentLeaderEpoch, in order. */
  fetchRequests: Array<{ partition: number; fetchOffset: bigint; currentLeaderEpoch: number }>;
  partitions: number;
  /** Every Produce batch received, with the node it reached. */
  produced: Array<{ node: number; partition: number; records: Buffer }>;
  /** Stored log per partition (what Fetch returns). */
  logs: Buffer[][];
  /** Produce requests answered so far minus held ones: the broker's view of in-flight requests. */
  outstanding: number;
  maxOutstanding: number;
  /** Releases held Produce responses. */
  releaseHeld(): void;
  /** Fetch response overrides per partition (records and aborted transactions). */
  fetchOverride: Map<number, { records: Buffer; abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }>; highWatermark: bigint; lastStableOffset: bigint }>;
  /** The producer id and epoch each InitProducerId request held (-1n/-1: none). */
  initProducerIdRequests: Array<{ producerId: bigint; producerEpoch: number; version: number }>;
  close(): Promise<void>;
}

export async function startScriptedCluster(options: {
  nodes?: number;
  partitions?: number;
  idempotence?: boolean;
  /**
   * Check producer epochs and sequences per partition as a broker does: an older epoch is
   * INVALID_PRODUCER_EPOCH, a new epoch must start at 0, otherwise the sequence must follow the
   * last written one (OUT_OF_ORDER_SEQUENCE_NUMBER); a producer without state may start anywhere.
   */
  checkSequences?: boolean;
  onProduce?: (n: number, node: number) => ProduceVerdict;
}): Promise<ScriptedCluster> {
  const nodeCount = options.nodes ?? 1;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let produceCount = 0;
  const held: Array<() => void> = [];
  const cluster: ScriptedCluster = {
    ports: [],
    bootstrap: '',
    leader: 1,
    leaderEpoch: 0,
    fetchErrors: [],
    fetchRequests: [],
    partitions: options.partitions ?? 1,
    produced: [],
    logs: [],
    outstanding: 0,
    maxOutstanding: 0,
    releaseHeld() {
      for (const f of held.splice(0)) f();
    },
    fetchOverride: new Map(),
    initProducerIdRequests: [],
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
  cluster.logs = Array.from({ length: cluster.partitions }, () => []);
  const producerState = new Map<number, { epoch: number; nextSeq: number }>();
  const sequenceError = (p: number, records: Buffer): number => {
    const h = readBatchHeader(records);
    if (!options.checkSequences || h.producerId < 0n) return 0;
    const state = producerState.get(p);
    if (state === undefined) return 0;
    if (h.producerEpoch < state.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (h.producerEpoch > state.epoch) return h.baseSequence === 0 ? 0 : ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
    return h.baseSequence === state.nextSeq ? 0 : ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
  };
  const nextOffset = (p: number): bigint => cluster.logs[p].reduce((n, b) => n + BigInt(readBatchHeader(b).lastOffsetDelta + 1), 0n);

  function answer(node: number, socket: Socket, req: DecodedRequest): boolean {
    const id = req.header.correlationId;
    const v = req.apiVersion;
    switch (req.apiKey) {
      case ApiKey.ApiVersions: {
        const apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> = [
          { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 },
          { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 11 },
          { apiKey: ApiKey.ListOffsets, minVersion: 1, maxVersion: 7 },
          { apiKey: ApiKey.Metadata, minVersion: 1, maxVersion: 9 },
          { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
        ];
        if (options.idempotence) apiKeys.push({ apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 4 });
        socket.write(encodeResponse(ApiKey.ApiVersions, v, id, { errorCode: 0, apiKeys, throttleTimeMs: 0 }));
        return true;
      }
      case ApiKey.Metadata:
        socket.write(
          encodeResponse(ApiKey.Metadata, v, id, {
            brokers: cluster.ports.map((port, i) => ({ nodeId: i + 1, host: '127.0.0.1', port, rack: null })),
            clusterId: 'scripted',
            controllerId: 1,
            topics: [
              {
                errorCode: 0,
                name: 't',
                isInternal: false,
                partitions: Array.from({ length: cluster.partitions }, (_, p) => ({
                  errorCode: 0,
                  partitionIndex: p,
                  leaderId: cluster.leader,
                  leaderEpoch: cluster.leaderEpoch,
                  replicaNodes: [cluster.leader],
                  isrNodes: [cluster.leader],
                  offlineReplicas: [],
                })),
              },
            ],
          }),
        );
        return true;
      case ApiKey.InitProducerId: {
        const held = { producerId: req.body.producerId ?? -1n, producerEpoch: req.body.producerEpoch ?? -1, version: v };
        cluster.initProducerIdRequests.push(held);
        const bumped = held.producerId >= 0n ? { producerId: held.producerId, producerEpoch: held.producerEpoch + 1 } : { producerId: 4242n, producerEpoch: 3 };
        socket.write(encodeResponse(ApiKey.InitProducerId, v, id, { throttleTimeMs: 0, errorCode: 0, ...bumped }));
        return true;
      }
      case ApiKey.Produce: {
        const pd = req.body.topicData[0].partitionData;
        const verdict = options.onProduce?.(produceCount++, node) ?? 'ok';
        for (const p of pd) cluster.produced.push({ node, partition: p.index, records: Buffer.from(p.records!) });
        if (verdict === 'drop') {
          socket.destroy();
          return false;
        }
        const scripted = typeof verdict === 'number' ? verdict : typeof verdict === 'object' ? verdict.hold : 0;
        const errorFor = (): number => (node !== cluster.leader ? ErrorCode.NOT_LEADER_OR_FOLLOWER : scripted);
        const respond = (): void => {
          cluster.outstanding--;
          const partitionResponses = pd.map((p) => {
            const errorCode = errorFor() || sequenceError(p.index, p.records!);
            let baseOffset = -1n;
            if (errorCode === 0) {
              const h = readBatchHeader(p.records!);
              if (h.producerId >= 0n) producerState.set(p.index, { epoch: h.producerEpoch, nextSeq: h.baseSequence + h.lastOffsetDelta + 1 });
              baseOffset = nextOffset(p.index);
              const stored = Buffer.from(p.records!);
              setBaseOffset(stored, 0, baseOffset);
              setPartitionLeaderEpoch(stored, 0, cluster.leaderEpoch);
              cluster.logs[p.index].push(stored);
            }
            return { index: p.index, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
          });
          if (!socket.destroyed) socket.write(encodeResponse(ApiKey.Produce, v, id, { responses: [{ name: 't', partitionResponses }], throttleTimeMs: 0 }));
        };
        cluster.outstanding++;
        cluster.maxOutstanding = Math.max(cluster.maxOutstanding, cluster.outstanding);
        if (verdict === 'hold' || typeof verdict === 'object') held.push(respond);
        else respond();
        return true;
      }
      case ApiKey.ListOffsets: {
        const topics = req.body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            timestamp: -1n,
            offset: p.timestamp === -2n ? 0n : (cluster.fetchOverride.get(p.partitionIndex)?.highWatermark ?? nextOffset(p.partitionIndex)),
            leaderEpoch: 0,
          })),
        }));
        socket.write(encodeResponse(ApiKey.ListOffsets, v, id, { throttleTimeMs: 0, topics }));
        return true;
      }
      case ApiKey.Fetch: {
        const responses = req.body.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            cluster.fetchRequests.push({ partition: p.partition, fetchOffset: p.fetchOffset, currentLeaderEpoch: p.currentLeaderEpoch ?? -1 });
            const scripted = node === cluster.leader ? cluster.fetchErrors.shift() : undefined;
            if (scripted !== undefined) {
              return { partitionIndex: p.partition, errorCode: scripted, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: [], preferredReadReplica: -1, records: Buffer.alloc(0) };
            }
            if (node !== cluster.leader) {
              return { partitionIndex: p.partition, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: [], preferredReadReplica: -1, records: Buffer.alloc(0) };
            }
            const override = cluster.fetchOverride.get(p.partition);
            if (override) {
              const records = p.fetchOffset < override.highWatermark ? override.records : Buffer.alloc(0);
              return { partitionIndex: p.partition, errorCode: 0, highWatermark: override.highWatermark, lastStableOffset: override.lastStableOffset, logStartOffset: 0n, abortedTransactions: override.abortedTransactions, preferredReadReplica: -1, records };
            }
            const hw = nextOffset(p.partition);
            const batches = cluster.logs[p.partition].filter((b) => readBatchHeader(b).baseOffset + BigInt(readBatchHeader(b).lastOffsetDelta) >= p.fetchOffset);
            return { partitionIndex: p.partition, errorCode: 0, highWatermark: hw, lastStableOffset: hw, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: Buffer.concat(batches) };
          }),
        }));
        const empty = responses.every((t) => t.partitions.every((p) => p.records.length === 0 && p.errorCode === 0));
        const send = (): void => {
          if (!socket.destroyed) socket.write(encodeResponse(ApiKey.Fetch, v, id, { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses }));
        };
        // An empty fetch waits as a real broker would, so the client does not spin.
        if (empty) setTimeout(send, Math.min(req.body.maxWaitMs, 200));
        else send();
        return true;
      }
      default:
        socket.destroy();
        return false;
    }
  }

  for (let node = 1; node <= nodeCount; node++) {
    const server = createServer((socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          const size = buffered.readInt32BE(0);
          const frame = buffered.subarray(4, 4 + size);
          buffered = buffered.subarray(4 + size);
          if (!answer(node, socket, decodeRequest(frame))) return;
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    cluster.ports.push((server.address() as { port: number }).port);
  }
  cluster.bootstrap = `127.0.0.1:${cluster.ports[0]}`;
  return cluster;
}
