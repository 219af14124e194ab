/**
 * Listeners, TLS and SASL against real clients: one broker with PLAINTEXT, SSL (client auth
 * requested, PKCS12 keystore), SASL_PLAINTEXT, SASL_SSL and MTLS (SSL with client auth required,
 * PEM keystore) listeners. kcat produces and consumes over each protocol with PLAIN, both SCRAM
 * mechanisms and OAUTHBEARER (librdkafka's unsecured JWT); kafkajs over SASL_SSL; wrong
 * passwords, unknown users, expired tokens and untrusted certificates are refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Connection, saslAuthenticator } from '@sluice/client';
import { kcatPath, missingPeers, requirePeers } from '@sluice/test-peers';
import type * as KafkaJS from 'kafkajs';
import { run, startTestBroker, RawClient, type TestBroker } from '../helpers.js';
import { makeCerts, unsecuredJwt, type TestCerts } from './certs.js';

const require = createRequire(import.meta.url);
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

let certs: TestCerts;
let tb: TestBroker;
const port = (name: string) => tb.broker.listeners.find((l) => l.name === name)!.port;

async function alterScram(user: string, mechanism: 1 | 2, password: string, iterations = 4096): Promise<number> {
  const c = new Connection({ host: '127.0.0.1', port: port('PLAINTEXT'), clientId: 'scram-admin' });
  await c.connect();
  try {
    const salt = randomBytes(16);
    const salted = pbkdf2Sync(password, salt, iterations, mechanism === 1 ? 32 : 64, mechanism === 1 ? 'sha256' : 'sha512');
    const res = await c.request(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: user, mechanism, iterations, salt, saltedPassword: salted }] });
    return res.results[0].errorCode;
  } finally {
    c.close();
  }
}

before(async () => {
  if (missingPeers(['openssl']).length) return;
  certs = makeCerts();
  tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': certs.brokerP12,
    'ssl.keystore.password': 'changeit',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certs.caCert,
    'ssl.client.auth': 'requested',
    'listener.name.mtls.ssl.client.auth': 'required',
    'listener.name.mtls.ssl.keystore.type': 'PEM',
    'listener.name.mtls.ssl.keystore.location': certs.brokerPem,
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER,GSSAPI',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
    'listener.name.sasl_ssl.plain.sasl.jaas.config': JAAS,
  });
  assert.equal(await alterScram('alice', 1, 'alice-secret'), ErrorCode.NONE);
  assert.equal(await alterScram('alice', 2, 'alice-secret'), ErrorCode.NONE);
});

after(async () => {
  await tb?.dispose();
});

function kcatArgs(listener: string, extra: Record<string, string>): string[] {
  const args = ['-b', `127.0.0.1:${port(listener)}`, '-m', '10'];
  for (const [k, v] of Object.entries(extra)) args.push('-X', `${k}=${v}`);
  return args;
}

const ssl = () => ({ 'ssl.ca.location': certs.caCert, 'ssl.endpoint.identification.algorithm': 'none' });
const CASES: [string, string, Record<string, string>][] = [
  ['SSL', 'SSL', { 'security.protocol': 'SSL', ...{} }],
  ['SSL with a client certificate (MTLS listener, PEM keystore)', 'MTLS', { 'security.protocol': 'SSL' }],
  ['SASL_PLAINTEXT PLAIN', 'SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret' }],
  ['SASL_PLAINTEXT SCRAM-SHA-256', 'SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'alice', 'sasl.password': 'alice-secret' }],
  ['SASL_SSL SCRAM-SHA-512', 'SASL_SSL', { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': 'alice-secret' }],
  ['SASL_SSL PLAIN', 'SASL_SSL', { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'admin', 'sasl.password': 'admin-secret' }],
  ['SASL_SSL OAUTHBEARER (unsecured JWT)', 'SASL_SSL', { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'OAUTHBEARER', 'enable.sasl.oauthbearer.unsecure.jwt': 'true', 'sasl.oauthbearer.config': 'principal=alice' }],
];

for (const [name, listener, props] of CASES) {
  test(`kcat produces and consumes over ${name}`, async (t) => {
    if (!requirePeers(t, 'kcat', 'openssl')) return;
    const extra = { ...props, ...(props['security.protocol'].endsWith('SSL') ? ssl() : {}) };
    if (listener === 'MTLS') Object.assign(extra, { 'ssl.certificate.location': certs.clientCert, 'ssl.key.location': certs.clientKey });
    const topic = `t-${listener.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
    const produced = await run(kcatPath(), [...kcatArgs(listener, extra), '-P', '-t', topic], { input: 'one\ntwo\nthree\n', timeoutMs: 20_000 });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await run(kcatPath(), [...kcatArgs(listener, extra), '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], { timeoutMs: 20_000 });
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two', 'three']);
    // Metadata names this listener's endpoint, as Kafka answers.
    const meta = await run(kcatPath(), [...kcatArgs(listener, extra), '-L', '-J'], { timeoutMs: 20_000 });
    assert.equal(meta.code, 0, meta.stderr);
    const brokers = (JSON.parse(meta.stdout) as { brokers: { name: string }[] }).brokers;
    assert.deepEqual(brokers.map((b) => b.name), [`127.0.0.1:${port(listener)}`]);
  });
}

const REFUSED: [string, string, Record<string, string>][] = [
  ['a wrong PLAIN password', 'SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'nope' }],
  ['an unknown PLAIN user', 'SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'bob', 'sasl.password': 'alice-secret' }],
  ['a wrong SCRAM-SHA-256 password', 'SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'alice', 'sasl.password': 'nope' }],
  ['an unknown SCRAM-SHA-512 user', 'SASL_SSL', { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'bob', 'sasl.password': 'x' }],
  ['no client certificate where one is required', 'MTLS', { 'security.protocol': 'SSL' }],
  ['an untrusted client certificate', 'MTLS', { 'security.protocol': 'SSL' }],
  ['an untrusted client certificate where one is only requested', 'SSL', { 'security.protocol': 'SSL' }],
  ['an untrusted broker certificate (client without the CA)', 'SSL', { 'security.protocol': 'SSL' }],
];

for (const [name, listener, props] of REFUSED) {
  test(`kcat is refused with ${name}`, async (t) => {
    if (!requirePeers(t, 'kcat', 'openssl')) return;
    const extra: Record<string, string> = { ...props };
    if (props['security.protocol'].endsWith('SSL') && !name.includes('broker certificate')) Object.assign(extra, ssl());
    if (name.includes('broker certificate')) extra['ssl.endpoint.identification.algorithm'] = 'none';
    if (name.includes('untrusted client')) Object.assign(extra, { 'ssl.certificate.location': certs.untrustedCert, 'ssl.key.location': certs.untrustedKey });
    const failuresBefore = tb.broker.authentication.failedAuthentications;
    const meta = await run(kcatPath(), [...kcatArgs(listener, extra), '-L', '-m', '3'], { timeoutMs: 20_000 });
    assert.notEqual(meta.code, 0, `kcat -L succeeded: ${meta.stdout}`);
    if (!name.includes('broker certificate')) assert.ok(tb.broker.authentication.failedAuthentications > failuresBefore, 'the failure was counted');
  });
}

test('GSSAPI is refused with UNSUPPORTED_SASL_MECHANISM listing the enabled mechanisms', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const c = await RawClient.connect(port('SASL_PLAINTEXT'));
  try {
    const res = await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    assert.equal(res.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(res.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
  } finally {
    c.close();
  }
});

test('before authentication only ApiVersions and SASL requests are served; others close the connection', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const c = await RawClient.connect(port('SASL_PLAINTEXT'));
  const versions = await c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
  assert.equal(versions.errorCode, ErrorCode.NONE);
  await assert.rejects(c.send(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
  await c.closed;
});

test('SaslHandshake v0 then raw tokens (kafka-python and old librdkafka): PLAIN authenticates, a bad password closes', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  for (const [password, ok] of [['alice-secret', true], ['bad', false]] as const) {
    const c = await RawClient.connect(port('SASL_PLAINTEXT'));
    const hs = await c.send(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' });
    assert.equal(hs.errorCode, ErrorCode.NONE);
    const token = Buffer.from(`\0alice\0${password}`);
    const frame = Buffer.alloc(4 + token.length);
    frame.writeInt32BE(token.length, 0);
    token.copy(frame, 4);
    const got: Buffer[] = [];
    c.socket.removeAllListeners('data');
    c.socket.on('data', (b: Buffer) => got.push(b));
    c.socket.write(frame);
    if (ok) {
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(Buffer.concat(got), Buffer.from([0, 0, 0, 0]), 'an empty challenge, length-prefixed');
      c.close();
    } else {
      await c.closed;
    }
  }
});

test('OAUTHBEARER: an expired unsecured token is refused; a valid one gets the session lifetime of its exp', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const expired = new Connection({ host: '127.0.0.1', port: port('SASL_PLAINTEXT'), clientId: 't', sasl: saslAuthenticator({ mechanism: 'oauthbearer', oauthBearerProvider: () => ({ value: unsecuredJwt('alice', Math.floor(Date.now() / 1000) - 3600) }) }) });
  await assert.rejects(expired.connect(), /expired/);
  expired.close();
  const c = await RawClient.connect(port('SASL_PLAINTEXT'));
  try {
    assert.equal((await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' })).errorCode, ErrorCode.NONE);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const res = await c.send(ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from(`n,,\x01auth=Bearer ${unsecuredJwt('alice', exp)}\x01\x01`) });
    assert.equal(res.errorCode, ErrorCode.NONE);
    const lifetime = Number(res.sessionLifetimeMs);
    assert.ok(lifetime > 590_000 && lifetime <= 600_000, `session lifetime ${lifetime}`);
  } finally {
    c.close();
  }
});

test('our client authenticates with each mechanism over SASL_SSL and fails with a wrong password', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const tls = { ca: readFileSync(certs.caCert), checkServerIdentity: () => undefined };
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    const c = new Connection({ host: '127.0.0.1', port: port('SASL_SSL'), clientId: 't', tls, sasl: saslAuthenticator({ mechanism, username: 'alice', password: 'alice-secret' }) });
    await c.connect();
    const meta = await c.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.equal(meta.brokers[0].port, port('SASL_SSL'));
    c.close();
    const bad = new Connection({ host: '127.0.0.1', port: port('SASL_SSL'), clientId: 't', tls, sasl: saslAuthenticator({ mechanism, username: 'alice', password: 'wrong' }) });
    await assert.rejects(bad.connect());
    bad.close();
  }
});

test('kafkajs produces and consumes over SASL_SSL with SCRAM-SHA-256, PLAIN and OAUTHBEARER', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJS;
  const sasls: KafkaJS.SASLOptions[] = [
    { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
    { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
    { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: unsecuredJwt('alice', Math.floor(Date.now() / 1000) + 600) }) },
  ];
  for (const sasl of sasls) {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port('SASL_SSL')}`], clientId: 'kjs', logLevel: logLevel.NOTHING, ssl: { ca: [readFileSync(certs.caCert, 'utf8')], checkServerIdentity: () => undefined }, sasl });
    const topic = `kjs-${sasl.mechanism}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'v1' }, { value: 'v2' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    assert.equal(offsets[0].high, '2');
  }
  const bad = new Kafka({ brokers: [`127.0.0.1:${port('SASL_SSL')}`], clientId: 'kjs', logLevel: logLevel.NOTHING, retry: { retries: 0 }, ssl: { ca: [readFileSync(certs.caCert, 'utf8')], checkServerIdentity: () => undefined }, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'wrong' } });
  const p = bad.producer();
  await assert.rejects(p.connect());
});
