/**
 * kafka-python and confluent-kafka (Debian, /usr/bin/python3) over SSL, SASL_PLAINTEXT and
 * SASL_SSL with PLAIN and both SCRAM mechanisms: produce three records and read them back; a
 * wrong password is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { Connection } from '@sluice/client';
import { missingPeers, pythonPath, requirePeers, type Peer } from '@sluice/test-peers';
import { run, startTestBroker, type TestBroker } from '../helpers.js';
import { makeCerts, type TestCerts } from './certs.js';

const SCRIPT = fileURLToPath(new URL('../../../test/clients/secure_clients.py', import.meta.url));
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';
let certs: TestCerts;
let tb: TestBroker;
const port = (name: string) => tb.broker.listeners.find((l) => l.name === name)!.port;

before(async () => {
  if (missingPeers(['openssl']).length) return;
  certs = makeCerts();
  tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerPem,
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.jaas.config': JAAS,
  });
  const c = new Connection({ host: '127.0.0.1', port: port('PLAINTEXT'), clientId: 'admin' });
  await c.connect();
  for (const [mechanism, hash, len] of [[1, 'sha256', 32], [2, 'sha512', 64]] as const) {
    const salt = randomBytes(16);
    const res = await c.request(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'alice', mechanism, iterations: 4096, salt, saltedPassword: pbkdf2Sync('alice-secret', salt, 4096, len, hash) }] });
    assert.equal(res.results[0].errorCode, ErrorCode.NONE);
  }
  c.close();
});

after(async () => {
  await tb?.dispose();
});

const CLIENTS: [string, Peer][] = [
  ['kafka-python', 'python3-kafka'],
  ['confluent-kafka', 'python3-confluent-kafka'],
];
const MODES: [string, string, string][] = [
  ['SSL', 'SSL', '-'],
  ['SASL_PLAINTEXT', 'SASL_PLAINTEXT', 'PLAIN'],
  ['SASL_SSL', 'SASL_SSL', 'SCRAM-SHA-256'],
  ['SASL_SSL', 'SASL_SSL', 'SCRAM-SHA-512'],
];

for (const [client, peer] of CLIENTS) {
  for (const [listener, protocol, mechanism] of MODES) {
    test(`${client} over ${protocol}${mechanism === '-' ? '' : ` ${mechanism}`}`, async (t) => {
      if (!requirePeers(t, peer, 'openssl')) return;
      const topic = `py-${client}-${protocol}-${mechanism}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      const r = await run(pythonPath(), [SCRIPT, client, `127.0.0.1:${port(listener)}`, protocol, mechanism, 'alice', 'alice-secret', certs.caCert, topic], { timeoutMs: 40_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: ok/);
    });
  }
  test(`${client} is refused with a wrong SCRAM password`, async (t) => {
    if (!requirePeers(t, peer, 'openssl')) return;
    const r = await run(pythonPath(), [SCRIPT, client, `127.0.0.1:${port('SASL_SSL')}`, 'SASL_SSL', 'SCRAM-SHA-256', 'alice', 'wrong', certs.caCert, 'py-refused', 'expect-fail'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /refused as expected/);
  });
}
