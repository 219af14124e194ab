/**
 * `sluice acls` (kafka-acls.sh): add, remove and list ACLs with Kafka's flags, including the
 * --producer / --consumer shortcuts. Output is a table (or --json) of the bindings.
 */
import {
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  operationName,
  parseOperation,
  patternTypeName,
  permissionTypeName,
  resourceTypeName,
  type Admin,
  type AclBinding,
  type AclBindingFilter,
} from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { renderTable, toJson } from '../tool/table.js';

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'add', kind: 'flag', help: 'Add the ACLs the other options describe.' },
  { name: 'remove', kind: 'flag', help: 'Remove the ACLs the other options describe (without principals: every ACL of the resources). Needs --force.' },
  { name: 'list', kind: 'flag', help: 'List ACLs (of the given resources; with --principal, of that principal).' },
  { name: 'allow-principal', kind: 'list', arg: '<Type:name>', help: 'Principal the ACL allows, e.g. User:alice or User:*.' },
  { name: 'deny-principal', kind: 'list', arg: '<Type:name>', help: 'Principal the ACL denies.' },
  { name: 'principal', kind: 'list', arg: '<Type:name>', help: 'With --list: only ACLs of this principal.' },
  { name: 'allow-host', kind: 'list', arg: '<ip>', help: 'Host the allow ACLs apply to.', defaultText: '* (every host)' },
  { name: 'deny-host', kind: 'list', arg: '<ip>', help: 'Host the deny ACLs apply to.', defaultText: '* (every host)' },
  { name: 'operation', kind: 'list', arg: '<op>', help: 'All, Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite.', defaultText: 'All' },
  { name: 'topic', kind: 'list', arg: '<topic>', help: 'Topic resource (* for every topic).' },
  { name: 'group', kind: 'list', arg: '<group>', help: 'Consumer group resource.' },
  { name: 'cluster', kind: 'flag', help: 'The cluster resource.' },
  { name: 'transactional-id', kind: 'list', arg: '<id>', help: 'Transactional id resource.' },
  { name: 'resource-pattern-type', kind: 'value', arg: '<LITERAL|PREFIXED|ANY|MATCH>', help: 'How resource names match; ANY and MATCH only for --list and --remove.', defaultText: 'LITERAL' },
  { name: 'producer', kind: 'flag', help: 'Shortcut: Write, Describe and Create on the topics (and Write, Describe on --transactional-id).' },
  { name: 'consumer', kind: 'flag', help: 'Shortcut: Read and Describe on the topics, Read on the --group.' },
  { name: 'idempotent', kind: 'flag', help: 'With --producer: IdempotentWrite on the cluster.' },
  { name: 'force', kind: 'flag', help: 'Do not ask for confirmation (needed by --remove).' },
  jsonOption,
  helpOption,
];

export const aclsTool: Tool = {
  name: 'acls',
  summary: 'add, remove and list ACLs (kafka-acls.sh)',
  usage: 'sluice acls --bootstrap-server <host:port> (--add | --remove --force | --list) [--allow-principal User:x] [--operation Read] (--topic t | --group g | --cluster | --transactional-id id)',
  description: 'Manages the ACLs of the authorizer (authorizer.class.name) like kafka-acls.sh, with the same flags.',
  options,
  run: runAcls,
};

const CLUSTER_NAME = 'kafka-cluster';

interface Resource {
  type: number;
  name: string;
}

function patternType(args: ParsedArgs, action: 'add' | 'remove' | 'list'): number {
  const raw = (args.value('resource-pattern-type') ?? 'LITERAL').toUpperCase();
  const code = (AclPatternType as Record<string, number>)[raw];
  if (code === undefined || code === AclPatternType.UNKNOWN) throw new UsageError(`--resource-pattern-type must be LITERAL, PREFIXED, ANY or MATCH, not "${args.value('resource-pattern-type')}"`);
  if (action === 'add' && code !== AclPatternType.LITERAL && code !== AclPatternType.PREFIXED) throw new UsageError('--add takes --resource-pattern-type LITERAL or PREFIXED');
  return code;
}

