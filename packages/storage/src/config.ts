/**
 * Per-topic log configuration with Kafka's names, types, defaults and validation rules.
 *
 * `topicConfigDefinitions` is the single table the broker's DescribeConfigs / AlterConfigs /
 * CreateTopics paths use; `parseTopicConfig` turns a string map (as those requests carry) into a
 * typed `TopicConfig`, throwing `InvalidConfigError` naming the key and the reason on bad input.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';

export const LONG_MAX = 9223372036854775807n;

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list';

/** A broker-level property that supplies the default of a topic config, with its unit scale. */
export interface BrokerSynonym {
  key: string;
  /** Multiply the broker value by this to get the topic value (e.g. hours -> ms). */
  scale: number;
}

export interface TopicConfigDefinition {
  name: string;
  type: ConfigType;
  /** Default as Kafka would print it in DescribeConfigs (null for "no default"). */
  defaultValue: string;
  /** Broker properties in precedence order (first present wins). */
  synonyms: BrokerSynonym[];
  /** Returns a reason when the parsed value is not acceptable, null when fine. */
  validate: (value: ConfigValue) => string | null;
  description: string;
}

export type ConfigValue = number | boolean | string | string[];

/** INVALID_CONFIG, naming the offending key and why its value was refused. */
export class InvalidConfigError extends KafkaError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(ErrorCode.INVALID_CONFIG, `invalid value for topic config ${key}: ${reason}`);
    this.name = 'InvalidConfigError';
    this.key = key;
  }
}

export type CleanupPolicy = 'delete' | 'compact';
export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

export interface TopicConfig {
  cleanupPolicy: CleanupPolicy[];
  compressionType: string;
  deleteRetentionMs: number;
  fileDeleteDelayMs: number;
  /** Messages appended between forced fsyncs; 1 means every append is durable before it resolves. */
  flushMessages: number;
  flushMs: number;
  indexIntervalBytes: number;
  maxCompactionLagMs: number;
  maxMessageBytes: number;
  messageTimestampType: TimestampTypeName;
  messageTimestampBeforeMaxMs: number;
  messageTimestampAfterMaxMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  minInsyncReplicas: number;
  preallocate: boolean;
  /** -1 means unlimited. */
  retentionBytes: number;
  /** -1 means unlimited. */
  retentionMs: number;
  segmentBytes: number;
  segmentIndexBytes: number;
  segmentJitterMs: number;
  segmentMs: number;
  uncleanLeaderElectionEnable: boolean;
}

// Longs are held as JS numbers; Long.MAX_VALUE (Kafka's "never") maps to MAX_SAFE_INTEGER, which
// is still ~285,000 years in milliseconds, so comparisons behave identically.
const NEVER = Number.MAX_SAFE_INTEGER;
const LONG_MAX_TEXT = LONG_MAX.toString();

const atLeast = (min: number) => (v: ConfigValue) => ((v as number) < min ? `must be at least ${min}` : null);
const between = (min: number, max: number) => (v: ConfigValue) =>
  (v as number) < min || (v as number) > max ? `must be between ${min} and ${max}` : null;
const oneOf = (allowed: string[]) => (v: ConfigValue) =>
  allowed.includes(v as string) ? null : `must be one of ${allowed.join(', ')}`;
const listOf = (allowed: string[]) => (v: ConfigValue) => {
  const items = v as string[];
  if (items.length === 0) return `must name at least one of ${allowed.join(', ')}`;
  const bad = items.find((i) => !allowed.includes(i));
  return bad === undefined ? null : `unknown entry '${bad}' (allowed: ${allowed.join(', ')})`;
};
const anything = () => null;

const ms = (key: string): BrokerSynonym => ({ key, scale: 1 });
const minutes = (key: string): BrokerSynonym => ({ key, scale: 60_000 });
const hours = (key: string): BrokerSynonym => ({ key, scale: 3_600_000 });
const same = (key: string): BrokerSynonym => ({ key, scale: 1 });

