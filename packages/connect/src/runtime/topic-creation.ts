/**
 * Topic creation by source connectors (KIP-158): with the worker's `topic.creation.enable` (true by
 * default) and a connector config that sets `topic.creation.default.replication.factor` and
 * `topic.creation.default.partitions`, a topic a source task writes to is created before its first
 * record, with the settings of the first group in `topic.creation.groups` whose `include` list
 * matches it and whose `exclude` list does not (else the `default` group). Any other
 * `topic.creation.<group>.<name>` is a topic config (`cleanup.policy`, `retention.ms`…). -1 for the
 * replication factor or partitions means the broker's default.
 */
import type { NewTopic } from '@sluice/client';
import { ConfigException } from '../api/config-def.js';

interface TopicCreationGroup {
  name: string;
  include: RegExp[];
  exclude: RegExp[];
  replicationFactor: number;
  partitions: number;
  configs: Record<string, string>;
}

const PREFIX = 'topic.creation.';
const GROUP_KEYS = new Set(['include', 'exclude', 'replication.factor', 'partitions']);

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function count(config: Record<string, string>, key: string, fallback: number | null): number {
  const raw = config[key];
  if (raw === undefined) {
    if (fallback === null) throw new ConfigException(key, `Missing required configuration "${key}" which has no default value.`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || (n < 1 && n !== -1)) throw new ConfigException(key, `Invalid value ${raw} for configuration ${key}: must be -1 (the broker's default) or at least 1`);
  return n;
}

function regexes(key: string, patterns: string[]): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(`^(?:${p})$`);
    } catch {
      throw new ConfigException(key, `Invalid value ${p} for configuration ${key}: not a regular expression`);
    }
  });
}

export class TopicCreation {
  private constructor(private readonly groups: TopicCreationGroup[]) {}

  /** The connector's topic creation rules, or null when Connect does not create its topics. */
  static of(workerRaw: Record<string, string>, config: Record<string, string>): TopicCreation | null {
    if ((workerRaw['topic.creation.enable'] ?? 'true').trim().toLowerCase() === 'false') return null;
    if (config[`${PREFIX}default.replication.factor`] === undefined && config[`${PREFIX}default.partitions`] === undefined) return null;
    const group = (name: string, defaults: TopicCreationGroup | null): TopicCreationGroup => {
      const at = `${PREFIX}${name}.`;
      const configs: Record<string, string> = {};
      for (const [k, v] of Object.entries(config)) {
        if (!k.startsWith(at)) continue;
        const rest = k.slice(at.length);
        if (!GROUP_KEYS.has(rest)) configs[rest] = v;
      }
      return {
        name,
        include: defaults ? regexes(`${at}include`, list(config[`${at}include`])) : [/^.*$/],
        exclude: regexes(`${at}exclude`, list(config[`${at}exclude`])),
        replicationFactor: count(config, `${at}replication.factor`, defaults ? defaults.replicationFactor : null),
        partitions: count(config, `${at}partitions`, defaults ? defaults.partitions : null),
        configs: defaults ? { ...defaults.configs, ...configs } : configs,
      };
    };
    const defaults = group('default', null);
    const named = list(config[`${PREFIX}groups`]).filter((g) => g !== 'default').map((g) => group(g, defaults));
    return new TopicCreation([...named, defaults]);
  }

  /** The topic to create for `topic`: the first matching group's settings. */
  newTopic(topic: string): NewTopic {
    const g = this.groups.find((x) => x.include.some((r) => r.test(topic)) && !x.exclude.some((r) => r.test(topic))) ?? this.groups[this.groups.length - 1];
    return {
      topic,
      ...(g.partitions > 0 ? { numPartitions: g.partitions } : {}),
      ...(g.replicationFactor > 0 ? { replicationFactor: g.replicationFactor } : {}),
      configs: g.configs,
    };
  }
}
