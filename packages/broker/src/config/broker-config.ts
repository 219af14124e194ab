/**
 * The broker's configuration in three layers, highest first: dynamic (set at runtime through
 * AlterConfigs/IncrementalAlterConfigs and persisted in the metadata store), static
 * (server.properties and --override), and the definitions' defaults.
 */
import { readFileSync } from 'node:fs';
import { parseProperties } from './properties.js';
import { brokerConfigDefinitions, type ConfigDefinition, type ConfigValue } from './definitions.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} configuration problems:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type BrokerConfigSource = 'dynamic' | 'static' | 'default';

/** Parses `raw` as the definition's type; returns the value or an error message. */
export function parseConfigValue(definition: ConfigDefinition, raw: string): { value: ConfigValue } | { error: string } {
  const text = raw.trim();
  let value: ConfigValue;
  switch (definition.type) {
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(text)) return { error: `"${raw}" is not an integer` };
      const n = Number(text);
      if (definition.type === 'int' && (n < -2147483648 || n > 2147483647)) return { error: `${text} is out of range for an int` };
      if (definition.type === 'long' && (BigInt(text) < -(2n ** 63n) || BigInt(text) >= 2n ** 63n)) {
        return { error: `${text} is out of range for a long` };
      }
      value = n;
      break;
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || Number.isNaN(n)) return { error: `"${raw}" is not a number` };
      value = n;
      break;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return { error: `"${raw}" is not true or false` };
      value = lower === 'true';
      break;
    }
    case 'list':
      value = text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      break;
    default:
      value = text;
  }
  const problem = definition.validate?.(value);
  return problem ? { error: `${raw.trim()}: ${problem}` } : { value };
}

export interface LoadConfigOptions {
  /** Path of a server.properties file. */
  configFile?: string;
  /** Settings given directly (startBroker options or --override key=value), applied over the file. */
  overrides?: Record<string, string | number | boolean>;
  /** Extra definitions (the topic-config defaults under their log.* names come from storage). */
  extraDefinitions?: readonly ConfigDefinition[];
}

export class BrokerConfig {
  readonly definitions: ReadonlyMap<string, ConfigDefinition>;
  private readonly staticValues = new Map<string, ConfigValue>();
  private readonly staticRaw = new Map<string, string>();
  private readonly dynamicValues = new Map<string, ConfigValue>();
  private readonly dynamicRaw = new Map<string, string>();
  private readonly listeners = new Set<(changed: string[]) => void>();

  private constructor(definitions: readonly ConfigDefinition[]) {
    this.definitions = new Map(definitions.map((d) => [d.name, d]));
  }

  /** Reads and validates everything, reporting every unknown or invalid key at once. */
  static load(options: LoadConfigOptions = {}): BrokerConfig {
    const config = new BrokerConfig([...brokerConfigDefinitions, ...(options.extraDefinitions ?? [])]);
    const problems: string[] = [];
    const raw: { key: string; value: string; origin: string }[] = [];
    if (options.configFile) {
      let text: string;
      try {
        text = readFileSync(options.configFile, 'utf8');
      } catch (err) {
        throw new ConfigError([`cannot read config file ${options.configFile}: ${(err as Error).message}`]);
      }
      try {
        for (const e of parseProperties(text)) raw.push({ key: e.key, value: e.value, origin: `${options.configFile}:${e.line}` });
      } catch (err) {
        throw new ConfigError([`${options.configFile}: ${(err as Error).message}`]);
      }
    }
    for (const [key, value] of Object.entries(options.overrides ?? {})) raw.push({ key, value: String(value), origin: 'override' });
    for (const { key, value, origin } of raw) {
      const definition = config.definitions.get(key);
      if (!definition) {
        problems.push(`${origin}: unknown configuration key "${key}"${suggest(key, config.definitions)}`);
        continue;
      }
      const parsed = parseConfigValue(definition, value);
      if ('error' in parsed) {
        problems.push(`${origin}: invalid value for ${key}: ${parsed.error}`);
        continue;
      }
      config.staticValues.set(key, parsed.value);
      config.staticRaw.set(key, value.trim());
    }
    const nodeId = config.staticValues.get('node.id');
    const brokerId = config.staticValues.get('broker.id');
    if (nodeId !== undefined && brokerId !== undefined && nodeId !== brokerId) {
      problems.push(`node.id (${String(nodeId)}) and broker.id (${String(brokerId)}) disagree`);
    }
    if (config.list('log.dirs').length > 1) problems.push('log.dirs: only one data directory is supported');
    for (const l of config.list('listeners')) {
      try {
        parseListener(l);
      } catch (err) {
        problems.push(`listeners: ${(err as Error).message}`);
      }
    }
    if (problems.length) throw new ConfigError(problems);
    return config;
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  get(name: string): ConfigValue {
    if (this.dynamicValues.has(name)) return this.dynamicValues.get(name)!;
    if (this.staticValues.has(name)) return this.staticValues.get(name)!;
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`unknown broker config ${name}`);
    if (definition.defaultValue === null) return null;
    const parsed = parseConfigValue(definition, definition.defaultValue);
    if ('error' in parsed) throw new Error(`bad default for ${name}: ${parsed.error}`);
    return parsed.value;
  }

