/**
 * Config entries as DescribeConfigs reports them: the effective value, where it comes from
 * (topic override, dynamic or static broker setting, default), and with includeSynonyms every
 * layer that sets it in precedence order.
 */
import { topicConfigDefinitions } from '@sluice/storage';
import type { DescribeConfigsResponseDescribeConfigsResourceResult, DescribeConfigsResponseDescribeConfigsSynonym } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { ConfigTypeCode } from '../config/definitions.js';

export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

type Entry = DescribeConfigsResponseDescribeConfigsResourceResult;

function brokerSource(broker: BrokerContext, key: string): number {
  const source = broker.config.source(key);
  return source === 'dynamic' ? ConfigSource.DYNAMIC_BROKER_CONFIG : source === 'static' ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
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
    if (keys && !keys.includes(def.name)) continue;
    const synonyms: DescribeConfigsResponseDescribeConfigsSynonym[] = [];
    if (overrides[def.name] !== undefined) synonyms.push({ name: def.name, value: overrides[def.name], source: ConfigSource.TOPIC_CONFIG });
    for (const s of def.synonyms) {
      if (broker.config.has(s.key) && broker.config.source(s.key) !== 'default') {
        synonyms.push({ name: s.key, value: broker.config.rawValue(s.key), source: brokerSource(broker, s.key) });
      }
    }
    synonyms.push({ name: def.synonyms[0]?.key ?? def.name, value: def.defaultValue, source: ConfigSource.DEFAULT_CONFIG });
    const value = overrides[def.name] ?? brokerDefaults[def.name] ?? def.defaultValue;
    const source = synonyms[0].source;
    entries.push({
      name: def.name,
      value,
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

export function describeBrokerConfigEntries(broker: BrokerContext, keys: readonly string[] | null, includeSynonyms: boolean, includeDocumentation = false): Entry[] {
  const entries: Entry[] = [];
  for (const def of broker.config.definitions.values()) {
    if (keys && !keys.includes(def.name)) continue;
    const synonyms: DescribeConfigsResponseDescribeConfigsSynonym[] = [];
    const dynamic = broker.config.dynamicEntries().get(def.name);
    if (dynamic !== undefined) synonyms.push({ name: def.name, value: def.sensitive ? null : dynamic, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    if (broker.config.isStaticallySet(def.name)) {
      synonyms.push({ name: def.name, value: def.sensitive ? null : broker.config.staticRawValue(def.name), source: ConfigSource.STATIC_BROKER_CONFIG });
    }
    if (def.defaultValue !== null) synonyms.push({ name: def.name, value: def.sensitive ? null : def.defaultValue, source: ConfigSource.DEFAULT_CONFIG });
    const source = brokerSource(broker, def.name);
    entries.push({
      name: def.name,
      value: def.sensitive ? null : broker.config.rawValue(def.name),
      readOnly: !def.dynamic,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: def.sensitive ?? false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: ConfigTypeCode[def.type],
      documentation: includeDocumentation ? def.doc : null,
    });
  }
  return entries;
}
