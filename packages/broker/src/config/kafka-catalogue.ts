/**
 * What Kafka knows about broker configs, beyond the generated list of names, types, defaults and
 * update modes: the few rules its dynamic-config code hard-wires (listener-prefixed settings,
 * security settings only a listener may change, the quota settings that exist only dynamically,
 * which broker settings are synonyms of one another), and value checks with Kafka's messages.
 */
import type { KafkaConfigType, KafkaValidValues } from '@sluice/storage';
import { kafkaBrokerConfigs } from './kafka-broker-configs.generated.js';

export type UpdateMode = 'read-only' | 'per-broker' | 'cluster-wide';

export interface KafkaBrokerConfigSpec {
  name: string;
  type: KafkaConfigType;
  /** As Kafka prints it; null when Kafka has none. */
  defaultValue: string | null;
  updateMode: UpdateMode;
  valid: KafkaValidValues | null;
}

export { kafkaBrokerConfigs };

/** Kafka's SslConfigs.RECONFIGURABLE_CONFIGS: dynamically, only `listener.name.<l>.<config>` may set them. */
export const LISTENER_ONLY_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.truststore.certificates',
]);

/** Listener configs that a listener prefix does not make per-broker (DynamicBrokerConfig.ClusterLevelListenerConfigs). */
export const CLUSTER_LEVEL_LISTENER_CONFIGS: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate', 'num.network.threads']);

/** Set as `listener.name.<l>.<mechanism>.<config>` (DynamicBrokerConfig.ListenerMechanismConfigs). */
const LISTENER_MECHANISM_CONFIGS = ['sasl.jaas.config', 'sasl.login.callback.handler.class', 'sasl.login.class', 'sasl.server.callback.handler.class', 'connections.max.reauth.ms'];

/** QuotaConfig.brokerQuotaConfigs: broker settings that exist only dynamically (long, at least 0, no static default). */
export const BROKER_QUOTA_CONFIGS: readonly string[] = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second'];

/** `listener.name.<listener>.<config>` → the config part (with a mechanism part stripped for the SASL ones). */
export function listenerConfigBase(name: string): string | null {
  const m = /^listener\.name\.[^.]*\.(.*)$/.exec(name);
  if (!m) return null;
  return LISTENER_MECHANISM_CONFIGS.find((c) => m[1].endsWith(c)) ?? m[1];
}

/**
 * Kafka's DynamicBrokerConfig.brokerConfigSynonyms(name, matchListenerOverride = true): the broker
 * settings that set the same thing, highest precedence first.
 */
export function brokerConfigSynonyms(name: string): string[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.roll.jitter.ms':
    case 'log.roll.jitter.hours':
      return ['log.roll.jitter.ms', 'log.roll.jitter.hours'];
    case 'log.flush.interval.ms':
      // Only in this direction: log.flush.scheduler.interval.ms is the fallback, not a synonym.
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
  }
  const base = listenerConfigBase(name);
  return base === null ? [name] : [name, base];
}

/** Kafka hides the values of passwords, and of settings whose type it cannot tell (KafkaConfig.maybeSensitive). */
export function isSensitiveType(type: KafkaConfigType | null): boolean {
  return type === null || type === 'password';
}

/** Scala's Set#toString, which Kafka's messages print: Set(a, b) up to four elements, HashSet(…) beyond. */
export function scalaSet(names: readonly string[]): string {
  return `${names.length > 4 ? 'HashSet' : 'Set'}(${names.join(', ')})`;
}

const INT_RANGE: Partial<Record<KafkaConfigType, [bigint, bigint]>> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Checks a value as Kafka's ConfigDef parses and validates it; returns the reason Kafka gives
 * (the part after "Invalid value X for configuration Y: "), or null when Kafka accepts it.
 */
export function kafkaValueProblem(type: KafkaConfigType, valid: KafkaValidValues | null, raw: string): string | null {
  const text = raw.trim();
  let number: number | null = null;
  switch (type) {
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) return 'Expected value to be either true or false';
      break;
    case 'short':
    case 'int':
    case 'long': {
      const [lo, hi] = INT_RANGE[type]!;
      if (!/^[+-]?[0-9]+$/.test(text) || BigInt(text) < lo || BigInt(text) > hi) return `Not a number of type ${type.toUpperCase()}`;
      number = Number(text);
      break;
    }
    case 'double':
      // Java's Double.parseDouble: decimal or exponent forms, Infinity, NaN.
      if (!/^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?|Infinity|NaN)$/.test(text)) return 'Not a number of type DOUBLE';
      number = Number(text.replace(/[dDfF]$/, ''));
      break;
  }
  if (!valid) return null;
  if (number !== null && (valid.min !== undefined || valid.max !== undefined)) {
    if (valid.or !== undefined && number === valid.or) return null;
    const outside = (valid.min !== undefined && number < valid.min) || (valid.max !== undefined && number > valid.max);
    if (outside && valid.or !== undefined) return `Value must be between ${valid.min} and ${valid.max}, or ${valid.or}`;
    if (valid.min !== undefined && number < valid.min) return `Value must be at least ${valid.min}`;
    if (valid.max !== undefined && number > valid.max) return `Value must be no more than ${valid.max}`;
  }
  const items = type === 'list' ? (text === '' ? [] : text.split(/\s*,\s*/)) : [text];
  if (valid.nonEmpty && (items.length === 0 || items.every((i) => i === ''))) return type === 'list' ? 'Empty list not allowed' : 'String must be non-empty';
  if (valid.oneOf) {
    const allowed = valid.caseInsensitive ? valid.oneOf.map((s) => s.toLowerCase()) : valid.oneOf;
    const bad = items.find((i) => !allowed.includes(valid.caseInsensitive ? i.toLowerCase() : i));
    if (bad !== undefined) return `String must be one of${valid.caseInsensitive ? ' (case insensitive)' : ''}: ${valid.oneOf.join(', ')}`;
  }
  return null;
}