function operations(args: ParsedArgs): number[] {
  const raw = args.list('operation');
  if (raw.length === 0) return [AclOperation.ALL];
  return raw.map((text) => {
    const op = parseOperation(text);
    if (op === null || op === AclOperation.ANY || op === AclOperation.UNKNOWN) throw new UsageError(`unknown --operation "${text}"`, 'one of All, Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite');
    return op;
  });
}

function checkPrincipal(text: string): string {
  if (text.indexOf(':') <= 0) throw new UsageError(`principal "${text}" must be Type:name, e.g. User:alice`);
  return text;
}

function resources(args: ParsedArgs): Resource[] {
  const out: Resource[] = [];
  for (const name of args.list('topic')) out.push({ type: AclResourceType.TOPIC, name });
  for (const name of args.list('group')) out.push({ type: AclResourceType.GROUP, name });
  for (const name of args.list('transactional-id')) out.push({ type: AclResourceType.TRANSACTIONAL_ID, name });
  if (args.has('cluster')) out.push({ type: AclResourceType.CLUSTER, name: CLUSTER_NAME });
  return out;
}

/** The bindings --add / --remove name: explicit operations on the resources, or the shortcuts. */
function bindings(args: ParsedArgs, pattern: number): AclBinding[] {
  const allow = args.list('allow-principal').map(checkPrincipal);
  const deny = args.list('deny-principal').map(checkPrincipal);
  if (allow.length === 0 && deny.length === 0) throw new UsageError('give --allow-principal or --deny-principal');
  const allowHosts = args.list('allow-host');
  const denyHosts = args.list('deny-host');
  if (allowHosts.length && !allow.length) throw new UsageError('--allow-host needs --allow-principal');
  if (denyHosts.length && !deny.length) throw new UsageError('--deny-host needs --deny-principal');
  const ops: Array<{ resource: Resource; operation: number }> = [];
  const rs = resources(args);
  if (args.has('producer') || args.has('consumer')) {
    if (args.has('operation')) throw new UsageError('--producer and --consumer choose the operations: leave out --operation');
    const topics = rs.filter((r) => r.type === AclResourceType.TOPIC);
    if (topics.length === 0) throw new UsageError('--producer and --consumer need --topic');
    if (args.has('producer')) {
      for (const t of topics) for (const operation of [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]) ops.push({ resource: t, operation });
      for (const id of rs.filter((r) => r.type === AclResourceType.TRANSACTIONAL_ID)) for (const operation of [AclOperation.WRITE, AclOperation.DESCRIBE]) ops.push({ resource: id, operation });
      if (args.has('idempotent')) ops.push({ resource: { type: AclResourceType.CLUSTER, name: CLUSTER_NAME }, operation: AclOperation.IDEMPOTENT_WRITE });
    }
    if (args.has('consumer')) {
      const groups = rs.filter((r) => r.type === AclResourceType.GROUP);
      if (groups.length === 0) throw new UsageError('--consumer needs --group');
      for (const t of topics) for (const operation of [AclOperation.READ, AclOperation.DESCRIBE]) ops.push({ resource: t, operation });
      for (const g of groups) ops.push({ resource: g, operation: AclOperation.READ });
    }
  } else {
    if (args.has('idempotent')) throw new UsageError('--idempotent goes with --producer');
    if (rs.length === 0) throw new UsageError('name a resource: --topic, --group, --cluster or --transactional-id');
    for (const r of rs) for (const operation of operations(args)) ops.push({ resource: r, operation });
  }
  const out: AclBinding[] = [];
  const seen = new Set<string>();
  const push = (principal: string, host: string, permissionType: number, resource: Resource, operation: number) => {
    const patternOf = resource.type === AclResourceType.CLUSTER ? AclPatternType.LITERAL : pattern;
    const b = { resourceType: resource.type, resourceName: resource.name, patternType: patternOf, principal, host, operation, permissionType };
    const key = JSON.stringify(b);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(b);
    }
  };
  for (const { resource, operation } of ops) {
    for (const p of allow) for (const h of allowHosts.length ? allowHosts : ['*']) push(p, h, AclPermissionType.ALLOW, resource, operation);
    for (const p of deny) for (const h of denyHosts.length ? denyHosts : ['*']) push(p, h, AclPermissionType.DENY, resource, operation);
  }
  return out;
}

