/**
 * `sluice configs` (kafka-configs.sh): describe and alter dynamic configs of topics and brokers,
 * client quotas of users and clients, and users' SCRAM credentials.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ApiKey, KafkaError } from '@sluice/protocol';
import type { Admin, ConfigEntry, ConfigResource } from '@sluice/client';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode, ToolError, UsageError } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { parseConfigList } from '../tool/properties.js';
import { toJson } from '../tool/table.js';

const ENTITY_TYPES = ['topics', 'brokers', 'users', 'clients'] as const;
type EntityType = (typeof ENTITY_TYPES)[number];

const options: OptionSpec[] = [
  bootstrapOption,
  commandConfigOption,
  { name: 'entity-type', kind: 'value', arg: '<topics|brokers|users|clients>', help: 'REQUIRED: the kind of entity.' },
  { name: 'entity-name', kind: 'value', arg: '<name>', help: 'The topic name, broker id, user or client id.' },
  { name: 'entity-default', kind: 'flag', help: 'The cluster-wide default (brokers, users, clients).' },
  { name: 'topic', kind: 'value', arg: '<name>', help: 'Same as --entity-type topics --entity-name <name>.' },
  { name: 'broker', kind: 'value', arg: '<id>', help: 'Same as --entity-type brokers --entity-name <id>.' },
  { name: 'broker-defaults', kind: 'flag', help: 'Same as --entity-type brokers --entity-default.' },
  { name: 'user', kind: 'value', arg: '<name>', help: 'Same as --entity-type users --entity-name <name>.' },
  { name: 'client', kind: 'value', arg: '<id>', help: 'Same as --entity-type clients --entity-name <id>.' },
  { name: 'describe', kind: 'flag', help: 'Show configs (dynamic ones; with --all every config).' },
  { name: 'all', kind: 'flag', help: 'With --describe: every config, defaults included.' },
  { name: 'alter', kind: 'flag', help: 'Change configs with --add-config / --delete-config.' },
  { name: 'add-config', kind: 'value', arg: "<k=v,k2=[a,b]>", help: "Configs to set; a value in [] may hold commas. SCRAM: 'SCRAM-SHA-256=[iterations=8192,password=…]'." },
  { name: 'add-config-file', kind: 'value', arg: '<file>', help: 'A properties file of configs to set.' },
  { name: 'delete-config', kind: 'value', arg: '<k,k2>', help: 'Configs to remove (back to their defaults), or SCRAM-SHA-256 / SCRAM-SHA-512.' },
  jsonOption,
  helpOption,
];

export const configsTool: Tool = {
  name: 'configs',
  summary: 'describe and alter topic/broker configs, quotas and SCRAM users (kafka-configs.sh)',
  usage: 'sluice configs --bootstrap-server <host:port> --entity-type <type> (--entity-name <name> | --entity-default) (--describe [--all] | --alter --add-config k=v --delete-config k)',
  description: 'Shows and changes dynamic configuration like kafka-configs.sh, with the same flags and output.',
  options,
  run: runConfigs,
};

interface Entity {
  type: EntityType;
  /** null: the default entity (--entity-default); undefined: every entity (describe only). */
  name: string | null | undefined;
}

function entityOf(args: ParsedArgs): Entity {
  const shortcuts: Array<[string, EntityType]> = [
    ['topic', 'topics'],
    ['broker', 'brokers'],
    ['user', 'users'],
    ['client', 'clients'],
  ];
  for (const [option, type] of shortcuts) if (args.has(option)) return { type, name: args.value(option) };
  if (args.has('broker-defaults')) return { type: 'brokers', name: null };
  const rawType = args.required('entity-type', `one of ${ENTITY_TYPES.join(', ')}`);
  const type = (rawType.endsWith('s') ? rawType : `${rawType}s`) as EntityType;
  if (!ENTITY_TYPES.includes(type)) throw new UsageError(`--entity-type must be one of ${ENTITY_TYPES.join(', ')}, not "${rawType}"`);
  if (args.has('entity-default') && args.has('entity-name')) throw new UsageError('give --entity-name or --entity-default, not both');
  if (args.has('entity-default') && type === 'topics') throw new UsageError('topics have no --entity-default: broker defaults apply (--entity-type brokers --entity-default)');
  return { type, name: args.has('entity-default') ? null : args.value('entity-name') };
}