  /** The value as Kafka prints it in DescribeConfigs. */
  rawValue(name: string): string | null {
    return this.dynamicRaw.get(name) ?? this.staticRaw.get(name) ?? this.definitions.get(name)?.defaultValue ?? null;
  }

  /** The static (file/override) value, or the default when not set; ignores the dynamic layer. */
  staticRawValue(name: string): string | null {
    return this.staticRaw.get(name) ?? this.definitions.get(name)?.defaultValue ?? null;
  }

  isStaticallySet(name: string): boolean {
    return this.staticRaw.has(name);
  }

  source(name: string): BrokerConfigSource {
    if (this.dynamicRaw.has(name)) return 'dynamic';
    if (this.staticRaw.has(name)) return 'static';
    return 'default';
  }

  int(name: string): number {
    const v = this.get(name);
    if (typeof v !== 'number') throw new Error(`${name} is not a number`);
    return v;
  }

  bool(name: string): boolean {
    const v = this.get(name);
    if (typeof v !== 'boolean') throw new Error(`${name} is not a boolean`);
    return v;
  }

  string(name: string): string | null {
    const v = this.get(name);
    return v === null ? null : String(v);
  }

  list(name: string): string[] {
    const v = this.get(name);
    return Array.isArray(v) ? v : [];
  }

  get nodeId(): number {
    const brokerId = this.staticValues.get('broker.id');
    return typeof brokerId === 'number' && !this.staticValues.has('node.id') ? brokerId : this.int('node.id');
  }

  get dataDir(): string {
    return this.list('log.dirs')[0] ?? this.string('log.dir') ?? './data';
  }

  /**
   * Checks a set of dynamic changes (null = delete, back to static/default) without applying
   * them; returns the problem per key.
   */
  validateDynamic(changes: ReadonlyMap<string, string | null>): Map<string, { code: 'unknown' | 'readonly' | 'invalid'; message: string }> {
    const problems = new Map<string, { code: 'unknown' | 'readonly' | 'invalid'; message: string }>();
    for (const [key, raw] of changes) {
      const definition = this.definitions.get(key);
      if (!definition) {
        problems.set(key, { code: 'unknown', message: `Unknown broker config ${key}` });
      } else if (!definition.dynamic) {
        problems.set(key, { code: 'readonly', message: `Cannot update ${key} dynamically: it is a read-only broker config` });
      } else if (raw !== null) {
        const parsed = parseConfigValue(definition, raw);
        if ('error' in parsed) problems.set(key, { code: 'invalid', message: `Invalid value for ${key}: ${parsed.error}` });
      }
    }
    return problems;
  }

  /** Replaces the dynamic layer (already validated and persisted by the caller). */
  setDynamic(values: ReadonlyMap<string, string>): void {
    const changed = new Set([...this.dynamicRaw.keys(), ...values.keys()]);
    this.dynamicRaw.clear();
    this.dynamicValues.clear();
    for (const [key, raw] of values) {
      const definition = this.definitions.get(key);
      if (!definition) continue; // a key from a newer version: keep serving the rest
      const parsed = parseConfigValue(definition, raw);
      if ('error' in parsed) continue;
      this.dynamicRaw.set(key, raw);
      this.dynamicValues.set(key, parsed.value);
    }
    const list = [...changed];
    for (const listener of this.listeners) listener(list);
  }

  dynamicEntries(): Map<string, string> {
    return new Map(this.dynamicRaw);
  }

  onChange(listener: (changed: string[]) => void): void {
    this.listeners.add(listener);
  }
}

export interface Listener {
  name: string;
  /** '' means every interface. */
  host: string;
  port: number;
}

export function parseListener(text: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[0-9a-fA-F:.]+\]|[^:/]*):(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`"${text}": port ${port} is out of range`);
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { name: m[1].toUpperCase(), host, port };
}

function suggest(key: string, definitions: ReadonlyMap<string, ConfigDefinition>): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of definitions.keys()) {
    const d = editDistance(key, name);
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 5)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