export const topicConfigDefinitions: readonly TopicConfigDefinition[] = [
  {
    name: 'cleanup.policy', type: 'list', defaultValue: 'delete', synonyms: [same('log.cleanup.policy')],
    validate: listOf(['delete', 'compact']),
    description: 'delete: drop old segments by time/size; compact: keep only the latest record per key; both may be combined.',
  },
  {
    name: 'compression.type', type: 'string', defaultValue: 'producer', synonyms: [same('compression.type')],
    validate: oneOf(['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer']),
    description: "Codec batches are stored with; 'producer' keeps whatever the producer sent.",
  },
  {
    name: 'delete.retention.ms', type: 'long', defaultValue: '86400000', synonyms: [ms('log.cleaner.delete.retention.ms')],
    validate: atLeast(0),
    description: 'How long a tombstone survives compaction, so consumers reading behind can still see the delete.',
  },
  {
    name: 'file.delete.delay.ms', type: 'long', defaultValue: '60000', synonyms: [ms('log.segment.delete.delay.ms')],
    validate: atLeast(0),
    description: 'Grace period between a segment leaving the log and its files being unlinked.',
  },
  {
    name: 'flush.messages', type: 'long', defaultValue: LONG_MAX_TEXT, synonyms: [same('log.flush.interval.messages')],
    validate: atLeast(1),
    description: 'Force an fsync after this many messages; 1 makes every append durable before it is acknowledged.',
  },
  {
    name: 'flush.ms', type: 'long', defaultValue: LONG_MAX_TEXT, synonyms: [ms('log.flush.interval.ms')],
    validate: atLeast(0),
    description: 'Force an fsync when unflushed data is older than this.',
  },
  {
    name: 'index.interval.bytes', type: 'int', defaultValue: '4096', synonyms: [same('log.index.interval.bytes')],
    validate: atLeast(0),
    description: 'Log bytes between two offset-index entries; smaller means faster seeks and bigger indexes.',
  },
  {
    name: 'max.compaction.lag.ms', type: 'long', defaultValue: LONG_MAX_TEXT, synonyms: [ms('log.cleaner.max.compaction.lag.ms')],
    validate: atLeast(1),
    description: 'Longest a record may stay uncompacted; forces cleaning regardless of the dirty ratio.',
  },
  {
    name: 'max.message.bytes', type: 'int', defaultValue: '1048588', synonyms: [same('message.max.bytes')],
    validate: atLeast(0),
    description: 'Largest record batch (after compression) the log accepts.',
  },
  {
    name: 'message.timestamp.type', type: 'string', defaultValue: 'CreateTime', synonyms: [same('log.message.timestamp.type')],
    validate: oneOf(['CreateTime', 'LogAppendTime']),
    description: "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's clock into each batch.",
  },
  {
    name: 'message.timestamp.before.max.ms', type: 'long', defaultValue: LONG_MAX_TEXT,
    synonyms: [ms('log.message.timestamp.before.max.ms')], validate: atLeast(0),
    description: 'With CreateTime, reject batches whose timestamp is further than this in the past.',
  },
  {
    name: 'message.timestamp.after.max.ms', type: 'long', defaultValue: LONG_MAX_TEXT,
    synonyms: [ms('log.message.timestamp.after.max.ms')], validate: atLeast(0),
    description: 'With CreateTime, reject batches whose timestamp is further than this in the future.',
  },
  {
    name: 'min.cleanable.dirty.ratio', type: 'double', defaultValue: '0.5', synonyms: [same('log.cleaner.min.cleanable.ratio')],
    validate: between(0, 1),
    description: 'Compact once uncompacted bytes reach this fraction of the compactable log.',
  },
  {
    name: 'min.compaction.lag.ms', type: 'long', defaultValue: '0', synonyms: [ms('log.cleaner.min.compaction.lag.ms')],
    validate: atLeast(0),
    description: 'Records younger than this are never compacted away.',
  },
  {
    name: 'min.insync.replicas', type: 'int', defaultValue: '1', synonyms: [same('min.insync.replicas')],
    validate: atLeast(1),
    description: 'Replicas that must have a write before an acks=all produce succeeds.',
  },
  {
    name: 'preallocate', type: 'boolean', defaultValue: 'false', synonyms: [same('log.preallocate')],
    validate: anything,
    description: 'Reserve segment.bytes on disk when a segment is created (trimmed when it is rolled).',
  },
  {
    name: 'retention.bytes', type: 'long', defaultValue: '-1', synonyms: [same('log.retention.bytes')],
    validate: anything,
    description: 'Delete oldest segments while the partition is larger than this; -1 means no size limit.',
  },
  {
    name: 'retention.ms', type: 'long', defaultValue: '604800000',
    synonyms: [ms('log.retention.ms'), minutes('log.retention.minutes'), hours('log.retention.hours')],
    validate: atLeast(-1),
    description: 'Delete segments whose newest record is older than this; -1 means keep forever.',
  },
  {
    name: 'segment.bytes', type: 'int', defaultValue: '1073741824', synonyms: [same('log.segment.bytes')],
    validate: atLeast(14),
    description: 'Roll to a new segment file once the active one reaches this size.',
  },
  {
    name: 'segment.index.bytes', type: 'int', defaultValue: '10485760', synonyms: [same('log.index.size.max.bytes')],
    validate: atLeast(4),
    description: 'Size of the offset index; a full index also rolls the segment.',
  },
  {
    name: 'segment.jitter.ms', type: 'long', defaultValue: '0',
    synonyms: [ms('log.roll.jitter.ms'), hours('log.roll.jitter.hours')], validate: atLeast(0),
    description: 'Random amount subtracted from segment.ms so many partitions do not roll at once.',
  },
  {
    name: 'segment.ms', type: 'long', defaultValue: '604800000', synonyms: [ms('log.roll.ms'), hours('log.roll.hours')],
    validate: atLeast(1),
    description: 'Roll to a new segment once the active one is this old, so time retention can act.',
  },
  {
    name: 'unclean.leader.election.enable', type: 'boolean', defaultValue: 'false',
    synonyms: [same('unclean.leader.election.enable')], validate: anything,
    description: 'Allow an out-of-sync replica to become leader (availability over durability).',
  },
];

