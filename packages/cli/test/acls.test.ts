/**
 * `sluice acls` (kafka-acls.sh flags) against an authorizing broker, and `sluice configs` client
 * quotas (users, clients, defaults) against the broker's DescribeClientQuotas/AlterClientQuotas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
before(async () => {
  tb = await startTestBroker({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' });
  // The principal of every connection until authentication lands; the one ACL made outside the tool.
  await tb.broker.context.metadata.updateAcls(
    [{ resourceType: 4, resourceName: 'kafka-cluster', patternType: 3, principal: 'User:ANONYMOUS', host: '*', operation: 2, permissionType: 3 }],
    [],
  );
});
after(async () => {
  await tb.stop();
});
const bs = (): string[] => ['--bootstrap-server', tb.bootstrap];

interface JsonAcl {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

async function listJson(...args: string[]): Promise<string[]> {
  const r = await run('acls', [...bs(), '--list', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as JsonAcl[]).map((a) => `${a.resourceType}:${a.resourceName}:${a.patternType} ${a.principal}@${a.host} ${a.permissionType} ${a.operation}`);
}

test('acls: --add with operations, hosts, deny and prefixed patterns; --list as a table and JSON', async () => {
  const added = await run('acls', [...bs(), '--add', '--allow-principal', 'User:alice', '--allow-principal', 'User:bob', '--operation', 'Read', '--operation', 'describe', '--topic', 'orders']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /RESOURCE TYPE\s+NAME\s+PATTERN\s+PRINCIPAL\s+HOST\s+OPERATION\s+PERMISSION/);
  assert.match(added.stdout, /Topic\s+orders\s+LITERAL\s+User:alice\s+\*\s+Read\s+Allow/);
  const denied = await run('acls', [...bs(), '--add', '--deny-principal', 'User:mallory', '--deny-host', '10.0.0.66', '--topic', 'pay-', '--resource-pattern-type', 'prefixed']);
  assert.equal(denied.code, 0, denied.stderr);

  assert.deepEqual(await listJson('--topic', 'orders'), [
    'Topic:orders:LITERAL User:alice@* Allow Read',
    'Topic:orders:LITERAL User:alice@* Allow Describe',
    'Topic:orders:LITERAL User:bob@* Allow Read',
    'Topic:orders:LITERAL User:bob@* Allow Describe',
  ]);
  // MATCH: what applies to topic pay-eu.
  assert.deepEqual(await listJson('--topic', 'pay-eu', '--resource-pattern-type', 'match'), ['Topic:pay-:PREFIXED User:mallory@10.0.0.66 Deny All']);
  assert.deepEqual(await listJson('--principal', 'User:bob'), ['Topic:orders:LITERAL User:bob@* Allow Read', 'Topic:orders:LITERAL User:bob@* Allow Describe']);
  const table = await run('acls', [...bs(), '--list']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /Cluster\s+kafka-cluster\s+LITERAL\s+User:ANONYMOUS\s+\*\s+All\s+Allow/);
});

test('acls: --producer / --consumer shortcuts, --idempotent, and --remove (needs --force)', async () => {
  const producer = await run('acls', [...bs(), '--add', '--allow-principal', 'User:prod', '--producer', '--topic', 'events', '--transactional-id', 'tx', '--idempotent']);
  assert.equal(producer.code, 0, producer.stderr);
  const consumer = await run('acls', [...bs(), '--add', '--allow-principal', 'User:cons', '--consumer', '--topic', 'events', '--group', 'readers']);
  assert.equal(consumer.code, 0, consumer.stderr);
  assert.deepEqual(await listJson('--principal', 'User:prod'), [
    'Topic:events:LITERAL User:prod@* Allow Write',
    'Topic:events:LITERAL User:prod@* Allow Create',
    'Topic:events:LITERAL User:prod@* Allow Describe',
    'Cluster:kafka-cluster:LITERAL User:prod@* Allow IdempotentWrite',
    'TransactionalId:tx:LITERAL User:prod@* Allow Write',
    'TransactionalId:tx:LITERAL User:prod@* Allow Describe',
  ]);
  assert.deepEqual(await listJson('--principal', 'User:cons'), ['Topic:events:LITERAL User:cons@* Allow Read', 'Topic:events:LITERAL User:cons@* Allow Describe', 'Group:readers:LITERAL User:cons@* Allow Read']);

  const unforced = await run('acls', [...bs(), '--remove', '--topic', 'events']);
  assert.equal(unforced.code, 2);
  assert.match(unforced.stderr, /--force/);
  // One binding by its principal and operation, then every ACL of the resource.
  const one = await run('acls', [...bs(), '--remove', '--force', '--allow-principal', 'User:cons', '--operation', 'Read', '--topic', 'events']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /Removed ACLs:\n/);
  assert.deepEqual(await listJson('--principal', 'User:cons', '--topic', 'events'), ['Topic:events:LITERAL User:cons@* Allow Describe']);
  const all = await run('acls', [...bs(), '--remove', '--force', '--topic', 'events']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(await listJson('--topic', 'events'), []);
});

test('acls: usage errors are clear', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--add', '--topic', 't'], /--allow-principal or --deny-principal/],
    [['--add', '--allow-principal', 'alice', '--topic', 't'], /Type:name/],
    [['--add', '--allow-principal', 'User:a', '--operation', 'Fly', '--topic', 't'], /unknown --operation "Fly"/],
    [['--add', '--allow-principal', 'User:a', '--consumer', '--topic', 't'], /--consumer needs --group/],
    [['--add', '--allow-principal', 'User:a', '--topic', 't', '--resource-pattern-type', 'match'], /LITERAL or PREFIXED/],
    [['--add', '--list'], /choose one action/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run('acls', [...bs(), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const help = await run('acls', ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--allow-principal/);
});

test('configs: client quotas of users, clients and their defaults', async () => {
  const alter = (...args: string[]) => run('configs', [...bs(), '--alter', ...args]);
  let r = await alter('--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'producer_byte_rate=1024,consumer_byte_rate=2048');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Completed updating config for user alice.\n');
  r = await alter('--entity-type', 'clients', '--entity-default', '--add-config', 'request_percentage=50');
  assert.equal(r.code, 0, r.stderr);
  r = await alter('--entity-type', 'users', '--entity-name', 'alice', '--delete-config', 'consumer_byte_rate');
  assert.equal(r.code, 0, r.stderr);
  const user = await run('configs', [...bs(), '--describe', '--entity-type', 'users', '--entity-name', 'alice']);
  assert.equal(user.code, 0, user.stderr);
  assert.equal(user.stdout, 'Quota configs for user=alice are producer_byte_rate=1024\n');
  const defaults = await run('configs', [...bs(), '--describe', '--entity-type', 'clients', '--entity-default']);
  assert.equal(defaults.stdout, 'Quota configs for client-id=<default> are request_percentage=50\n');
  const bad = await alter('--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'bogus_rate=1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /bogus_rate/);
});
