/**
 * SASL around the exchange itself: SCRAM credentials described, deleted and kept across a
 * restart; a session past connections.max.reauth.ms is closed unless re-authenticated (KIP-368);
 * a client that never authenticates is disconnected; random and truncated SASL frames never crash
 * the broker nor authenticate; the TLS principal mapping rules; TLS keystore reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { ApiKey, ErrorCode, encodeRequest } from '@sluice/protocol';
import { Connection, saslAuthenticator } from '@sluice/client';
import { missingPeers, requirePeers } from '@sluice/test-peers';
import { RawClient, startTestBroker, tempDir } from '../helpers.js';
import { PrincipalMapper, rfc2253 } from '../../src/security/tls.js';
import { parseJaasConfig } from '@sluice/client';
import { makeCerts } from './certs.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';
const saslBroker = (extra: Record<string, string | number> = {}, dataDir?: string) =>
  startTestBroker({ listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512', 'sasl.jaas.config': JAAS, ...extra }, dataDir);

function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const salt = randomBytes(16);
  const [len, hash] = mechanism === 1 ? [32, 'sha256'] : [64, 'sha512'];
  return { name, mechanism, iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, len, hash) };
}

test('SCRAM credentials: described without secrets, refused when unacceptable, deleted, and kept across a restart', async () => {
  const dataDir = tempDir();
  let tb = await saslBroker({}, dataDir);
  const plain = () => tb.broker.listeners.find((l) => l.name === 'PLAINTEXT')!.port;
  const sasl = () => tb.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  let c = new Connection({ host: '127.0.0.1', port: plain(), clientId: 'admin' });
  await c.connect();
  const altered = await c.request(ApiKey.AlterUserScramCredentials, {
    deletions: [{ name: 'nobody', mechanism: 1 }],
    upsertions: [upsertion('alice', 1, 'alice-secret', 8192), upsertion('alice', 2, 'alice-secret'), upsertion('bob', 1, 'b', 100), upsertion('carol', 3, 'c')],
  });
  assert.deepEqual(
    altered.results.map((r) => [r.user, r.errorCode]),
    [['nobody', ErrorCode.RESOURCE_NOT_FOUND], ['alice', ErrorCode.NONE], ['bob', ErrorCode.UNACCEPTABLE_CREDENTIAL], ['carol', ErrorCode.UNSUPPORTED_SASL_MECHANISM]],
  );
  const described = await c.request(ApiKey.DescribeUserScramCredentials, { users: null });
  assert.deepEqual(described.results, [{ user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 8192 }, { mechanism: 2, iterations: 4096 }] }]);
  c.close();
  await tb.stop();

  tb = await saslBroker({}, dataDir);
  const scram = new Connection({ host: '127.0.0.1', port: sasl(), clientId: 't', sasl: saslAuthenticator({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }) });
  await scram.connect();
  scram.close();
  c = new Connection({ host: '127.0.0.1', port: plain(), clientId: 'admin' });
  await c.connect();
  const deleted = await c.request(ApiKey.AlterUserScramCredentials, { deletions: [{ name: 'alice', mechanism: 1 }], upsertions: [] });
  assert.equal(deleted.results[0].errorCode, ErrorCode.NONE);
  const one = await c.request(ApiKey.DescribeUserScramCredentials, { users: [{ name: 'alice' }, { name: 'zed' }] });
  assert.deepEqual(one.results.map((r) => [r.user, r.errorCode, r.credentialInfos]), [['alice', 0, [{ mechanism: 2, iterations: 4096 }]], ['zed', ErrorCode.RESOURCE_NOT_FOUND, []]]);
  c.close();
  const gone = new Connection({ host: '127.0.0.1', port: sasl(), clientId: 't', sasl: saslAuthenticator({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }) });
  await assert.rejects(gone.connect());
  gone.close();
  await tb.dispose();
});

async function authenticatePlain(c: RawClient, version: number): Promise<bigint> {
  assert.equal((await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.NONE);
  const res = await c.send(ApiKey.SaslAuthenticate, version, { authBytes: Buffer.from('\0alice\0alice-secret') });
  assert.equal(res.errorCode, ErrorCode.NONE, res.errorMessage ?? '');
  return res.sessionLifetimeMs ?? 0n;
}

const METADATA = { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };

test('connections.max.reauth.ms: the lifetime is returned, re-authentication extends it, an expired session is closed', async () => {
  const tb = await saslBroker({ 'connections.max.reauth.ms': 600 });
  const port = tb.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  try {
    const c = await RawClient.connect(port);
    const lifetime = await authenticatePlain(c, 1);
    assert.ok(lifetime > 0n && lifetime <= 600n, `lifetime ${lifetime}`);
    await c.send(ApiKey.Metadata, 12, METADATA);
    await new Promise((r) => setTimeout(r, 400));
    await authenticatePlain(c, 2); // re-authenticates before the end
    await new Promise((r) => setTimeout(r, 400));
    await c.send(ApiKey.Metadata, 12, METADATA); // 800 ms after the first authentication: still served
    assert.equal(tb.broker.authentication.successfulReauthentications, 1);
    await new Promise((r) => setTimeout(r, 700));
    await assert.rejects(c.send(ApiKey.Metadata, 12, METADATA));
    await c.closed;
  } finally {
    await tb.dispose();
  }
});

test('our client re-authenticates by itself before its session ends, and keeps its connection', async () => {
  const tb = await saslBroker({ 'connections.max.reauth.ms': 500 });
  const port = tb.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  try {
    const c = new Connection({ host: '127.0.0.1', port, clientId: 't', sasl: saslAuthenticator({ mechanism: 'scram-sha-512', username: 'alice', password: 'x' }) });
    await assert.rejects(c.connect()); // no SCRAM user yet
    c.close();
    const plain = new Connection({ host: '127.0.0.1', port, clientId: 't', sasl: saslAuthenticator({ mechanism: 'plain', username: 'alice', password: 'alice-secret' }) });
    await plain.connect();
    let closed = false;
    for (let i = 0; i < 15; i++) {
      await plain.request(ApiKey.Metadata, METADATA);
      closed ||= !plain.isOpen;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(closed, false, 'the connection stayed open');
    assert.ok(tb.broker.authentication.successfulReauthentications >= 2, `re-authentications: ${tb.broker.authentication.successfulReauthentications}`);
    assert.equal(tb.broker.authentication.successfulAuthentications, 1, 'one connection, authenticated once');
    plain.close();
  } finally {
    await tb.dispose();
  }
});

test('a client that does not authenticate in time is disconnected and counted', async () => {
  const tb = await saslBroker({ 'sluice.sasl.authentication.timeout.ms': 300 });
  const port = tb.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  try {
    const c = await RawClient.connect(port);
    await c.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    await c.closed;
    assert.equal(tb.broker.authentication.failedAuthentications, 1);
  } finally {
    await tb.dispose();
  }
});

function frame(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

test('fuzz: random and truncated SASL frames never crash the broker and never authenticate', async () => {
  const tb = await saslBroker({ 'sluice.sasl.authentication.timeout.ms': 2000 });
  const port = tb.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
  let seed = 1234567;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rand(256)));
  const valid = [Buffer.from('n,,n=alice,r=abcdefgh'), Buffer.from('\0alice\0alice-secret'), Buffer.from('n,,\x01auth=Bearer a.b.\x01\x01')];
  try {
    for (let round = 0; round < 150; round++) {
      const mechanism = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI', ''][rand(6)];
      const handshakeVersion = rand(2);
      const frames: Buffer[] = [encodeRequest({ apiKey: ApiKey.SaslHandshake, apiVersion: handshakeVersion, correlationId: round, clientId: 'fuzz' } as never, { mechanism }).subarray(4)];
      for (let i = 0; i < 1 + rand(3); i++) {
        const base = valid[rand(valid.length)];
        const token = rand(3) === 0 ? bytes(rand(300)) : rand(2) === 0 ? base.subarray(0, rand(base.length)) : Buffer.concat([base, bytes(1 + rand(20))]);
        if (handshakeVersion === 0) frames.push(token);
        else {
          const req = encodeRequest({ apiKey: ApiKey.SaslAuthenticate, apiVersion: rand(3), correlationId: round * 10 + i, clientId: 'fuzz' } as never, { authBytes: token }).subarray(4);
          // Sometimes cut the request itself short, or flip bytes in it.
          frames.push(rand(4) === 0 ? req.subarray(0, rand(req.length)) : rand(4) === 0 ? Buffer.from(req.map((b) => (rand(10) === 0 ? rand(256) : b))) : req);
        }
        // After the SASL exchange (whatever its state), a request that needs authentication.
      }
      frames.push(encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 999, clientId: 'fuzz' } as never, METADATA).subarray(4));
      const received = await new Promise<Buffer>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port });
        const got: Buffer[] = [];
        s.on('data', (b: Buffer) => got.push(b));
        s.on('error', () => {});
        s.on('close', () => resolve(Buffer.concat(got)));
        s.write(Buffer.concat(frames.map(frame)));
        setTimeout(() => s.destroy(), 300);
      });
      // The Metadata request (correlation id 999) was never answered: nothing authenticated.
      for (let at = 0; at + 8 <= received.length; ) {
        const size = received.readInt32BE(at);
        assert.notEqual(size >= 4 ? received.readInt32BE(at + 4) : -1, 999, `round ${round}: an unauthenticated Metadata request was answered`);
        at += 4 + Math.max(0, size);
      }
    }
    assert.equal(tb.broker.authentication.successfulAuthentications, 0);
    // Still serving: a real client authenticates.
    const c = await RawClient.connect(port);
    await authenticatePlain(c, 1);
    await c.send(ApiKey.Metadata, 12, METADATA);
    c.close();
  } finally {
    await tb.dispose();
  }
});

test('ssl.principal.mapping.rules: DEFAULT and RULE:pattern/replacement/[LU], as Kafka maps subject DNs', () => {
  assert.equal(rfc2253('C=US\nO=Acme\nOU=Eng\nCN=alice'), 'CN=alice,OU=Eng,O=Acme,C=US');
  assert.equal(rfc2253('CN=a\\,b'), 'CN=a\\\\\\,b'.replace(/\\\\\\\\/g, '\\\\'));
  assert.equal(new PrincipalMapper('DEFAULT').map('CN=alice,OU=Eng,O=Acme,C=US'), 'CN=alice,OU=Eng,O=Acme,C=US');
  const rules = new PrincipalMapper('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),C=(.*?)$/$1@$2/L,DEFAULT');
  assert.equal(rules.map('CN=kafka-svc,OU=ServiceUsers,O=Acme,C=US'), 'kafka-svc');
  assert.equal(rules.map('CN=Alice,OU=Eng,O=Acme,C=US'), 'alice@eng');
  assert.equal(rules.map('CN=x'), 'CN=x');
  assert.equal(new PrincipalMapper('RULE:^CN=([a-z]+)$/$1/U').map('CN=bob'), 'BOB');
  assert.throws(() => new PrincipalMapper('RULE:broken'));
  const jaas = parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="a \\"quoted\\" secret";');
  assert.deepEqual([...jaas[0].options], [['username', 'admin'], ['password', 'a "quoted" secret']]);
  assert.throws(() => parseJaasConfig('PlainLoginModule required username="x"'), /must end with/);
});

test('TLS keystore reload: a changed keystore file is used for new connections without a restart', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  if (missingPeers(['openssl']).length) return;
  const first = makeCerts();
  const second = makeCerts();
  const keystore = join(tempDir('sluice-ks-'), 'broker.pem');
  copyFileSync(first.brokerPem, keystore);
  const tb = await startTestBroker({ listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': keystore });
  const issuerOf = () =>
    new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tb.broker.port, rejectUnauthorized: false });
      s.on('secureConnect', () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.destroy();
      });
      s.on('error', reject);
      s.on('close', () => reject(new Error('closed before the handshake completed')));
    });
  try {
    const before = await issuerOf();
    copyFileSync(second.brokerPem, keystore);
    const later = new Date(Date.now() + 5000);
    utimesSync(keystore, later, later);
    const expected = new (await import('node:crypto')).X509Certificate(readFileSync(second.brokerCert)).fingerprint256;
    let now = before;
    for (let i = 0; i < 40 && now !== expected; i++) {
      await new Promise((r) => setTimeout(r, 250));
      now = await issuerOf();
    }
    assert.notEqual(before, expected);
    assert.equal(now, expected);
  } finally {
    await tb.dispose();
  }
});