async function runConfigs(args: ParsedArgs, io: ToolIo): Promise<number> {
  const describe = args.has('describe');
  const alter = args.has('alter');
  if (describe === alter) throw new UsageError('choose one action: --describe or --alter');
  if (args.has('all') && !describe) throw new UsageError('--all goes with --describe');
  const entity = entityOf(args);
  if (alter) {
    if (entity.name === undefined) throw new UsageError('--alter needs --entity-name (or --entity-default)');
    if (!args.has('add-config') && !args.has('add-config-file') && !args.has('delete-config')) {
      throw new UsageError('--alter needs --add-config, --add-config-file or --delete-config');
    }
  }
  const changes = alter ? await requestedChanges(args) : null;
  return withAdmin(args, io, async (admin) => {
    if (entity.type === 'topics' || entity.type === 'brokers') {
      return changes ? alterResourceConfigs(admin, entity, changes, io) : describeResourceConfigs(admin, entity, args, io);
    }
    return changes ? alterQuotasOrScram(admin, entity, changes, io) : describeQuotasAndScram(admin, entity, args, io);
  });
}

interface Changes {
  set: Array<[string, string]>;
  remove: string[];
}

async function requestedChanges(args: ParsedArgs): Promise<Changes> {
  const set: Array<[string, string]> = [];
  const text = args.value('add-config');
  if (text !== undefined) set.push(...parseConfigList(text));
  const file = args.value('add-config-file');
  if (file !== undefined) {
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --add-config-file ${file}: ${(err as Error).message}`);
    }
    for (const line of content.split(/\r?\n/)) {
      const t = line.trim();
      if (!t || t.startsWith('#') || t.startsWith('!')) continue;
      const eq = t.indexOf('=');
      if (eq <= 0) throw new UsageError(`--add-config-file line "${t}" is not key=value`);
      set.push([t.slice(0, eq).trim(), t.slice(eq + 1).trim()]);
    }
  }
  const remove = (args.value('delete-config') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const both = set.find(([k]) => remove.includes(k));
  if (both) throw new UsageError(`${both[0]} is both added and deleted`);
  return { set, remove };
}

const SOURCE_NAMES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

function resourceOf(entity: Entity, name: string | null): ConfigResource {
  return { type: entity.type === 'topics' ? 'topic' : 'broker', name: name ?? '' };
}

function entityLabel(entity: Entity, name: string | null): string {
  if (entity.type === 'brokers') return name === null ? 'default config for brokers in the cluster' : `config for broker ${name}`;
  return `config for topic ${name}`;
}

async function describeResourceConfigs(admin: Admin, entity: Entity, args: ParsedArgs, io: ToolIo): Promise<number> {
  let names: Array<string | null>;
  if (entity.name !== undefined) names = [entity.name];
  else if (entity.type === 'topics') names = await admin.listTopics({ includeInternal: true });
  else names = [...admin.cluster.brokers().map((b) => String(b.nodeId)), null];
  if (entity.type === 'topics' && entity.name) {
    const known = await admin.listTopics({ includeInternal: true });
    if (!known.includes(entity.name)) throw new ToolError(`Topic '${entity.name}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
  }
  if (entity.type === 'brokers' && entity.name && !/^\d+$/.test(entity.name)) throw new UsageError(`broker --entity-name must be a broker id, not "${entity.name}"`);
  const results = names.length ? await admin.describeConfigs(names.map((n) => resourceOf(entity, n))) : [];
  const all = args.has('all');
  // Dynamic = set at runtime for this entity, as kafka-configs.sh filters: the topic's overrides,
  // the broker's own settings, or the cluster-wide defaults (--entity-default).
  const isDynamic = (c: ConfigEntry, name: string | null): boolean =>
    entity.type === 'topics' ? c.source === 1 : name === null ? c.source === 3 : c.source === 2;
  const shown = results.map((r, i) => ({
    entity: names[i],
    configs: r.configs.filter((c) => all || isDynamic(c, names[i])).sort((a, b) => a.name.localeCompare(b.name)),
  }));
  if (args.has('json')) {
    io.stdout(
      toJson(
        shown.map((s) => ({
          entityType: entity.type,
          entityName: s.entity,
          configs: s.configs.map((c) => ({ name: c.name, value: c.isSensitive ? null : c.value, source: SOURCE_NAMES[c.source] ?? String(c.source), readOnly: c.readOnly, sensitive: c.isSensitive })),
        })),
      ),
    );
    return ExitCode.ok;
  }
  const out: string[] = [];
  for (const s of shown) {
    const what =
      entity.type === 'brokers'
        ? s.entity === null
          ? 'configs for brokers in the cluster'
          : `configs for broker ${s.entity}`
        : `configs for topic ${s.entity}`;
    const prefix = all ? 'All' : s.entity === null ? 'Default' : 'Dynamic';
    out.push(`${prefix} ${what} are:`);
    for (const c of s.configs) out.push(`  ${configLine(c)}`);
  }
  io.stdout(out.map((l) => `${l}\n`).join(''));
  return ExitCode.ok;
}

