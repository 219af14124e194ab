/**
 * The REST API over https, as Kafka Connect configures it: `listeners=https://…` with
 * `listeners.https.ssl.*` (or the worker's `ssl.*`), `ssl.client.auth`; distributed workers
 * forward writes to the leader over https, presenting their own certificate when required.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { startBroker } from '@sluice/broker';
import { makeTestCertificates, requirePeers } from '@sluice/test-peers';
import { DistributedWorker, StandaloneWorker, parseWorkerConfig } from '../src/index.js';

interface Answer {
  status: number;
  body: unknown;
}

/** curl --cacert CA [--cert PEM] over https. */
function httpsCall(url: string, method: string, path: string, tls: { ca: string; cert?: string }, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        ca: readFileSync(tls.ca),
        ...(tls.cert ? { key: readFileSync(tls.cert), cert: readFileSync(tls.cert) } : {}),
        headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const converters = {
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
};

test('a standalone worker serves its REST API over https with listeners.https.ssl.*; ssl.client.auth=required turns away clients without a certificate', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const certs = makeTestCertificates();
  const broker = await startBroker({ dataDir: join(certs.dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null });
  let worker: StandaloneWorker | null = null;
  // One hook, in order: the worker, then the broker, then the files.
  t.after(async () => {
    await worker?.close();
    await broker.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });
  worker = await StandaloneWorker.start({
    workerProps: {
      'bootstrap.servers': `127.0.0.1:${broker.port}`,
      ...converters,
      'offset.storage.file.filename': join(certs.dir, 'offsets'),
      listeners: 'https://127.0.0.1:0',
      'listeners.https.ssl.keystore.location': certs.brokerPem,
      'listeners.https.ssl.truststore.location': certs.caCert,
      'listeners.https.ssl.client.auth': 'required',
    },
    log: () => undefined,
  });
  assert.match(worker.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const root = await httpsCall(worker.url, 'GET', '/', { ca: certs.caCert, cert: certs.brokerPem });
  assert.equal(root.status, 200);
  assert.equal(typeof (root.body as { kafka_cluster_id: unknown }).kafka_cluster_id, 'string');
  const created = await httpsCall(worker.url, 'POST', '/connectors', { ca: certs.caCert, cert: certs.brokerPem }, { name: 'src', config: { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 'tls-lines' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  await assert.rejects(httpsCall(worker.url, 'GET', '/', { ca: certs.caCert }), 'a client without a certificate is refused');
  await assert.rejects(fetch(worker.url.replace('https:', 'http:') + '/'), 'plain http is not served');
});

test('https workers of a distributed cluster forward writes to the leader over https, presenting their certificates', { timeout: 120_000 }, async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const certs = makeTestCertificates();
  const broker = await startBroker({ dataDir: join(certs.dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'group.initial.rebalance.delay.ms': 0 });
  const workers: DistributedWorker[] = [];
  t.after(async () => {
    for (const w of workers) await w.close();
    await broker.stop();
    rmSync(certs.dir, { recursive: true, force: true });
  });
  const start = () =>
    DistributedWorker.start({
      workerProps: {
        'bootstrap.servers': `127.0.0.1:${broker.port}`,
        ...converters,
        'group.id': 'tls-workers',
        'config.storage.topic': 'tls-configs',
        'offset.storage.topic': 'tls-offsets',
        'status.storage.topic': 'tls-status',
        'config.storage.replication.factor': '1',
        'offset.storage.replication.factor': '1',
        'status.storage.replication.factor': '1',
        listeners: 'https://127.0.0.1:0',
        // The worker's own ssl.* apply when no listeners.https.* is given.
        'ssl.keystore.location': certs.brokerPem,
        'ssl.truststore.location': certs.caCert,
        'ssl.client.auth': 'required',
      },
      log: () => undefined,
    });
  workers.push(await start());
  workers.push(await start());
  const tls = { ca: certs.caCert, cert: certs.brokerPem };
  // One of the two is not the leader: its write is forwarded over https, with its own certificate.
  for (const [i, w] of workers.entries()) {
    for (let attempt = 0; ; attempt++) {
      const r = await httpsCall(w.url, 'PUT', `/connectors/src-${i}/config`, tls, { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: `tls-${i}` });
      if (r.status === 201) break;
      assert.ok(r.status === 409 && attempt < 200, `worker ${i}: ${r.status} ${JSON.stringify(r.body)}`); // not joined yet
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  const followers = workers.filter((w) => w.herder.forwardTo() !== null);
  assert.equal(followers.length, 1, 'one worker forwards to the other');
  assert.match(followers[0].herder.forwardTo()!, /^https:\/\/127\.0\.0\.1:\d+$/);
  for (const w of workers) {
    for (let attempt = 0; ; attempt++) {
      const listed = await httpsCall(w.url, 'GET', '/connectors', tls);
      if (JSON.stringify(listed.body) === JSON.stringify(['src-0', 'src-1'])) break;
      assert.ok(attempt < 100, `${w.url} lists ${JSON.stringify(listed.body)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
});

test('https listener settings are checked when the worker starts', () => {
  assert.throws(() => parseWorkerConfig({ ...converters, listeners: 'https://127.0.0.1:8443' }), /https REST listener needs ssl.keystore.location/);
  assert.throws(() => parseWorkerConfig({ ...converters, listeners: 'https://127.0.0.1:8443', 'listeners.https.ssl.keystore.location': '/nonexistent.pem' }), /listeners.https.ssl.keystore.location \/nonexistent.pem/);
  assert.throws(() => parseWorkerConfig({ ...converters, listeners: 'ftp://127.0.0.1:21' }), /expected http:\/\/host:port or https:\/\/host:port/);
  assert.equal(parseWorkerConfig({ ...converters, listeners: 'http://127.0.0.1:8083' }).restTls, null);
});
