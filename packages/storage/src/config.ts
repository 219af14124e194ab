/**
 * Per-topic log configuration with Kafka's names, types, defaults and validation rules.
 *
 * `topicConfigDefinitions` is the single table the broker's DescribeConfigs / AlterConfigs /
 * CreateTopics paths use: every topic config Kafka defines, with the type and default taken from
 * the generated catalogue of Kafka's docs, so the two cannot drift. `parseTopicConfig` turns a
 * string map (as those requests carry) into a typed `TopicConfig`, throwing `InvalidConfigError`
 * naming the key and the reason on bad input.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { kafkaTopicConfig } from './kafka-topic-catalogue.js';

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
  /** Default as Kafka prints it in DescribeConfigs. */
  defaultValue: string;
  /** Broker properties in precedence order (first present wins); Kafka's ServerTopicConfigSynonyms. */
  synonyms: BrokerSynonym[];
  /** Returns a reason when the parsed value is not acceptable, null when fine. */
  validate: (value: ConfigValue) => string | null;
  description: string;
  /** Accepted, kept and described, but nothing in Sluice acts on it (yet). */
  storedOnly?: boolean;
}

export type ConfigValue = number | boolean | string | string[];

/** INVALID_CONFIG, naming the offending key and why its value was refused. */
export class InvalidConfigError extends KafkaError {
  readonly key: string;
  constructor(key: string, reason: string, message = `invalid value for topic config ${key}: ${reason}`) {
    super(ErrorCode.INVALID_CONFIG, message);
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
  // Stored only: kept so DescribeConfigs reports them; nothing acts on them yet.
  compressionGzipLevel: number;
  compressionLz4Level: number;
  compressionZstdLevel: number;
  followerReplicationThrottledReplicas: string[];
  leaderReplicationThrottledReplicas: string[];
  localRetentionBytes: number;
  localRetentionMs: number;
  remoteLogCopyDisable: boolean;
  remoteLogDeleteOnDisable: boolean;
  remoteStorageEnable: boolean;
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

/** A row of the table: type and default come from Kafka's catalogue, the rest is ours. */
function topic(
  name: string,
  synonyms: BrokerSynonym[],
  validate: (value: ConfigValue) => string | null,
  description: string,
  storedOnly = false,
): TopicConfigDefinition {
  const spec = kafkaTopicConfig(name);
  if (!spec || spec.defaultValue === null) throw new Error(`${name} is not a Kafka topic config with a default`);
  if (spec.type !== 'int' && spec.type !== 'long' && spec.type !== 'double' && spec.type !== 'boolean' && spec.type !== 'string' && spec.type !== 'list') {
    throw new Error(`${name}: topic configs of type ${spec.type} are not supported`);
  }
  return { name, type: spec.type, defaultValue: spec.defaultValue, synonyms, validate, description, ...(storedOnly ? { storedOnly } : {}) };
}

/** Kafka's ThrottledReplicaListValidator: `*` alone, or partition:broker pairs. */
const replicaList = (v: ConfigValue) => {
  const items = v as string[];
  if (items.length === 1 && items[0] === '*') return null;
  return items.every((i) => /^[0-9]+:[0-9]+$/.test(i)) ? null : "must be '*' or a list of partitionId:brokerId pairs";
};
const gzipLevel = (v: ConfigValue) => ((v as number) === -1 || ((v as number) >= 1 && (v as number) <= 9) ? null : 'must be between 1 and 9, or -1');
/** Kafka refuses remote.storage.enable=true while the broker has no tiered storage; Sluice has none. */
const noTieredStorage = (v: ConfigValue) => (v === true ? 'is not allowed: Tiered Storage functionality is disabled in the broker' : null);

export const topicConfigDefinitions: readonly TopicConfigDefinition[] = [
  topic('cleanup.policy', [same('log.cleanup.policy')], listOf(['delete', 'compact']),
    'delete: drop old segments by time/size; compact: keep only the latest record per key; both may be combined.'),
  topic('compression.gzip.level', [same('compression.gzip.level')], gzipLevel,
    'Gzip level for batches the broker compresses itself (compression.type=gzip).', true),
  topic('compression.lz4.level', [same('compression.lz4.level')], between(1, 17),
    'LZ4 level for batches the broker compresses itself (compression.type=lz4).', true),
  topic('compression.type', [same('compression.type')], oneOf(['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer']),
    "Codec batches are stored with; 'producer' keeps whatever the producer sent."),
  topic('compression.zstd.level', [same('compression.zstd.level')], between(-131072, 22),
    'Zstandard level for batches the broker compresses itself (compression.type=zstd).', true),
  topic('delete.retention.ms', [ms('log.cleaner.delete.retention.ms')], atLeast(0),
    'How long a tombstone survives compaction, so consumers reading behind can still see the delete.'),
  topic('file.delete.delay.ms', [ms('log.segment.delete.delay.ms')], atLeast(0),
    'Grace period between a segment leaving the log and its files being unlinked (Sluice reference-counts segments instead).', true),
  topic('flush.messages', [same('log.flush.interval.messages')], atLeast(1),
    'Force an fsync after this many messages; 1 makes every append durable before it is acknowledged.'),
  // Kafka falls back to log.flush.scheduler.interval.ms when log.flush.interval.ms is not set.
  topic('flush.ms', [ms('log.flush.interval.ms'), ms('log.flush.scheduler.interval.ms')], atLeast(0),
    'Force an fsync when unflushed data is older than this.'),
  topic('follower.replication.throttled.replicas', [], replicaList,
    'Replicas whose follower fetches are throttled (replication quotas) while out of the ISR.'),
  topic('index.interval.bytes', [same('log.index.interval.bytes')], atLeast(0),
    'Log bytes between two offset-index entries; smaller means faster seeks and bigger indexes.'),
  topic('leader.replication.throttled.replicas', [], replicaList,
    'Replicas whose leader-side replication is throttled (replication quotas) while out of the ISR.'),
  topic('local.retention.bytes', [same('log.local.retention.bytes')], atLeast(-2),
    'With tiered storage, the local part of retention.bytes; -2 means retention.bytes.', true),
  topic('local.retention.ms', [ms('log.local.retention.ms')], atLeast(-2),
    'With tiered storage, the local part of retention.ms; -2 means retention.ms.', true),
  topic('max.compaction.lag.ms', [ms('log.cleaner.max.compaction.lag.ms')], atLeast(1),
    'Longest a record may stay uncompacted; forces cleaning regardless of the dirty ratio.'),
  topic('max.message.bytes', [same('message.max.bytes')], atLeast(0),
    'Largest record batch (after compression) the log accepts.'),
  topic('message.timestamp.after.max.ms', [ms('log.message.timestamp.after.max.ms')], atLeast(0),
    'With CreateTime, reject batches whose timestamp is further than this in the future.'),
  topic('message.timestamp.before.max.ms', [ms('log.message.timestamp.before.max.ms')], atLeast(0),
    'With CreateTime, reject batches whose timestamp is further than this in the past.'),
  topic('message.timestamp.type', [same('log.message.timestamp.type')], oneOf(['CreateTime', 'LogAppendTime']),
    "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's clock into each batch."),
  topic('min.cleanable.dirty.ratio', [same('log.cleaner.min.cleanable.ratio')], between(0, 1),
    'Compact once uncompacted bytes reach this fraction of the compactable log.'),
  topic('min.compaction.lag.ms', [ms('log.cleaner.min.compaction.lag.ms')], atLeast(0),
    'Records younger than this are never compacted away.'),
  topic('min.insync.replicas', [same('min.insync.replicas')], atLeast(1),
    'Replicas that must have a write before an acks=all produce succeeds.'),
  topic('preallocate', [same('log.preallocate')], anything,
    'Reserve segment.bytes on disk when a segment is created (trimmed when it is rolled).'),
  topic('remote.log.copy.disable', [], anything,
    'With tiered storage, stop copying segments to remote storage.', true),
  topic('remote.log.delete.on.disable', [], anything,
    'With tiered storage, delete remote data when remote.storage.enable is turned off.', true),
  topic('remote.storage.enable', [], noTieredStorage,
    'Tier the log to remote storage; Sluice has none, so only false is accepted (as Kafka without tiered storage).', true),
  topic('retention.bytes', [same('log.retention.bytes')], anything,
    'Delete oldest segments while the partition is larger than this; -1 means no size limit.'),
  topic('retention.ms', [ms('log.retention.ms'), minutes('log.retention.minutes'), hours('log.retention.hours')], atLeast(-1),
    'Delete segments whose newest record is older than this; -1 means keep forever.'),
  topic('segment.bytes', [same('log.segment.bytes')], atLeast(14),
    'Roll to a new segment file once the active one reaches this size.'),
  topic('segment.index.bytes', [same('log.index.size.max.bytes')], atLeast(4),
    'Size of the offset index; a full index also rolls the segment.'),
  topic('segment.jitter.ms', [ms('log.roll.jitter.ms'), hours('log.roll.jitter.hours')], atLeast(0),
    'Random amount subtracted from segment.ms so many partitions do not roll at once.'),
  topic('segment.ms', [ms('log.roll.ms'), hours('log.roll.hours')], atLeast(1),
    'Roll to a new segment once the active one is this old, so time retention can act.'),
  topic('unclean.leader.election.enable', [same('unclean.leader.election.enable')], anything,
    'When no in-sync replica is alive, let the controller elect an out-of-sync one (availability over durability: what it lacks is lost) rather than leave the partition offline.'),
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
    if (!definitionsByName.has(key)) throw new InvalidConfigError(key, 'unknown topic config', `Unknown topic config name: ${key}`);
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
