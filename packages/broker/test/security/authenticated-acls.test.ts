/**
 * Authentication meets authorization: the principal SASL and TLS give a connection is the one the
 * ACL authorizer checks. kcat as User:alice (SASL PLAIN) writes where an ACL allows alice and is
 * refused where it does not; User:bob is refused; a TLS client certificate mapped to User:alice by
 * ssl.principal.mapping.rules gets alice's rights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kcatPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';
import { AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT, type AclBinding } from '../../src/security/acls.js';
import { makeCerts } from './certs.js';

const allow = (principal: string, resourceType: number, resourceName: string, operation: number): AclBinding => ({
  resourceType,
  resourceName,
  patternType: PatternType.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: Perm.ALLOW,
});

test('ACLs apply to the SASL and TLS principals', { timeout: 90_000 }, async (t) => {
  if (!requirePeers(t, 'kcat', 'openssl')) return;
  const certs = makeCerts();
  const tb = await startTestBroker({
    'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer',
    'super.users': 'User:admin',
    listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL',
    'sasl.enabled.mechanisms': 'PLAIN',
    'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob-secret";',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerPem,
    'ssl.truststore.location': certs.caCert,
    'ssl.client.auth': 'required',
    'ssl.principal.mapping.rules': 'RULE:^CN=([a-z]+),OU=.*$/$1/L,DEFAULT',
  });
  t.after(() => tb.dispose());
  await tb.broker.context.topics.create({ name: 'alice-topic', numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  await tb.broker.context.topics.create({ name: 'other-topic', numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  await tb.broker.context.metadata.updateAcls([allow('User:alice', RT.TOPIC, 'alice-topic', Op.WRITE), allow('User:alice', RT.TOPIC, 'alice-topic', Op.READ)], []);
  const port = (name: string) => tb.broker.listeners.find((l) => l.name === name)!.port;
  const sasl = (user: string) => ['-b', `127.0.0.1:${port('SASL_PLAINTEXT')}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${user}-secret`];
  const mtls = ['-b', `127.0.0.1:${port('MTLS')}`, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.caCert}`, '-X', 'ssl.endpoint.identification.algorithm=none', '-X', `ssl.certificate.location=${certs.clientCert}`, '-X', `ssl.key.location=${certs.clientKey}`];
  const produce = (args: string[], topic: string) => run(kcatPath(), [...args, '-P', '-t', topic, '-X', 'message.timeout.ms=5000'], { input: 'm\n', timeoutMs: 30_000 });

  const alice = await produce(sasl('alice'), 'alice-topic');
  assert.equal(alice.code, 0, alice.stderr);
  const aliceElsewhere = await produce(sasl('alice'), 'other-topic');
  assert.notEqual(aliceElsewhere.code, 0);
  assert.match(aliceElsewhere.stderr, /authorization failed/i);
  const bob = await produce(sasl('bob'), 'alice-topic');
  assert.notEqual(bob.code, 0);
  assert.match(bob.stderr, /authorization failed/i);
  const anonymous = await produce(['-b', `127.0.0.1:${port('PLAINTEXT')}`], 'alice-topic');
  assert.notEqual(anonymous.code, 0);
  // The client certificate's DN CN=alice,OU=Eng,O=Acme,C=US maps to User:alice.
  const cert = await produce(mtls, 'alice-topic');
  assert.equal(cert.code, 0, cert.stderr);
  const read = await run(kcatPath(), [...mtls, '-C', '-t', 'alice-topic', '-o', 'beginning', '-e', '-q'], { timeoutMs: 30_000 });
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'm\nm\n');
});
