/**
 * OAUTHBEARER with JWT validation against a JWKS endpoint (expected audience and issuer), and
 * brokers replicating to each other over a SASL_PLAINTEXT inter-broker listener with their own
 * SCRAM credentials while clients use a PLAINTEXT listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ApiKey, ErrorCode, buildRecordBatch } from '@sluice/protocol';
import { Connection, saslAuthenticator } from '@sluice/client';
import { InMemoryClusterMetadata, startBroker, type RunningBroker } from '../../src/index.js';
import { startTestBroker, tempDir } from '../helpers.js';

test('OAUTHBEARER validates JWTs against the JWKS endpoint, audience and issuer', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const other = await generateKeyPair('RS256');
  const http = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/jwks`;
  const tb = await startTestBroker({
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'OAUTHBEARER',
    'sasl.oauthbearer.jwks.endpoint.url': url,
    'sasl.oauthbearer.expected.audience': 'sluice',
    'sasl.oauthbearer.expected.issuer': 'https://issuer.test',
  });
  const token = (key: Parameters<SignJWT['sign']>[0], claims: { aud?: string; iss?: string; exp?: number }) =>
    new SignJWT({ sub: 'svc-orders' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setAudience(claims.aud ?? 'sluice')
      .setIssuer(claims.iss ?? 'https://issuer.test')
      .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(key);
  const tryToken = async (value: string) => {
    const c = new Connection({ host: '127.0.0.1', port: tb.broker.port, clientId: 't', sasl: saslAuthenticator({ mechanism: 'oauthbearer', oauthBearerProvider: () => ({ value }) }) });
    try {
      await c.connect();
      return true;
    } catch {
      return false;
    } finally {
      c.close();
    }
  };
  try {
    assert.equal(await tryToken(await token(privateKey, {})), true);
    assert.equal(await tryToken(await token(privateKey, { aud: 'someone-else' })), false);
    assert.equal(await tryToken(await token(privateKey, { iss: 'https://evil.test' })), false);
    assert.equal(await tryToken(await token(privateKey, { exp: Math.floor(Date.now() / 1000) - 600 })), false);
    assert.equal(await tryToken(await token(other.privateKey, {})), false, 'signed by a key the JWKS does not hold');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    assert.equal(await tryToken(`${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })}.`), false, 'unsecured tokens are refused once a JWKS is configured');
    assert.equal(tb.broker.authentication.successfulAuthentications, 1);
  } finally {
    await tb.dispose();
    http.close();
  }
});

test('brokers replicate over a SASL_PLAINTEXT inter-broker listener with their own SCRAM credentials', async () => {
  const cluster = new InMemoryClusterMetadata();
  const brokers: RunningBroker[] = [];
  const common = {
    host: '127.0.0.1',
    port: 0,
    listeners: 'CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
    'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.internal.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";',
    logSink: null,
  };
  try {
    for (const nodeId of [1, 2]) brokers.push(await startBroker({ ...common, dataDir: tempDir(), metadataStore: cluster.storeFor(nodeId), nodeId }));
    const client = (b: RunningBroker) => b.listeners.find((l) => l.name === 'CLIENT')!;
    const c = new Connection({ host: '127.0.0.1', port: client(brokers[0]).port, clientId: 't' });
    await c.connect();
    // The brokers' own credential, created over the client listener.
    const { pbkdf2Sync, randomBytes } = await import('node:crypto');
    const salt = randomBytes(16);
    const alter = await c.request(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'broker', mechanism: 2, iterations: 4096, salt, saltedPassword: pbkdf2Sync('broker-secret', salt, 4096, 64, 'sha512') }] });
    assert.equal(alter.results[0].errorCode, ErrorCode.NONE);
    const created = await c.request(ApiKey.CreateTopics, { topics: [{ name: 'replicated', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE, created.topics[0].errorMessage ?? '');
    // Metadata on the CLIENT listener names both brokers' CLIENT endpoints.
    const meta = await c.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(meta.brokers.map((b) => b.port).sort(), brokers.map((b) => client(b).port).sort());
    const leaderId = meta.topics.find((t) => t.name === 'replicated')!.partitions[0].leaderId;
    const leader = brokers[leaderId - 1];
    const follower = brokers[2 - leaderId];
    const lc = leader === brokers[0] ? c : new Connection({ host: '127.0.0.1', port: client(leader).port, clientId: 't' });
    const records = buildRecordBatch([{ value: Buffer.from('v') }, { value: Buffer.from('w') }]);
    const produced = await lc.request(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'replicated', partitionData: [{ index: 0, records }] }] });
    assert.equal(produced.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    // acks=all answered: the follower fetched over the SASL listener.
    let followerEnd = -1n;
    for (let i = 0; i < 50 && followerEnd !== 2n; i++) {
      followerEnd = follower.context.replicaManager.getPartition('replicated', 0)?.logEndOffset ?? -1n;
      if (followerEnd !== 2n) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(followerEnd, 2n);
    assert.ok(leader.authentication.successfulAuthentications >= 1, 'the follower authenticated to the leader');
    if (lc !== c) lc.close();
    c.close();
  } finally {
    for (const b of brokers.reverse()) await b.stop();
  }
});
