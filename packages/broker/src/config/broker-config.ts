/**
 * The broker's configuration in layers, highest first, as Kafka keeps them: this broker's dynamic
 * settings (AlterConfigs on resource "<node id>"), the cluster-wide dynamic defaults (resource ""),
 * both persisted in the metadata store; static (server.properties and --override); and the
 * definitions' defaults.
 */
import { readFileSync } from 'node:fs';
import { parseProperties } from './properties.js';
import { brokerConfigDefinitions, type ConfigDefinition, type ConfigType, type ConfigValue } from './definitions.js';
import {
  BROKER_QUOTA_CONFIGS,
  CLUSTER_LEVEL_LISTENER_CONFIGS,
  LISTENER_ONLY_SECURITY_CONFIGS,
  kafkaValueProblem,
  listenerConfigBase,
  scalaSet,
} from './kafka-catalogue.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} configuration problems:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Where a value comes from, in precedence order (Kafka's DescribeConfigs sources). */
export type BrokerConfigSource = 'dynamic-broker' | 'dynamic-default' | 'static' | 'default';
/** The two dynamic levels: this broker's own settings and the cluster-wide defaults. */
export type DynamicLevel = 'broker' | 'cluster';

const INTEGER_RANGES: Partial<Record<ConfigType, [bigint, bigint, string]>> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n, 'a short'],
  int: [-(2n ** 31n), 2n ** 31n - 1n, 'an int'],
  long: [-(2n ** 63n), 2n ** 63n - 1n, 'a long'],
};

/**
 * Parses `raw` as the definition's type and checks it (Sluice's rule, then Kafka's valid values).
 * `error` is worded for a server.properties problem, `kafkaReason` as Kafka words it for AlterConfigs.
 */
export function parseConfigValue(definition: ConfigDefinition, raw: string): { value: ConfigValue } | { error: string; kafkaReason: string } {
  const text = raw.trim();
  const kafkaProblem = kafkaValueProblem(definition.type, definition.valid, raw);
  let value: ConfigValue;
  switch (definition.type) {
    case 'short':
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(text)) return { error: `"${raw}" is not an integer`, kafkaReason: kafkaProblem ?? 'not an integer' };
      const [lo, hi, what] = INTEGER_RANGES[definition.type]!;
      if (BigInt(text) < lo || BigInt(text) > hi) return { error: `${text} is out of range for ${what}`, kafkaReason: kafkaProblem ?? 'out of range' };
      value = Number(text);
      break;
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || Number.isNaN(n)) return { error: `"${raw}" is not a number`, kafkaReason: kafkaProblem ?? 'not a number' };
      value = n;
      break;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return { error: `"${raw}" is not true or false`, kafkaReason: kafkaProblem ?? 'not true or false' };
      value = lower === 'true';
      break;
    }
    case 'list':
      value = splitList(text);
      break;
    default:
      value = text;
  }
  const ownProblem = definition.validate?.(value) ?? null;
  const reason = kafkaProblem ?? ownProblem;
  return reason === null ? { value } : { error: `${text}: ${ownProblem ?? reason}`, kafkaReason: reason };
}