function configLine(c: ConfigEntry): string {
  const value = c.isSensitive ? 'null' : (c.value ?? 'null');
  return `${c.name}=${value} sensitive=${c.isSensitive} synonyms={${SOURCE_NAMES[c.source] ?? c.source}:${c.name}=${value}}`;
}

async function alterResourceConfigs(admin: Admin, entity: Entity, changes: Changes, io: ToolIo): Promise<number> {
  const name = entity.name ?? null;
  if (entity.type === 'topics') {
    const known = await admin.listTopics({ includeInternal: true });
    if (!known.includes(name ?? '')) throw new ToolError(`Topic '${name}' does not exist`, ExitCode.failed, 'list the topics with `sluice topics --list`');
  }
  const scram = changes.set.find(([k]) => k.startsWith('SCRAM-'));
  if (scram) throw new UsageError(`${scram[0]} credentials belong to users: use --entity-type users --entity-name <user>`);
  await admin.incrementalAlterConfigs([
    {
      ...resourceOf(entity, name),
      changes: [...changes.set.map(([k, v]) => ({ name: k, op: 'set' as const, value: v })), ...changes.remove.map((k) => ({ name: k, op: 'delete' as const }))],
    },
  ]);
  io.stdout(`Completed updating ${entityLabel(entity, name)}.\n`);
  return ExitCode.ok;
}

// ---- users and clients: quotas and SCRAM credentials ----

const SCRAM_MECHANISMS: Record<string, { code: number; hash: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { code: 1, hash: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { code: 2, hash: 'sha512', bytes: 64 },
};
const MIN_SCRAM_ITERATIONS = 4096;

async function requireApi(admin: Admin, apiKey: number, what: string): Promise<void> {
  const c = await admin.cluster.anyConnection();
  if (c.versionOf(apiKey) < 0) {
    throw new ToolError(`the broker does not support ${what}`, ExitCode.failed, 'this needs a broker that implements it (Kafka 2.6+ for quotas, 2.7+ for SCRAM)');
  }
}

function quotaEntity(entity: Entity): Array<{ entityType: string; entityName: string | null }> {
  return [{ entityType: entity.type === 'users' ? 'user' : 'client-id', entityName: entity.name ?? null }];
}

async function alterQuotasOrScram(admin: Admin, entity: Entity, changes: Changes, io: ToolIo): Promise<number> {
  const scramSet = changes.set.filter(([k]) => k in SCRAM_MECHANISMS);
  const scramRemove = changes.remove.filter((k) => k in SCRAM_MECHANISMS);
  const quotaSet = changes.set.filter(([k]) => !(k in SCRAM_MECHANISMS));
  const quotaRemove = changes.remove.filter((k) => !(k in SCRAM_MECHANISMS));
  if ((scramSet.length || scramRemove.length) && (entity.type !== 'users' || !entity.name)) {
    throw new UsageError('SCRAM credentials are set per user: --entity-type users --entity-name <user>');
  }
  if (scramSet.length || scramRemove.length) {
    await requireApi(admin, ApiKey.AlterUserScramCredentials, 'SCRAM credentials (AlterUserScramCredentials)');
    const upsertions = await Promise.all(scramSet.map(([mechanism, spec]) => scramUpsertion(entity.name!, mechanism, spec)));
    const response = await admin.cluster.withRetry(async () =>
      (await admin.cluster.anyConnection()).request(ApiKey.AlterUserScramCredentials, {
        deletions: scramRemove.map((m) => ({ name: entity.name!, mechanism: SCRAM_MECHANISMS[m].code })),
        upsertions,
      }),
    );
    for (const r of response.results) if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? r.user);
  }
  if (quotaSet.length || quotaRemove.length) {
    await requireApi(admin, ApiKey.AlterClientQuotas, 'client quotas (AlterClientQuotas)');
    const ops = [
      ...quotaSet.map(([key, v]) => {
        const value = Number(v);
        if (!Number.isFinite(value) || value < 0) throw new UsageError(`quota ${key} must be a non-negative number, not "${v}"`);
        return { key, value, remove: false };
      }),
      ...quotaRemove.map((key) => ({ key, value: 0, remove: true })),
    ];
    const response = await admin.cluster.withRetry(async () =>
      (await admin.cluster.anyConnection()).request(ApiKey.AlterClientQuotas, { entries: [{ entity: quotaEntity(entity), ops }], validateOnly: false }),
    );
    for (const e of response.entries) if (e.errorCode !== 0) throw new KafkaError(e.errorCode, e.errorMessage ?? '');
  }
  const who = entity.name === null ? `default config for ${entity.type}` : `config for ${entity.type === 'users' ? 'user' : 'client'} ${entity.name}`;
  io.stdout(`Completed updating ${who}.\n`);
  return ExitCode.ok;
}