function asFilter(b: AclBinding): AclBindingFilter {
  return { ...b };
}

async function runAcls(args: ParsedArgs, io: ToolIo): Promise<number> {
  const actions = args.present(['add', 'remove', 'list']);
  if (actions.length !== 1) throw new UsageError('choose one action: --add, --remove or --list');
  const action = actions[0] as 'add' | 'remove' | 'list';
  const pattern = patternType(args, action);
  if (action === 'add') {
    const wanted = bindings(args, pattern);
    return withAdmin(args, io, async (admin) => {
      await admin.createAcls(wanted);
      return print(io, args, wanted, `Adding ACLs for ${wanted.length === 1 ? 'resource' : 'resources'}:`);
    });
  }
  if (action === 'remove') {
    if (!args.has('force')) throw new UsageError('--remove deletes ACLs for good: add --force to confirm');
    const hasPrincipals = args.has('allow-principal') || args.has('deny-principal');
    const rs = resources(args);
    if (!hasPrincipals && rs.length === 0) throw new UsageError('name a resource (--topic, --group, --cluster, --transactional-id) or the ACLs (--allow-principal …) to remove');
    // Without principals: every ACL of the named resources, as kafka-acls.sh does.
    const filters: AclBindingFilter[] = hasPrincipals
      ? bindings(args, pattern).map(asFilter)
      : rs.map((r) => ({ resourceType: r.type, resourceName: r.name, patternType: r.type === AclResourceType.CLUSTER ? AclPatternType.LITERAL : pattern, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY }));
    return withAdmin(args, io, async (admin) => {
      const removed = (await admin.deleteAcls(filters)).flat();
      return print(io, args, removed, 'Removed ACLs:');
    });
  }
  return withAdmin(args, io, async (admin) => list(admin, args, pattern, io));
}

async function list(admin: Admin, args: ParsedArgs, pattern: number, io: ToolIo): Promise<number> {
  const principals = args.list('principal').map(checkPrincipal);
  const rs = resources(args);
  // Without --resource-pattern-type, --list shows every ACL of the named resources' exact names (Kafka's ANY).
  const listPattern = args.has('resource-pattern-type') ? pattern : AclPatternType.ANY;
  const filters: AclBindingFilter[] = [];
  const base = { host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY };
  for (const principal of principals.length ? principals : [null]) {
    if (rs.length === 0) filters.push({ ...base, resourceType: AclResourceType.ANY, resourceName: null, patternType: AclPatternType.ANY, principal });
    for (const r of rs) filters.push({ ...base, resourceType: r.type, resourceName: r.name, patternType: r.type === AclResourceType.CLUSTER ? AclPatternType.ANY : listPattern, principal });
  }
  const found: AclBinding[] = [];
  const seen = new Set<string>();
  for (const f of filters) {
    for (const b of await admin.describeAcls(f)) {
      const key = JSON.stringify(b);
      if (!seen.has(key)) {
        seen.add(key);
        found.push(b);
      }
    }
  }
  found.sort((a, b) => a.resourceType - b.resourceType || a.resourceName.localeCompare(b.resourceName) || a.patternType - b.patternType || a.principal.localeCompare(b.principal) || a.operation - b.operation);
  return print(io, args, found, 'Current ACLs:');
}

function print(io: ToolIo, args: ParsedArgs, acls: AclBinding[], title: string): number {
  if (args.has('json')) {
    io.stdout(
      toJson(
        acls.map((b) => ({
          resourceType: resourceTypeName(b.resourceType),
          resourceName: b.resourceName,
          patternType: patternTypeName(b.patternType),
          principal: b.principal,
          host: b.host,
          operation: operationName(b.operation),
          permissionType: permissionTypeName(b.permissionType),
        })),
      ),
    );
    return ExitCode.ok;
  }
  if (acls.length === 0) {
    io.stdout(`${title} none.\n`);
    return ExitCode.ok;
  }
  io.stdout(
    `${title}\n` +
      renderTable(
        ['RESOURCE TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
        acls.map((b) => [resourceTypeName(b.resourceType), b.resourceName, patternTypeName(b.patternType), b.principal, b.host, operationName(b.operation), permissionTypeName(b.permissionType)]),
      ),
  );
  return ExitCode.ok;
}
