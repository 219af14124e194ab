/**
 * The authorizer decided directly, as a matrix of (principal, host, operation, resource) against
 * Kafka's rules: literal, wildcard and prefixed resources, User:* and host matching, DENY winning,
 * the implied operations, super.users, allow.everyone.if.no.acl.found, authorizeByResourceType and
 * the cache dropping decisions when the ACLs change. Also the binding filters of the ACL APIs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclAuthorizer, aclHost, parseSuperUsers, type Requester } from '../../src/security/acl-authorizer.js';
import {
  aclBindingProblem,
  AclOperation as Op,
  AclPermissionType as Perm,
  filterMatches,
  PatternType,
  ResourceType as RT,
  type AclBinding,
} from '../../src/security/acls.js';
import { ANONYMOUS, parsePrincipal } from '../../src/security/principal.js';

const alice: Requester = { principal: parsePrincipal('User:alice'), remoteAddress: '10.0.0.1' };
const aliceElsewhere: Requester = { principal: parsePrincipal('User:alice'), remoteAddress: '10.0.0.2' };
const bob: Requester = { principal: parsePrincipal('User:bob'), remoteAddress: '10.0.0.1' };
const anon: Requester = { principal: ANONYMOUS, remoteAddress: '::ffff:127.0.0.1' };
const admin: Requester = { principal: parsePrincipal('User:admin'), remoteAddress: '10.0.0.9' };

function acl(resourceType: number, resourceName: string, principal: string, operation: number, permissionType: number = Perm.ALLOW, patternType: number = PatternType.LITERAL, host = '*'): AclBinding {
  return { resourceType, resourceName, patternType, principal, host, operation, permissionType };
}

function authorizer(acls: AclBinding[], options: { superUsers?: string; allowIfNoAcl?: boolean } = {}): { az: AclAuthorizer; acls: AclBinding[] } {
  const state = { acls };
  const az = new AclAuthorizer({ superUsers: options.superUsers ?? 'User:admin', allowEveryoneIfNoAclFound: options.allowIfNoAcl ?? false, acls: () => state.acls });
  return { az, acls: state.acls };
}

test('the authorization matrix: literal, wildcard and prefixed resources, principals, hosts, DENY over ALLOW, implications', () => {
  const { az } = authorizer([
    acl(RT.TOPIC, 'orders', 'User:alice', Op.WRITE),
    acl(RT.TOPIC, 'pay-', 'User:alice', Op.READ, Perm.ALLOW, PatternType.PREFIXED),
    acl(RT.TOPIC, 'pay-secret', 'User:alice', Op.ALL, Perm.DENY),
    acl(RT.TOPIC, 'public', 'User:*', Op.READ),
    acl(RT.TOPIC, 'hosted', 'User:alice', Op.READ, Perm.ALLOW, PatternType.LITERAL, '10.0.0.1'),
    acl(RT.TOPIC, '*', 'User:bob', Op.DESCRIBE),
    acl(RT.TOPIC, 'conf', 'User:alice', Op.ALTER_CONFIGS),
    acl(RT.TOPIC, 'every', 'User:alice', Op.ALL),
    acl(RT.TOPIC, 'every', 'User:alice', Op.DELETE, Perm.DENY),
    acl(RT.GROUP, 'g1', 'User:alice', Op.READ),
    acl(RT.CLUSTER, 'kafka-cluster', 'User:alice', Op.IDEMPOTENT_WRITE),
    acl(RT.TRANSACTIONAL_ID, 'tx-', 'User:alice', Op.WRITE, Perm.ALLOW, PatternType.PREFIXED),
    acl(RT.TOPIC, 'anon-', 'User:ANONYMOUS', Op.WRITE, Perm.ALLOW, PatternType.PREFIXED, '127.0.0.1'),
  ]);
  const cases: [Requester, number, number, string, boolean, string][] = [
    [alice, Op.WRITE, RT.TOPIC, 'orders', true, 'literal allow'],
    [alice, Op.DESCRIBE, RT.TOPIC, 'orders', true, 'Write implies Describe'],
    [alice, Op.READ, RT.TOPIC, 'orders', false, 'Write does not imply Read'],
    [bob, Op.WRITE, RT.TOPIC, 'orders', false, 'another principal'],
    [alice, Op.WRITE, RT.TOPIC, 'orders2', false, 'no ACL applies: denied by default'],
    [alice, Op.READ, RT.TOPIC, 'pay-eu', true, 'prefixed allow'],
    [alice, Op.READ, RT.TOPIC, 'pay', false, 'shorter than the prefix'],
    [alice, Op.READ, RT.TOPIC, 'pay-secret', false, 'literal DENY beats prefixed ALLOW'],
    [alice, Op.DESCRIBE, RT.TOPIC, 'pay-secret', false, 'DENY All denies Describe'],
    [bob, Op.READ, RT.TOPIC, 'public', true, 'User:* matches bob'],
    [anon, Op.READ, RT.TOPIC, 'public', true, 'User:* matches ANONYMOUS'],
    [alice, Op.READ, RT.TOPIC, 'hosted', true, 'host matches'],
    [aliceElsewhere, Op.READ, RT.TOPIC, 'hosted', false, 'other host'],
    [bob, Op.DESCRIBE, RT.TOPIC, 'anything', true, 'wildcard resource name'],
    [bob, Op.READ, RT.TOPIC, 'anything', false, 'wildcard grants only its operation'],
    [alice, Op.DESCRIBE_CONFIGS, RT.TOPIC, 'conf', true, 'AlterConfigs implies DescribeConfigs'],
    [alice, Op.DESCRIBE, RT.TOPIC, 'conf', false, 'AlterConfigs does not imply Describe'],
    [alice, Op.CREATE, RT.TOPIC, 'every', true, 'All grants Create'],
    [alice, Op.DELETE, RT.TOPIC, 'every', false, 'DENY Delete beats ALLOW All'],
    [alice, Op.READ, RT.GROUP, 'g1', true, 'group Read'],
    [alice, Op.DESCRIBE, RT.GROUP, 'g1', true, 'group Read implies Describe'],
    [alice, Op.DELETE, RT.GROUP, 'g1', false, 'group Delete not granted'],
    [alice, Op.READ, RT.TOPIC, 'g1', false, 'resource types are separate'],
    [alice, Op.IDEMPOTENT_WRITE, RT.CLUSTER, 'kafka-cluster', true, 'cluster IdempotentWrite'],
    [alice, Op.ALTER, RT.CLUSTER, 'kafka-cluster', false, 'cluster Alter not granted'],
    [alice, Op.WRITE, RT.TRANSACTIONAL_ID, 'tx-1', true, 'prefixed transactional id'],
    [alice, Op.DESCRIBE, RT.TRANSACTIONAL_ID, 'tx-1', true, 'transactional id Write implies Describe'],
    [bob, Op.WRITE, RT.TRANSACTIONAL_ID, 'tx-1', false, 'transactional id of another principal'],
    [anon, Op.WRITE, RT.TOPIC, 'anon-1', true, 'ANONYMOUS from an IPv4-mapped address matches its IPv4 host'],
    [admin, Op.DELETE, RT.TOPIC, 'pay-secret', true, 'super user'],
    [admin, Op.CLUSTER_ACTION, RT.CLUSTER, 'kafka-cluster', true, 'super user on the cluster'],
  ];
  for (const [who, op, type, name, expected, why] of cases) {
    assert.equal(az.authorize(who, op, type, name), expected, `${why}: ${who.principal.name} op ${op} on ${type}:${name}`);
    // Cached answers are the same.
    assert.equal(az.authorize(who, op, type, name), expected, `${why} (cached)`);
  }
});

test('allow.everyone.if.no.acl.found opens only resources no ACL applies to', () => {
  const { az } = authorizer([acl(RT.TOPIC, 'closed', 'User:bob', Op.READ)], { allowIfNoAcl: true });
  assert.equal(az.authorize(alice, Op.READ, RT.TOPIC, 'open'), true);
  assert.equal(az.authorize(alice, Op.READ, RT.TOPIC, 'closed'), false);
  assert.equal(az.authorize(bob, Op.READ, RT.TOPIC, 'closed'), true);
});

test('decisions are cached until invalidate(): ACL changes take effect at once after it', () => {
  const state: AclBinding[] = [];
  const az = new AclAuthorizer({ superUsers: '', allowEveryoneIfNoAclFound: false, acls: () => state });
  assert.equal(az.authorize(alice, Op.WRITE, RT.TOPIC, 't'), false);
  state.push(acl(RT.TOPIC, 't', 'User:alice', Op.WRITE));
  assert.equal(az.authorize(alice, Op.WRITE, RT.TOPIC, 't'), false, 'cached until invalidated');
  az.invalidate();
  assert.equal(az.authorize(alice, Op.WRITE, RT.TOPIC, 't'), true);
  state.push(acl(RT.TOPIC, 't', 'User:*', Op.WRITE, Perm.DENY));
  az.invalidate();
  assert.equal(az.authorize(alice, Op.WRITE, RT.TOPIC, 't'), false);
});

test('authorizeAny (Kafka authorizeByResourceType): some topic writable, unless denied by a wildcard or covering DENY', () => {
  assert.equal(authorizer([acl(RT.TOPIC, 'x', 'User:alice', Op.WRITE)]).az.authorizeAny(alice, Op.WRITE, RT.TOPIC), true);
  assert.equal(authorizer([acl(RT.TOPIC, 'x', 'User:alice', Op.READ)]).az.authorizeAny(alice, Op.WRITE, RT.TOPIC), false);
  assert.equal(authorizer([acl(RT.TOPIC, 'x', 'User:alice', Op.WRITE), acl(RT.TOPIC, '*', 'User:alice', Op.WRITE, Perm.DENY)]).az.authorizeAny(alice, Op.WRITE, RT.TOPIC), false);
  assert.equal(
    authorizer([acl(RT.TOPIC, 'x-1', 'User:alice', Op.WRITE), acl(RT.TOPIC, 'x-', 'User:alice', Op.WRITE, Perm.DENY, PatternType.PREFIXED)]).az.authorizeAny(alice, Op.WRITE, RT.TOPIC),
    false,
  );
  assert.equal(authorizer([]).az.authorizeAny(admin, Op.WRITE, RT.TOPIC), true);
  assert.equal(authorizer([], { allowIfNoAcl: true }).az.authorizeAny(alice, Op.WRITE, RT.TOPIC), true);
});

test('super.users parsing, the ACL host form, binding validation and the filters of the ACL APIs', () => {
  assert.deepEqual([...parseSuperUsers(' User:admin ; User:ops;')], ['User:admin', 'User:ops']);
  assert.throws(() => parseSuperUsers('admin'), /expected Type:name/);
  assert.equal(aclHost('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(aclHost('::1'), '::1');

  assert.equal(aclBindingProblem(acl(RT.TOPIC, 't', 'User:a', Op.READ)), null);
  assert.match(aclBindingProblem(acl(RT.ANY, 't', 'User:a', Op.READ)) ?? '', /resource type/);
  assert.match(aclBindingProblem(acl(RT.TOPIC, 't', 'User:a', Op.ANY)) ?? '', /operation/);
  assert.match(aclBindingProblem(acl(RT.TOPIC, 't', 'User:a', Op.READ, Perm.ANY)) ?? '', /permission/);
  assert.match(aclBindingProblem(acl(RT.TOPIC, 't', 'User:a', Op.READ, Perm.ALLOW, PatternType.MATCH)) ?? '', /LITERAL or PREFIXED/);
  assert.match(aclBindingProblem(acl(RT.TOPIC, 't', 'alice', Op.READ)) ?? '', /principal/);
  assert.match(aclBindingProblem(acl(RT.CLUSTER, 'other', 'User:a', Op.ALTER)) ?? '', /kafka-cluster/);

  const literal = acl(RT.TOPIC, 'pay-eu', 'User:a', Op.READ);
  const prefixed = acl(RT.TOPIC, 'pay-', 'User:a', Op.READ, Perm.ALLOW, PatternType.PREFIXED);
  const wildcard = acl(RT.TOPIC, '*', 'User:b', Op.WRITE, Perm.DENY);
  const any = { resourceType: RT.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY };
  for (const b of [literal, prefixed, wildcard]) assert.equal(filterMatches(any, b), true);
  const match = { ...any, resourceType: RT.TOPIC, resourceName: 'pay-eu', patternType: PatternType.MATCH };
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches(match, b)), [true, true, true]);
  const exactPrefixed = { ...any, resourceName: 'pay-', patternType: PatternType.PREFIXED };
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches(exactPrefixed, b)), [false, true, false]);
  const anyPattern = { ...any, resourceName: 'pay-eu', patternType: PatternType.ANY };
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches(anyPattern, b)), [true, false, false]);
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches({ ...any, principal: 'User:b' }, b)), [false, false, true]);
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches({ ...any, permissionType: Perm.DENY }, b)), [false, false, true]);
  assert.deepEqual([literal, prefixed, wildcard].map((b) => filterMatches({ ...any, operation: Op.READ }, b)), [true, true, false]);
});
