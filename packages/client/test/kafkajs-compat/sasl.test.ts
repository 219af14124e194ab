/**
 * The KafkaJS facade takes kafkajs's `sasl` option: PLAIN, SCRAM-SHA-512 and OAUTHBEARER against a
 * broker whose only listener is SASL_PLAINTEXT; a wrong password fails to connect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ApiKey } from '@sluice/protocol';
import { Connection, Kafka, saslAuthenticator } from '../../src/index.js';
import { startTestBroker, uniqueTopic } from '../helpers.js';

test('KafkaJS facade: produce and read offsets over SASL with plain, scram-sha-512 and oauthbearer', async () => {
  const broker = await startTestBroker({
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512,OAUTHBEARER',
    'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
  });
  try {
    const admin = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 't', sasl: saslAuthenticator({ mechanism: 'plain', username: 'admin', password: 'admin-secret' }) });
    await admin.connect();
    const salt = randomBytes(16);
    await admin.request(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'alice', mechanism: 2, iterations: 4096, salt, saltedPassword: pbkdf2Sync('alice-secret', salt, 4096, 64, 'sha512') }] });
    admin.close();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const sasls = [
      { mechanism: 'plain', username: 'admin', password: 'admin-secret' },
      { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' },
      { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: `${b64({ alg: 'none' })}.${b64({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 })}.` }) },
    ];
    for (const sasl of sasls) {
      const kafka = new Kafka({ clientId: 'sasl', brokers: [broker.bootstrap], sasl });
      const topic = uniqueTopic();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.disconnect();
      const a = kafka.admin();
      await a.connect();
      assert.equal((await a.fetchTopicOffsets(topic))[0].high, '2', sasl.mechanism);
      await a.disconnect();
    }
    const bad = new Kafka({ clientId: 'sasl', brokers: [broker.bootstrap], retry: { retries: 0 }, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'nope' } });
    const p = bad.producer();
    await assert.rejects(p.connect());
    assert.throws(() => new Kafka({ clientId: 'x', brokers: [broker.bootstrap], sasl: { mechanism: 'gssapi' } }), /not supported/);
  } finally {
    await broker.stop();
  }
});