function splitList(text: string): string[] {
  return text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export interface LoadConfigOptions {
  /** Path of a server.properties file. */
  configFile?: string;
  /** Settings given directly (startBroker options or --override key=value), applied over the file. */
  overrides?: Record<string, string | number | boolean>;
}

interface Layer {
  raw: Map<string, string>;
  values: Map<string, ConfigValue>;
}

export class BrokerConfig {
  readonly definitions: ReadonlyMap<string, ConfigDefinition>;
  private readonly staticLayer: Layer = { raw: new Map(), values: new Map() };
  private readonly dynamic: Record<DynamicLevel, Layer> = {
    broker: { raw: new Map(), values: new Map() },
    cluster: { raw: new Map(), values: new Map() },
  };
  private readonly listeners = new Set<(changed: string[]) => void>();

  private constructor(definitions: readonly ConfigDefinition[]) {
    this.definitions = new Map(definitions.map((d) => [d.name, d]));
  }

  /** Reads and validates everything, reporting every unknown or invalid key at once. */
  static load(options: LoadConfigOptions = {}): BrokerConfig {
    const config = new BrokerConfig(brokerConfigDefinitions);
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
      // listener.name.<listener>.[<mechanism>.]<config>: checked as its base setting, as Kafka does.
      const listenerBase = config.definitions.has(key) ? null : listenerConfigBase(key);
      const definition = config.definitions.get(listenerBase ?? key);
      if (!definition) {
        problems.push(`${origin}: unknown configuration key "${key}"${suggest(key, config.definitions)}`);
        continue;
      }
      const parsed = parseConfigValue(definition, value);
      if ('error' in parsed) {
        problems.push(`${origin}: invalid value for ${key}: ${parsed.error}`);
        continue;
      }
      config.staticLayer.values.set(key, parsed.value);
      config.staticLayer.raw.set(key, value.trim());
    }
    const nodeId = config.staticLayer.values.get('node.id');
    const brokerId = config.staticLayer.values.get('broker.id');
    if (nodeId !== undefined && brokerId !== undefined && nodeId !== brokerId) {
      problems.push(`node.id (${String(nodeId)}) and broker.id (${String(brokerId)}) disagree`);
    }
    const dirs = config.list('log.dirs');
    if (new Set(dirs).size !== dirs.length) problems.push(`log.dirs: a directory is listed twice (${dirs.join(',')})`);
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

  /**
   * A setting as one listener sees it: `listener.name.<listener>.<mechanism>.<name>` (SASL
   * mechanism settings), then `listener.name.<listener>.<name>`, then the broker-wide `name`;
   * each at its highest layer. The raw text (null: not set and no default).
   */
  listenerValue(listener: string, name: string, mechanism?: string): string | null {
    const l = listener.toLowerCase();
    const keys = [...(mechanism ? [`listener.name.${l}.${mechanism.toLowerCase()}.${name}`] : []), `listener.name.${l}.${name}`];
    for (const key of keys) for (const layer of this.layers()) if (layer.raw.has(key)) return layer.raw.get(key)!;
    return this.rawValue(name);
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  private layers(): Layer[] {
    return [this.dynamic.broker, this.dynamic.cluster, this.staticLayer];
  }

  get(name: string): ConfigValue {
    for (const layer of this.layers()) if (layer.values.has(name)) return layer.values.get(name)!;
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`unknown broker config ${name}`);
    if (definition.defaultValue === null) return null;
    const parsed = parseConfigValue(definition, definition.defaultValue);
    if ('error' in parsed) throw new Error(`bad default for ${name}: ${parsed.error}`);
    return parsed.value;
  }

  /** The value as Kafka prints it in DescribeConfigs. */
  rawValue(name: string): string | null {
    return this.explicitRaw(name) ?? this.definitions.get(name)?.defaultValue ?? null;
  }

  /**
   * The value set for `name` in the dynamic or static layers, or null when only the default
   * applies; `proposed` replaces one dynamic level (to check a change before making it).
   */
  explicitRaw(name: string, proposed?: { level: DynamicLevel; values: Readonly<Record<string, string>> }): string | null {
    for (const level of ['broker', 'cluster'] as const) {
      const value = proposed?.level === level ? proposed.values[name] : this.dynamic[level].raw.get(name);
      if (value !== undefined) return value;
    }
    return this.staticLayer.raw.get(name) ?? null;
  }

  /** The static (file/override) value, or the default when not set; ignores the dynamic layers. */
  staticRawValue(name: string): string | null {
    return this.staticLayer.raw.get(name) ?? this.definitions.get(name)?.defaultValue ?? null;
  }

  isStaticallySet(name: string): boolean {
    return this.staticLayer.raw.has(name);
  }

  source(name: string): BrokerConfigSource {
    if (this.dynamic.broker.raw.has(name)) return 'dynamic-broker';
    if (this.dynamic.cluster.raw.has(name)) return 'dynamic-default';
    if (this.staticLayer.raw.has(name)) return 'static';
    return 'default';
  }

  /** The value `name` has in one layer, if it has one there ('default': a non-null default). */
  layerValue(source: BrokerConfigSource, name: string): string | undefined {
    switch (source) {
      case 'dynamic-broker':
        return this.dynamic.broker.raw.get(name);
      case 'dynamic-default':
        return this.dynamic.cluster.raw.get(name);
      case 'static':
        return this.staticLayer.raw.get(name);
      case 'default':
        return this.definitions.get(name)?.defaultValue ?? undefined;
    }
  }

  /** Kafka's type for a name: a definition's, a broker quota's, or a listener-prefixed setting's base; null when unknown. */
  typeOf(name: string): ConfigType | null {
    const definition = this.definitions.get(name);
    if (definition) return definition.type;
    if (BROKER_QUOTA_CONFIGS.includes(name)) return 'long';
    const base = listenerConfigBase(name);
    return base === null ? null : (this.definitions.get(base)?.type ?? null);
  }

  /** Names set dynamically that are not definitions (custom, quota and listener-prefixed settings). */
  customNames(): string[] {
    const names = new Set<string>();
    for (const level of ['broker', 'cluster'] as const) for (const k of this.dynamic[level].raw.keys()) if (!this.definitions.has(k)) names.add(k);
    return [...names];
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

  /** A list, whether Kafka types it as a list or as a comma-separated string (listeners, log.dirs). */
  list(name: string): string[] {
    const v = this.get(name);
    if (Array.isArray(v)) return v;
    return typeof v === 'string' ? splitList(v) : [];
  }

  get nodeId(): number {
    const brokerId = this.staticLayer.values.get('broker.id');
    return typeof brokerId === 'number' && !this.staticLayer.values.has('node.id') ? brokerId : this.int('node.id');
  }

  get dataDir(): string {
    return this.dataDirs[0];
  }

  /** Every log directory (JBOD); the first also holds the broker's own files (lock, metadata, meta.properties). */
  get dataDirs(): string[] {
    const dirs = this.list('log.dirs');
    return dirs.length > 0 ? dirs : [this.string('log.dir') ?? './data'];
  }

  /**
   * Checks what one dynamic level would hold after a change, as Kafka's DynamicBrokerConfig
   * .validateConfigs does and in its order: read-only settings, security settings that only a
   * listener prefix may carry, values, and (cluster level) per-broker settings. Names Kafka does
   * not know are allowed (Kafka keeps them as custom settings). Returns Kafka's message, or null.
   */
  validateDynamic(level: DynamicLevel, next: Readonly<Record<string, string>>): string | null {
    const names = Object.keys(next);
    const readOnly = names.filter((k) => this.definitions.get(k)?.updateMode === 'read-only');
    if (readOnly.length) return `Cannot update these configs dynamically: ${scalaSet(readOnly)}`;
    const security = names.filter((k) => LISTENER_ONLY_SECURITY_CONFIGS.has(k));
    if (security.length) return `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(security)}`;
    for (const [key, raw] of Object.entries(next)) {
      // A listener-prefixed setting is checked as its base setting, as Kafka does.
      const base = listenerConfigBase(key) ?? key;
      const reason = this.dynamicValueProblem(base, raw);
      if (reason !== null) return `Invalid value ${raw} for configuration ${base}: ${reason}`;
    }
    if (level === 'cluster') {
      const perBroker = names.filter((k) => {
        const base = listenerConfigBase(k);
        return base !== null ? !CLUSTER_LEVEL_LISTENER_CONFIGS.has(base) : this.definitions.get(k)?.updateMode === 'per-broker';
      });
      if (perBroker.length) return `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBroker)}`;
    }
    return null;
  }

  private dynamicValueProblem(name: string, raw: string): string | null {
    const definition = this.definitions.get(name);
    if (definition) {
      const parsed = parseConfigValue(definition, raw);
      return 'error' in parsed ? parsed.kafkaReason : null;
    }
    return BROKER_QUOTA_CONFIGS.includes(name) ? kafkaValueProblem('long', { min: 0 }, raw) : null;
  }

  /** Replaces one dynamic level (already validated and persisted by the caller). */
  setDynamic(level: DynamicLevel, values: ReadonlyMap<string, string>): void {
    const layer = this.dynamic[level];
    const changed = new Set([...layer.raw.keys(), ...values.keys()]);
    layer.raw.clear();
    layer.values.clear();
    for (const [key, raw] of values) {
      const definition = this.definitions.get(key);
      if (definition) {
        const parsed = parseConfigValue(definition, raw);
        if ('error' in parsed) continue; // stored by an older version with other rules: serve the rest
        layer.values.set(key, parsed.value);
      }
      // Unknown names are kept as Kafka keeps custom settings: stored and described, not used.
      layer.raw.set(key, raw);
    }
    const list = [...changed];
    for (const listener of this.listeners) listener(list);
  }

  dynamicEntries(level: DynamicLevel): Map<string, string> {
    return new Map(this.dynamic[level].raw);
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
