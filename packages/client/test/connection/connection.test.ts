import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ApiKey, apiInfo, buildRecordBatch } from '@sluice/protocol';
import { Connection, ConnectionError, RequestTimeoutError, clientRange, isRetriable, type RequestEvent } from '../../src/index.js';
import { run, startTestBroker } from '../helpers.js';
import { opensslPath, requirePeers } from '@sluice/test-peers';

test('ApiVersions negotiation picks the highest version both sides support', { timeout: 60_000 }, async (t) => {
  const broker = await startTestBroker();
  const c = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
  t.after(async () => {
    c.close();
    await broker.stop();
  });
  await c.connect();
  for (const key of [ApiKey.Produce, ApiKey.Fetch, ApiKey.Metadata, ApiKey.ListOffsets]) {
    const theirs = c.brokerRange(key)!;
    const ours = clientRange(key);
    assert.equal(c.versionOf(key), Math.min(theirs.max, ours.max), apiInfo.get(key)!.name);
  }
  assert.equal(c.versionOf(ApiKey.Fetch) <= 12, true, 'Fetch stays on topic names');
});

test('pipelining: many requests in flight on one connection each get their own response', { timeout: 60_000 }, async (t) => {
  const broker = await startTestBroker();
  const c = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
  t.after(async () => {
    c.close();
    await broker.stop();
  });
  await c.connect();
  const events: RequestEvent[] = [];
  const onEvent = (m: unknown) => events.push(m as RequestEvent);
  subscribe('sluice:client:request', onEvent);
  const requests = Array.from({ length: 200 }, (_, i) =>
    i % 2 === 0 ? c.request(ApiKey.Metadata, { topics: [] }) : c.request(ApiKey.ApiVersions, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }),
  );
  let peak = 0;
  peak = Math.max(peak, c.inFlight);
  const results = await Promise.all(requests);
  unsubscribe('sluice:client:request', onEvent);
  assert.ok(peak > 1, 'requests were outstanding together');
  results.forEach((r, i) => {
    if (i % 2 === 0) assert.ok('brokers' in r && Array.isArray(r.brokers));
    else assert.ok('apiKeys' in r && r.apiKeys.length > 0);
  });
  assert.equal(events.length, 200, 'one diagnostics event per request');
  assert.ok(events.every((e) => e.error === null && e.durationMs >= 0));
});

test('a request sent without expecting a response (acks=0 Produce) resolves with null, and is typed so', { timeout: 60_000 }, async (t) => {
  const broker = await startTestBroker();
  const c = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
  t.after(async () => {
    c.close();
    await broker.stop();
  });
  await c.connect();
  await c.request(ApiKey.CreateTopics, { topics: [{ name: 'fire-and-forget', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const records = buildRecordBatch([{ key: null, value: Buffer.from('x') }]);
  // The annotation is the check: it compiles only because the overload says null.
  const none: null = await c.request(ApiKey.Produce, { transactionalId: null, acks: 0, timeoutMs: 5000, topicData: [{ name: 'fire-and-forget', partitionData: [{ index: 0, records }] }] }, { expectResponse: false });
  assert.equal(none, null);
  // The connection is still usable and in step: the next response matches its request.
  const md = await c.request(ApiKey.Metadata, { topics: [{ name: 'fire-and-forget', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }] });
  assert.equal(md.topics[0].name, 'fire-and-forget');
});

function silentServer(): Promise<Server> {
  const server = createServer((socket) => socket.on('data', () => undefined));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a broker that never answers fails the request with a retriable RequestTimeoutError', { timeout: 30_000 }, async (t) => {
  const server = await silentServer();
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const c = new Connection({ host: '127.0.0.1', port, clientId: 'test', requestTimeoutMs: 300 });
  await assert.rejects(c.connect(), (e: unknown) => e instanceof RequestTimeoutError && isRetriable(e));
  c.close();
});

test('connection refused is a retriable ConnectionError; a dropped connection fails in-flight requests and reconnects', { timeout: 60_000 }, async (t) => {
  const closed = await silentServer();
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = new Connection({ host: '127.0.0.1', port, clientId: 'test' });
  await assert.rejects(refused.connect(), (e: unknown) => e instanceof ConnectionError && e.retriable);

  const broker = await startTestBroker();
  const c = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
  t.after(async () => {
    c.close();
    await broker.stop();
  });
  await c.connect();
  // Destroy the socket underneath a request in flight: it fails, the next request reconnects.
  const inFlight = c.request(ApiKey.Metadata, { topics: [] });
  (c as unknown as { socket: { destroy(): void } }).socket.destroy();
  await assert.rejects(inFlight, (e: unknown) => e instanceof ConnectionError && e.retriable);
  const r = await c.request(ApiKey.Metadata, { topics: [] });
  assert.equal(r.brokers.length, 1);
});

test('the SASL hook runs after version negotiation and before the first request', { timeout: 60_000 }, async (t) => {
  const broker = await startTestBroker();
  const order: string[] = [];
  const c = new Connection({
    host: '127.0.0.1',
    port: broker.port,
    clientId: 'test',
    sasl: async (conn) => {
      order.push(`sasl:${conn.versionOf(ApiKey.Metadata) >= 0}`);
      // A mechanism talks over the connection during the hook.
      const r = await conn.request(ApiKey.ApiVersions, { clientSoftwareName: 'sasl', clientSoftwareVersion: '1' });
      order.push(`hook-request:${r.errorCode}`);
    },
  });
  t.after(async () => {
    c.close();
    await broker.stop();
  });
  await c.request(ApiKey.Metadata, { topics: [] });
  order.push('request');
  assert.deepEqual(order, ['sasl:true', 'hook-request:0', 'request']);
  const failing = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test', sasl: async () => Promise.reject(new Error('bad credentials')) });
  await assert.rejects(failing.connect(), /bad credentials/);
  failing.close();
});

test('TLS: requests go through a TLS listener verified against its certificate', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  const made = await run(opensslPath(), ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  assert.equal(made.code, 0, made.stderr);
  const key = await readFile(join(dir, 'key.pem'));
  const cert = await readFile(join(dir, 'cert.pem'));
  const broker = await startTestBroker();
  // A TLS terminator in front of the plaintext broker.
  const proxy = createTlsServer({ key, cert }, (tlsSocket) => {
    const upstream = netConnect(broker.port, '127.0.0.1');
    tlsSocket.pipe(upstream).pipe(tlsSocket);
    upstream.on('error', () => tlsSocket.destroy());
    tlsSocket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as { port: number }).port;
  const good = new Connection({ host: '127.0.0.1', port, clientId: 'tls', tls: { ca: cert } });
  const untrusted = new Connection({ host: '127.0.0.1', port, clientId: 'tls', tls: true, connectTimeoutMs: 5_000 });
  t.after(async () => {
    good.close();
    untrusted.close();
    proxy.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const r = await good.request(ApiKey.Metadata, { topics: [] });
  assert.equal(r.brokers.length, 1);
  await assert.rejects(untrusted.connect(), (e: unknown) => e instanceof ConnectionError && /self[- ]signed|certificate/i.test(e.message));
});
