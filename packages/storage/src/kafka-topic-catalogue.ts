/**
 * Shapes of the config catalogues generated from Kafka's configuration docs
 * (scripts/generate-config-catalogue.mjs): the topic one lives here, the broker one in the broker.
 */
import { kafkaTopicConfigs } from './kafka-topic-configs.generated.js';

/** Kafka's ConfigDef types. */
export type KafkaConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

/** What Kafka's docs say a value may be: a numeric range (optionally plus one extra value), a set of strings, or a shape. */
export interface KafkaValidValues {
  min?: number;
  max?: number;
  /** A value allowed outside [min, max] (e.g. -1 for "codec default"). */
  or?: number;
  /** For a list, each item must be one of these. */
  oneOf?: readonly string[];
  caseInsensitive?: boolean;
  nonEmpty?: boolean;
  /** `*` or `partition:broker,...` (the replication throttle lists). */
  replicaList?: boolean;
}

export interface KafkaTopicConfigSpec {
  name: string;
  type: KafkaConfigType;
  /** As Kafka prints it; null when there is none. */
  defaultValue: string | null;
  /** The broker config that supplies the default, if any. */
  serverDefault: string | null;
  valid: KafkaValidValues | null;
}

export { kafkaTopicConfigs };

const byName = new Map(kafkaTopicConfigs.map((c) => [c.name, c]));

export function kafkaTopicConfig(name: string): KafkaTopicConfigSpec | undefined {
  return byName.get(name);
}
