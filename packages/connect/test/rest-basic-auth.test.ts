/**
 * Kafka Connect's BasicAuthSecurityRestExtension, configured as Kafka documents it:
 * `rest.extension.classes` names the extension, KAFKA_OPTS carries
 * `-Djava.security.auth.login.config=<JAAS file>`, whose KafkaConnect entry's
 * PropertyFileLoginModule lists a `user: password` file. Forwarded requests keep the caller's
 * credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJaasFile } from '@sluice/client';
import { startBroker } from '@sluice/broker';
import { DistributedWorker, StandaloneWorker } from '../src/index.js';

const EXTENSION = 'org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension';
const converters = {
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
};

/** The two files of Kafka's documented setup; returns KAFKA_OPTS pointing at them. */
function jaasSetup(dir: string): string {
  writeFileSync(join(dir, 'connect.password'), '# user: password\nalice: alice-secret\nbob=bob-secret\n');
  writeFileSync(
    join(dir, 'connect_jaas.conf'),
    `// Connect's REST users\nKafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file="${join(dir, 'connect.password')}";\n};\n`,
  );
  return `-Xmx256m -Djava.security.auth.login.config=${join(dir, 'connect_jaas.conf')}`;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function call(url: string, method: string, path: string, authorization?: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(authorization ? { Authorization: authorization } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test('the JAAS file format: named entries, comments, quoted values', () => {
  const entries = parseJaasFile('/* a */ KafkaServer { a.B required x="{};" y=z; c.D optional; };\n// b\nKafkaConnect {\n e.F required file="/p";\n};');
  assert.deepEqual([...entries.keys()], ['KafkaServer', 'KafkaConnect']);
  assert.equal(entries.get('KafkaServer')!.length, 2);
  assert.equal(entries.get('KafkaServer')![0].options.get('x'), '{};');
  assert.equal(entries.get('KafkaConnect')![0].options.get('file'), '/p');
  assert.throws(() => parseJaasFile('KafkaConnect { a.B required; '), /no closing/);
});

test('BasicAuthSecurityRestExtension: requests without listed credentials get 401; listed users get through', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-connect-auth-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null });
  let worker: StandaloneWorker | null = null;
  t.after(async () => {
    await worker?.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const props = { 'bootstrap.servers': `127.0.0.1:${broker.port}`, ...converters, 'offset.storage.file.filename': join(dir, 'offsets'), listeners: 'http://127.0.0.1:0', 'rest.extension.classes': EXTENSION };
  await assert.rejects(StandaloneWorker.start({ workerProps: props, env: {}, log: () => undefined }), /KAFKA_OPTS=-Djava.security.auth.login.config/);
  await assert.rejects(StandaloneWorker.start({ workerProps: { ...props, 'rest.extension.classes': 'com.example.Other' }, env: {}, log: () => undefined }), /REST extension com.example.Other is not available/);

  worker = await StandaloneWorker.start({ workerProps: props, env: { KAFKA_OPTS: jaasSetup(dir) }, log: () => undefined });
  const refused = await fetch(worker.url + '/connectors');
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="KafkaConnect"');
  assert.deepEqual(await refused.json(), { error_code: 401, message: 'User cannot access the resource.' });
  assert.equal((await call(worker.url, 'GET', '/connectors', basic('alice', 'wrong'))).status, 401);
  assert.equal((await call(worker.url, 'GET', '/connectors', basic('mallory', 'alice-secret'))).status, 401);
  assert.equal((await call(worker.url, 'POST', '/connectors', undefined, { name: 'x', config: { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 't' } })).status, 401, 'writes need credentials too');

  assert.deepEqual(await call(worker.url, 'GET', '/connectors', basic('alice', 'alice-secret')), { status: 200, body: [] });
  const created = await call(worker.url, 'POST', '/connectors', basic('bob', 'bob-secret'), { name: 'x', config: { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 't' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

test('a follower forwards a write to the leader with the caller\'s credentials', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-connect-auth-'));
  const broker = await startBroker({ dataDir: join(dir, 'broker'), host: '127.0.0.1', port: 0, logSink: null, 'offsets.topic.replication.factor': 1, 'group.initial.rebalance.delay.ms': 0 });
  const workers: DistributedWorker[] = [];
  t.after(async () => {
    for (const w of workers) await w.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { KAFKA_OPTS: jaasSetup(dir) };
  const start = () =>
    DistributedWorker.start({
      workerProps: {
        'bootstrap.servers': `127.0.0.1:${broker.port}`,
        ...converters,
        'group.id': 'auth-workers',
        'config.storage.topic': 'auth-configs',
        'offset.storage.topic': 'auth-offsets',
        'status.storage.topic': 'auth-status',
        'config.storage.replication.factor': '1',
        'offset.storage.replication.factor': '1',
        'status.storage.replication.factor': '1',
        listeners: 'http://127.0.0.1:0',
        'rest.extension.classes': EXTENSION,
      },
      env,
      log: () => undefined,
    });
  workers.push(await start());
  workers.push(await start());
  const alice = basic('alice', 'alice-secret');
  let follower: DistributedWorker | undefined;
  for (let attempt = 0; !follower; attempt++) {
    follower = workers.find((w) => w.herder.forwardTo() !== null);
    assert.ok(follower || attempt < 200, 'one worker follows the other');
    await new Promise((r) => setTimeout(r, 100));
  }
  const config = { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 'auth-lines' };
  assert.equal((await call(follower.url, 'PUT', '/connectors/fwd/config', undefined, config)).status, 401, 'refused before forwarding');
  for (let attempt = 0; ; attempt++) {
    const r = await call(follower.url, 'PUT', '/connectors/fwd/config', alice, config);
    if (r.status === 201) break;
    assert.ok(r.status === 409 && attempt < 200, `${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  const leader = workers.find((w) => w !== follower)!;
  for (let attempt = 0; ; attempt++) {
    const listed = await call(leader.url, 'GET', '/connectors', alice);
    if (JSON.stringify(listed.body) === '["fwd"]') break;
    assert.ok(attempt < 100, JSON.stringify(listed.body));
    await new Promise((res) => setTimeout(res, 100));
  }
});