/** `iterations=8192,password=secret` → the salted password the broker stores (RFC 5802 Hi()). */
export async function scramUpsertion(user: string, mechanism: string, spec: string): Promise<{ name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }> {
  const m = SCRAM_MECHANISMS[mechanism];
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`${mechanism} takes [iterations=<n>,password=<secret>], not "${spec.replace(/password=[^,]*/, 'password=…')}"`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const password = fields.get('password');
  if (!password) throw new UsageError(`${mechanism} needs password=<secret>`);
  const iterations = Number(fields.get('iterations') ?? MIN_SCRAM_ITERATIONS);
  if (!Number.isInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS) throw new UsageError(`${mechanism} iterations must be an integer of at least ${MIN_SCRAM_ITERATIONS}`);
  const salt = randomBytes(32);
  const saltedPassword = await promisify(pbkdf2)(password, salt, iterations, m.bytes, m.hash);
  return { name: user, mechanism: m.code, iterations, salt, saltedPassword };
}

async function describeQuotasAndScram(admin: Admin, entity: Entity, args: ParsedArgs, io: ToolIo): Promise<number> {
  const c = await admin.cluster.anyConnection();
  const quotas: Array<{ entity: string; values: Record<string, number> }> = [];
  const scram: Array<{ user: string; mechanism: string; iterations: number }> = [];
  let supported = false;
  if (c.versionOf(ApiKey.DescribeClientQuotas) >= 0) {
    supported = true;
    const entityType = entity.type === 'users' ? 'user' : 'client-id';
    // matchType 0 = exact name, 1 = the default entity, 2 = any entity of the type.
    const component = entity.name === undefined ? { entityType, matchType: 2, match: null } : entity.name === null ? { entityType, matchType: 1, match: null } : { entityType, matchType: 0, match: entity.name };
    const r = await admin.cluster.withRetry(async () => (await admin.cluster.anyConnection()).request(ApiKey.DescribeClientQuotas, { components: [component], strict: false }));
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? '');
    for (const e of r.entries ?? []) {
      quotas.push({
        entity: e.entity.map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`).join(', '),
        values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
      });
    }
  }
  if (entity.type === 'users' && entity.name !== null && c.versionOf(ApiKey.DescribeUserScramCredentials) >= 0) {
    supported = true;
    const users = entity.name === undefined ? null : [{ name: entity.name }];
    const r = await admin.cluster.withRetry(async () => (await admin.cluster.anyConnection()).request(ApiKey.DescribeUserScramCredentials, { users }),
    );
    if (r.errorCode !== 0) throw new KafkaError(r.errorCode, r.errorMessage ?? '');
    for (const u of r.results) {
      // RESOURCE_NOT_FOUND (91): the user simply has no credentials.
      if (u.errorCode !== 0 && u.errorCode !== 91) throw new KafkaError(u.errorCode, u.errorMessage ?? u.user);
      for (const ci of u.credentialInfos) scram.push({ user: u.user, mechanism: ci.mechanism === 1 ? 'SCRAM-SHA-256' : ci.mechanism === 2 ? 'SCRAM-SHA-512' : String(ci.mechanism), iterations: ci.iterations });
    }
  }
  if (!supported) throw new ToolError(`the broker does not support describing ${entity.type} (no DescribeClientQuotas / DescribeUserScramCredentials)`, ExitCode.failed);
  if (args.has('json')) {
    io.stdout(toJson({ quotas, scramCredentials: scram }));
    return ExitCode.ok;
  }
  const out: string[] = [];
  for (const q of quotas) out.push(`Quota configs for ${q.entity} are ${Object.entries(q.values).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  for (const s of scram) out.push(`SCRAM credential configs for user-principal '${s.user}' are ${s.mechanism}=iterations=${s.iterations}`);
  if (out.length === 0) out.push(`No configs for ${entity.type === 'users' ? 'user' : 'client'} ${entity.name ?? '<default>'}.`);
  io.stdout(out.map((l) => `${l}\n`).join(''));
  return ExitCode.ok;
}
