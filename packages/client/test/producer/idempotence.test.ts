/**
 * Idempotence against a scripted broker (our broker has no InitProducerId yet): the producer gets
 * a producer id, numbers each partition's batches with consecutive sequences, and after a lost
 * response resends the identical batch (same sequence) rather than a renumbered one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { ApiKey, ErrorCode, decodeRequest, encodeResponse, readBatchHeader, type DecodedRequest } from '@sluice/protocol';
import { Producer, UnsupportedVersionError } from '../../src/index.js';

interface ScriptedBroker {
  server: Server;
  port: number;
  batches: Buffer[];
}

/** A one-partition broker; `dropProduce(n)` says whether to swallow the n-th Produce (close the socket, no answer). */
async function scriptedBroker(options: { idempotence: boolean; dropProduce: (n: number) => boolean }): Promise<ScriptedBroker> {
  const batches: Buffer[] = [];
  let produceCount = 0;
  let nextOffset = 0n;
  const state = { port: 0 };
  const server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        const frame = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        if (!answer(socket, decodeRequest(frame))) return;
      }
    });
    socket.on('error', () => undefined);
  });
  function answer(socket: Socket, req: DecodedRequest): boolean {
    const id = req.header.correlationId;
    switch (req.apiKey) {
      case ApiKey.ApiVersions: {
        const apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }> = [
          { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 },
          { apiKey: ApiKey.Metadata, minVersion: 1, maxVersion: 9 },
          { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
        ];
        if (options.idempotence) apiKeys.push({ apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 4 });
        socket.write(encodeResponse(ApiKey.ApiVersions, req.apiVersion, id, { errorCode: 0, apiKeys, throttleTimeMs: 0 }));
        return true;
      }
      case ApiKey.Metadata:
        socket.write(
          encodeResponse(ApiKey.Metadata, req.apiVersion, id, {
            brokers: [{ nodeId: 1, host: '127.0.0.1', port: state.port, rack: null }],
            clusterId: 'scripted',
            controllerId: 1,
            topics: [{ errorCode: 0, name: 't', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
          }),
        );
        return true;
      case ApiKey.InitProducerId:
        socket.write(encodeResponse(ApiKey.InitProducerId, req.apiVersion, id, { throttleTimeMs: 0, errorCode: 0, producerId: 4242n, producerEpoch: 3 }));
        return true;
      case ApiKey.Produce: {
        const records = req.body.topicData[0].partitionData[0].records!;
        batches.push(Buffer.from(records));
        if (options.dropProduce(produceCount++)) {
          socket.destroy();
          return false;
        }
        const header = readBatchHeader(records);
        const base = nextOffset;
        nextOffset += BigInt(header.lastOffsetDelta + 1);
        socket.write(
          encodeResponse(ApiKey.Produce, req.apiVersion, id, {
            responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: ErrorCode.NONE, baseOffset: base, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null }] }],
            throttleTimeMs: 0,
          }),
        );
        return true;
      }
      default:
        socket.destroy();
        return false;
    }
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as { port: number }).port;
  return { server, port: state.port, batches };
}

test('idempotent producer: producer id from InitProducerId, consecutive sequences, identical bytes on retry', { timeout: 60_000 }, async (t) => {
  const broker = await scriptedBroker({ idempotence: true, dropProduce: (n) => n === 1 });
  t.after(() => broker.server.close());
  const producer = new Producer({ brokers: [`127.0.0.1:${broker.port}`], enableIdempotence: true, lingerMs: 0, retry: { retries: 5, initialRetryTimeMs: 10 } });
  await producer.connect();
  assert.deepEqual(producer.producerIdentity, { producerId: 4242n, producerEpoch: 3 });
  const first = await producer.sendBatch(Array.from({ length: 3 }, (_, i) => ({ topic: 't', value: `a${i}` })));
  const second = await producer.sendBatch(Array.from({ length: 2 }, (_, i) => ({ topic: 't', value: `b${i}` })));
  const third = await producer.sendBatch(Array.from({ length: 4 }, (_, i) => ({ topic: 't', value: `c${i}` })));
  await producer.close();
  assert.deepEqual(first.map((r) => r.offset), [0n, 1n, 2n]);
  assert.deepEqual(second.map((r) => r.offset), [3n, 4n]);
  assert.deepEqual(third.map((r) => r.offset), [5n, 6n, 7n, 8n]);
  // Produce #1 (the second batch) was swallowed and resent: four Produce requests for three batches.
  assert.equal(broker.batches.length, 4);
  const headers = broker.batches.map((b) => readBatchHeader(b));
  assert.deepEqual(headers.map((h) => h.baseSequence), [0, 3, 3, 5]);
  assert.ok(headers.every((h) => h.producerId === 4242n && h.producerEpoch === 3));
  assert.ok(broker.batches[1].equals(broker.batches[2]), 'the retry is the identical batch');
});

test('enableIdempotence against a broker without InitProducerId fails clearly', { timeout: 30_000 }, async (t) => {
  const broker = await scriptedBroker({ idempotence: false, dropProduce: () => false });
  t.after(() => broker.server.close());
  const producer = new Producer({ brokers: [`127.0.0.1:${broker.port}`], enableIdempotence: true });
  await assert.rejects(producer.connect(), UnsupportedVersionError);
  await producer.close();
  const plain = new Producer({ brokers: [`127.0.0.1:${broker.port}`] });
  const r = await plain.send({ topic: 't', value: 'x' });
  assert.equal(r.offset, 0n);
  assert.equal(readBatchHeader(broker.batches[0]).producerId, -1n);
  await plain.close();
});
