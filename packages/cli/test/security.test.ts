/**
 * The tools against secured listeners: SCRAM users managed with `sluice configs --entity-type
 * users` (kafka-configs.sh's syntax), then used through `--command-config` client properties
 * (security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location) over SASL_SSL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestCertificates, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from './helpers.js';

test('sluice configs manages SCRAM users and the tools connect with --command-config over SASL_SSL', async (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const certs = makeTestCertificates();
  const tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerPem,
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,PLAIN',
    'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
  });
  const plain = tb.bootstrap;
  const secure = `127.0.0.1:${tb.broker.listeners.find((l) => l.name === 'SASL_SSL')!.port}`;
  const props = (mechanism: string, user: string, password: string) => {
    const file = join(certs.dir, `${user}-${password}.properties`);
    const module = mechanism === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    writeFileSync(file, [`security.protocol=SASL_SSL`, `sasl.mechanism=${mechanism}`, `sasl.jaas.config=${module} required username="${user}" password="${password}";`, `ssl.truststore.type=PEM`, `ssl.truststore.location=${certs.caCert}`, ''].join('\n'));
    return file;
  };
  try {
    const added = await run('configs', ['--bootstrap-server', plain, '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(added.code, 0, added.stderr);
    const described = await run('configs', ['--bootstrap-server', plain, '--describe', '--entity-type', 'users']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192/);
    assert.doesNotMatch(described.stdout, /alice-secret/);

    const created = await run('topics', ['--bootstrap-server', secure, '--command-config', props('SCRAM-SHA-256', 'alice', 'alice-secret'), '--create', '--topic', 'secured', '--partitions', '1']);
    assert.equal(created.code, 0, created.stderr);
    const listed = await run('topics', ['--bootstrap-server', secure, '--command-config', props('PLAIN', 'admin', 'admin-secret'), '--list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^secured$/m);
    const refused = await run('topics', ['--bootstrap-server', secure, '--command-config', props('SCRAM-SHA-256', 'alice', 'wrong'), '--list']);
    assert.notEqual(refused.code, 0);

    const deleted = await run('configs', ['--bootstrap-server', plain, '--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await run('topics', ['--bootstrap-server', secure, '--command-config', props('SCRAM-SHA-256', 'alice', 'alice-secret'), '--list']);
    assert.notEqual(gone.code, 0);
  } finally {
    await tb.stop();
  }
});
