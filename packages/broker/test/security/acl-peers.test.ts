/**
 * Real clients against an authorizing broker: kafka-python's KafkaAdminClient creates, describes
 * (LITERAL, PREFIXED, MATCH) and deletes ACLs; kcat (librdkafka) is refused with
 * TOPIC_AUTHORIZATION_FAILED when User:ANONYMOUS may not write or read, and succeeds once allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { kcatPath, pythonPath, requirePeers } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';
import { AclOperation as Op, AclPermissionType as Perm, PatternType, ResourceType as RT, type AclBinding } from '../../src/security/acls.js';

const AUTHORIZER = { 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', 'num.partitions': 1 };
const anonymous = (resourceType: number, resourceName: string, operation: number): AclBinding => ({
  resourceType,
  resourceName,
  patternType: PatternType.LITERAL,
  principal: 'User:ANONYMOUS',
  host: '*',
  operation,
  permissionType: Perm.ALLOW,
});

test('kafka-python AdminClient: create, describe and delete ACLs', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'python3-kafka')) return;
  const tb = await startTestBroker(AUTHORIZER);
  t.after(() => tb.dispose());
  await tb.broker.context.metadata.updateAcls([anonymous(RT.CLUSTER, 'kafka-cluster', Op.ALL)], []);
  const script = fileURLToPath(new URL('../../../test/clients/kafka_python_acls.py', import.meta.url));
  const result = await run(pythonPath(), [script, tb.bootstrap], { timeoutMs: 50_000 });
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /kafka-python acls: ok/);
});

test('kcat: TOPIC_AUTHORIZATION_FAILED when denied, delivered once an ACL allows', { timeout: 60_000 }, async (t) => {
  if (!requirePeers(t, 'kcat')) return;
  const tb = await startTestBroker(AUTHORIZER);
  t.after(() => tb.dispose());
  await tb.broker.context.topics.create({ name: 'guarded', numPartitions: 1, replicationFactor: 1, assignments: [], configs: {}, validateOnly: false });
  const kcat = kcatPath();
  const produce = () => run(kcat, ['-b', tb.bootstrap, '-P', '-t', 'guarded', '-X', 'message.timeout.ms=5000'], { input: 'one\ntwo\n', timeoutMs: 30_000 });
  const consume = () => run(kcat, ['-b', tb.bootstrap, '-C', '-t', 'guarded', '-o', 'beginning', '-e', '-q', '-X', 'topic.metadata.refresh.interval.ms=1000'], { timeoutMs: 30_000 });

  const denied = await produce();
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/i, denied.stderr);
  const deniedRead = await consume();
  assert.notEqual(deniedRead.code, 0);
  assert.match(deniedRead.stderr, /Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/i, deniedRead.stderr);
  assert.equal(deniedRead.stdout, '');

  await tb.broker.context.metadata.updateAcls([anonymous(RT.TOPIC, 'guarded', Op.WRITE), anonymous(RT.TOPIC, 'guarded', Op.READ)], []);
  const allowed = await produce();
  assert.equal(allowed.code, 0, allowed.stderr);
  const read = await consume();
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'one\ntwo\n');
});
