/**
 * Declared configuration, as Kafka's `ConfigDef`: each key has a type, default (none = required),
 * importance, documentation, group and optional validator. `parse` gives typed values or throws
 * `ConfigException`; `validate` gives per-key errors for the REST validate endpoint.
 */
export type ConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD';
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW';
export type ConfigValueType = boolean | string | number | string[] | null;

export class ConfigException extends Error {
  override name = 'ConfigException';
  constructor(readonly key: string | null, message: string) {
    super(message);
  }
}

/** Throws ConfigException (with Kafka's wording) when `value` is not acceptable for `name`. */
export type Validator = ((name: string, value: ConfigValueType) => void) & { describe?: string };

export interface ConfigKey {
  name: string;
  type: ConfigType;
  /** undefined: required (no default). */
  defaultValue?: ConfigValueType;
  importance: Importance;
  documentation: string;
  group?: string;
  orderInGroup?: number;
  displayName?: string;
  validator?: Validator;
  dependents?: string[];
}

/** What the validate endpoint reports per key (Kafka's ConfigValue). */
export interface ConfigValueReport {
  name: string;
  value: string | null;
  recommendedValues: string[];
  errors: string[];
  visible: boolean;
}

export const Validators = {
  atLeast(min: number): Validator {
    const v: Validator = (name, value) => {
      if (value === null) throw new ConfigException(name, `Value must be non-null`);
      if ((value as number) < min) throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: Value must be at least ${min}`);
    };
    v.describe = `[${min},...]`;
    return v;
  },
  between(min: number, max: number): Validator {
    const v: Validator = (name, value) => {
      if (value === null || (value as number) < min || (value as number) > max) throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: Value must be between ${min} and ${max}`);
    };
    v.describe = `[${min},...,${max}]`;
    return v;
  },
  in(...allowed: string[]): Validator {
    const v: Validator = (name, value) => {
      if (value === null || !allowed.some((a) => a.toLowerCase() === String(value).toLowerCase())) {
        throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: String must be one of: ${allowed.join(', ')}`);
      }
    };
    v.describe = `[${allowed.join(', ')}]`;
    return v;
  },
  nonEmptyString(): Validator {
    const v: Validator = (name, value) => {
      if (typeof value !== 'string' || value.trim() === '') throw new ConfigException(name, `Invalid value ${String(value)} for configuration ${name}: String must be non-empty`);
    };
    v.describe = 'non-empty string';
    return v;
  },
};

export function parseType(name: string, type: ConfigType, raw: string): ConfigValueType {
  const text = raw.trim();
  switch (type) {
    case 'BOOLEAN':
      if (/^true$/i.test(text)) return true;
      if (/^false$/i.test(text)) return false;
      throw new ConfigException(name, `Invalid value ${raw} for configuration ${name}: Expected value to be either true or false`);
    case 'INT': case 'SHORT': case 'LONG': {
      if (!/^[-+]?\d+$/.test(text)) throw new ConfigException(name, `Invalid value ${raw} for configuration ${name}: Not a number of type ${type}`);
      const n = Number(text);
      const limit = type === 'INT' ? 2 ** 31 : type === 'SHORT' ? 2 ** 15 : 2 ** 63;
      if (n >= limit || n < -limit) throw new ConfigException(name, `Invalid value ${raw} for configuration ${name}: Not a number of type ${type}`);
      return n;
    }
    case 'DOUBLE': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new ConfigException(name, `Invalid value ${raw} for configuration ${name}: Not a number of type DOUBLE`);
      return n;
    }
    case 'LIST':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    case 'STRING': case 'CLASS':
      return text;
    case 'PASSWORD':
      return raw;
  }
}

function render(value: ConfigValueType | undefined): string | null {
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value.join(',') : String(value);
}

export class ConfigDef {
  readonly keys = new Map<string, ConfigKey>();

  define(key: ConfigKey): this {
    if (this.keys.has(key.name)) throw new ConfigException(key.name, `Configuration ${key.name} is defined twice.`);
    this.keys.set(key.name, key);
    return this;
  }

  /** This definition plus another's keys (the other's win on a clash, as connector keys beside the framework's). */
  merge(other: ConfigDef): ConfigDef {
    const out = new ConfigDef();
    for (const k of this.keys.values()) out.keys.set(k.name, k);
    for (const k of other.keys.values()) out.keys.set(k.name, k);
    return out;
  }

  /** Typed values for every defined key; throws the first problem. */
  parse(props: Record<string, string>): Record<string, ConfigValueType> {
    const out: Record<string, ConfigValueType> = {};
    for (const key of this.keys.values()) out[key.name] = this.parseOne(key, props[key.name]);
    return out;
  }

  private parseOne(key: ConfigKey, raw: string | undefined): ConfigValueType {
    let value: ConfigValueType;
    if (raw !== undefined) value = parseType(key.name, key.type, raw);
    else if (key.defaultValue !== undefined) value = key.defaultValue;
    else throw new ConfigException(key.name, `Missing required configuration "${key.name}" which has no default value.`);
    if (key.validator) key.validator(key.name, value);
    return value;
  }

  /** Per-key reports in definition order, never throwing. */
  validate(props: Record<string, string>): ConfigValueReport[] {
    return [...this.keys.values()].map((key) => {
      const raw = props[key.name];
      const report: ConfigValueReport = { name: key.name, value: raw ?? render(key.defaultValue), recommendedValues: [], errors: [], visible: true };
      try {
        this.parseOne(key, raw);
      } catch (err) {
        report.errors.push((err as Error).message);
      }
      if (key.type === 'PASSWORD' && report.value !== null) report.value = '[hidden]';
      return report;
    });
  }

  /** Kafka's ConfigKeyInfo JSON as the validate endpoint shows it. */
  static definitionJson(key: ConfigKey, order: number): Record<string, unknown> {
    return {
      name: key.name,
      type: key.type,
      required: key.defaultValue === undefined,
      default_value: key.defaultValue === undefined ? null : render(key.defaultValue),
      importance: key.importance,
      documentation: key.documentation,
      group: key.group ?? null,
      width: 'NONE',
      display_name: key.displayName ?? key.name,
      dependents: key.dependents ?? [],
      order: key.orderInGroup ?? order,
    };
  }
}
