/**
 * Config entries as DescribeConfigs reports them, by Kafka's rules (ConfigHelper): the value, where
 * it comes from, and with includeSynonyms every layer that sets it or a broker synonym of it, in
 * precedence order.
 */
import { topicConfigDefinitions } from '../topics/topic-configs.js';
import type { DescribeConfigsResponseDescribeConfigsResourceResult, DescribeConfigsResponseDescribeConfigsSynonym } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { BrokerConfig, BrokerConfigSource } from '../config/broker-config.js';
import { ConfigTypeCode } from '../config/definitions.js';
import { brokerConfigSynonyms, isSensitiveType } from '../config/kafka-catalogue.js';

export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

type Entry = DescribeConfigsResponseDescribeConfigsResourceResult;
type Synonym = DescribeConfigsResponseDescribeConfigsSynonym;

const LAYERS: ReadonlyArray<[BrokerConfigSource, number]> = [
  ['dynamic-broker', ConfigSource.DYNAMIC_BROKER_CONFIG],
  ['dynamic-default', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
  ['static', ConfigSource.STATIC_BROKER_CONFIG],
  ['default', ConfigSource.DEFAULT_CONFIG],
];

/**
 * Kafka's ConfigHelper.configSynonyms: layer by layer (this broker's dynamic settings, the
 * cluster's dynamic defaults, server.properties, defaults), every one of `name`'s broker synonyms
 * that the layer sets; then everything before the first entry for `name` itself is dropped. So
 * log.retention.ms, which has no default, lists nothing while only log.retention.hours is set.
 */
export function brokerSynonymEntries(config: BrokerConfig, name: string, sensitive: boolean): Synonym[] {
  const names = brokerConfigSynonyms(name);
  const out: Synonym[] = [];
  for (const [layer, source] of LAYERS) {
    for (const n of names) {
      const value = config.layerValue(layer, n);
      if (value !== undefined) out.push({ name: n, value: sensitive ? null : value, source });
    }
  }
  const first = out.findIndex((s) => s.name === name);
  return first < 0 ? [] : out.slice(first);
}

/** Kafka: no keys, or an empty list, means every config. */
function wanted(keys: readonly string[] | null, name: string): boolean {
  return keys === null || keys.length === 0 || keys.includes(name);
}

export function describeTopicConfigEntries(
  broker: BrokerContext,
  overrides: Record<string, string>,
  keys: readonly string[] | null,
  includeSynonyms: boolean,
  includeDocumentation = false,
): Entry[] {
  const brokerDefaults = broker.topics.brokerTopicDefaults();
  const entries: Entry[] = [];
  for (const def of topicConfigDefinitions) {
    if (!wanted(keys, def.name)) continue;
    const synonyms: Synonym[] = [];
    if (overrides[def.name] !== undefined) synonyms.push({ name: def.name, value: overrides[def.name], source: ConfigSource.TOPIC_CONFIG });
    // Kafka follows the topic config's first broker synonym (ServerTopicConfigSynonyms.TOPIC_CONFIG_SYNONYMS).
    const brokerName = def.synonyms[0]?.key;
    if (brokerName !== undefined) synonyms.push(...brokerSynonymEntries(broker.config, brokerName, false));
    const source = synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
    entries.push({
      name: def.name,
      value: overrides[def.name] ?? brokerDefaults[def.name] ?? def.defaultValue,
      readOnly: false,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: ConfigTypeCode[def.type],
      documentation: includeDocumentation ? def.description : null,
    });
  }
  return entries;
}

/**
 * A BROKER resource. For this broker's id: every config it knows plus custom ones set
 * dynamically. For "" (the cluster-wide defaults): only the settings made at that level, with
 * only that level among the synonyms, as Kafka answers it.
 */
export function describeBrokerConfigEntries(
  broker: BrokerContext,
  resourceName: string,
  keys: readonly string[] | null,
  includeSynonyms: boolean,
  includeDocumentation = false,
): Entry[] {
  const config = broker.config;
  const clusterLevel = resourceName === '';
  const names = clusterLevel ? [...config.dynamicEntries('cluster').keys()] : [...config.definitions.keys(), ...config.customNames()];
  const entries: Entry[] = [];
  for (const name of names) {
    if (!wanted(keys, name)) continue;
    const def = config.definitions.get(name);
    const type = config.typeOf(name);
    const sensitive = isSensitiveType(type);
    let synonyms = brokerSynonymEntries(config, name, sensitive);
    if (clusterLevel) synonyms = synonyms.filter((s) => s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
    const source = synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
    const value = clusterLevel ? config.layerValue('dynamic-default', name) : def ? config.rawValue(name) : (config.layerValue('dynamic-broker', name) ?? config.layerValue('dynamic-default', name));
    entries.push({
      name,
      value: sensitive ? null : (value ?? null),
      // Kafka reports anything outside its dynamic set as read-only, custom names included.
      readOnly: def === undefined || def.updateMode === 'read-only',
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: sensitive,
      synonyms: includeSynonyms ? synonyms : [],
      configType: type === null ? 0 : ConfigTypeCode[type],
      documentation: includeDocumentation ? (def?.doc ?? null) : null,
    });
  }
  return entries;
}