const definitionsByName = new Map(topicConfigDefinitions.map((d) => [d.name, d]));

export function topicConfigDefinition(name: string): TopicConfigDefinition | undefined {
  return definitionsByName.get(name);
}

function parseValue(def: TopicConfigDefinition, raw: string, key = def.name): ConfigValue {
  const text = raw.trim();
  switch (def.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(text)) throw new InvalidConfigError(key, `'${raw}' is not an integer`);
      const big = BigInt(text);
      const [lo, hi] = def.type === 'int' ? [-(2n ** 31n), 2n ** 31n - 1n] : [-LONG_MAX - 1n, LONG_MAX];
      if (big < lo || big > hi) throw new InvalidConfigError(key, `'${raw}' is out of range for a ${def.type}`);
      return big > BigInt(NEVER) ? NEVER : Number(big);
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new InvalidConfigError(key, `'${raw}' is not a number`);
      return n;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw new InvalidConfigError(key, `'${raw}' is not true or false`);
      return lower === 'true';
    }
    case 'string':
      return text;
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim().toLowerCase());
  }
}

function camelName(name: string): keyof TopicConfig {
  return name.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof TopicConfig;
}

/**
 * Default values derived from broker properties (`log.retention.hours=168`, ...). Unknown keys are
 * ignored; a present but invalid broker value is an error naming the broker key.
 */
export function brokerTopicDefaults(brokerProps: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of topicConfigDefinitions) {
    const synonym = def.synonyms.find((s) => brokerProps[s.key] !== undefined);
    if (!synonym) continue;
    const raw = brokerProps[synonym.key];
    if (synonym.scale === 1) {
      parseValue(def, raw, synonym.key);
      out[def.name] = raw.trim();
    } else {
      const v = parseValue({ ...def, type: 'long' }, raw, synonym.key) as number;
      out[def.name] = String(v * synonym.scale);
    }
  }
  return out;
}

/**
 * Parses topic overrides over defaults (Kafka's built-ins, then `defaults`, e.g. from
 * brokerTopicDefaults). Unknown keys and invalid values throw InvalidConfigError.
 */
export function parseTopicConfig(overrides: Record<string, string> = {}, defaults: Record<string, string> = {}): TopicConfig {
  for (const key of Object.keys(overrides)) {
    if (!definitionsByName.has(key)) throw new InvalidConfigError(key, 'unknown topic config');
  }
  const out: Record<string, ConfigValue> = {};
  for (const def of topicConfigDefinitions) {
    const raw = overrides[def.name] ?? defaults[def.name] ?? def.defaultValue;
    const value = parseValue(def, raw);
    const reason = def.validate(value);
    if (reason) throw new InvalidConfigError(def.name, `'${raw}' ${reason}`);
    out[camelName(def.name)] = def.type === 'list' ? [...new Set(value as string[])] : value;
  }
  return out as unknown as TopicConfig;
}

/** The string form of a TopicConfig, keyed by Kafka names (what DescribeConfigs returns). */
export function describeTopicConfig(config: TopicConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of topicConfigDefinitions) {
    const v = config[camelName(def.name)];
    if (Array.isArray(v)) out[def.name] = v.join(',');
    else if (typeof v === 'number' && v === NEVER && def.defaultValue === LONG_MAX_TEXT) out[def.name] = LONG_MAX_TEXT;
    else out[def.name] = String(v);
  }
  return out;
}

export const defaultTopicConfig: TopicConfig = parseTopicConfig();
