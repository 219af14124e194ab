/**
 * Broker keys that set the defaults of topic configs (log.retention.hours, log.segment.bytes, …),
 * derived from the storage layer's topic-config table so that the two never disagree. All are
 * dynamic: changing one through IncrementalAlterConfigs re-configures every topic that does not
 * override it.
 */
import { topicConfigDefinitions } from '@sluice/storage';
import type { ConfigDefinition, ConfigType } from './definitions.js';
import { brokerConfigDefinitions } from './definitions.js';

/** Kafka's broker defaults for the unit-scaled synonyms (the topic table holds milliseconds). */
const SCALED_DEFAULTS: Record<string, string> = {
  'log.retention.hours': '168',
  'log.roll.hours': '168',
  'log.roll.jitter.hours': '0',
};

export function topicDefaultDefinitions(): ConfigDefinition[] {
  const taken = new Set(brokerConfigDefinitions.map((d) => d.name));
  const out: ConfigDefinition[] = [];
  for (const topicDef of topicConfigDefinitions) {
    for (const synonym of topicDef.synonyms) {
      if (taken.has(synonym.key)) continue;
      taken.add(synonym.key);
      const scaled = synonym.scale !== 1;
      const type: ConfigType = scaled ? 'long' : topicDef.type;
      out.push({
        name: synonym.key,
        type,
        defaultValue: scaled ? (SCALED_DEFAULTS[synonym.key] ?? null) : synonym === topicDef.synonyms[0] ? topicDef.defaultValue : null,
        dynamic: true,
        validate: (value) => {
          if (value === null) return null;
          const asTopicValue = scaled && typeof value === 'number' ? value * synonym.scale : value;
          return topicDef.validate(asTopicValue as never);
        },
        doc: `Default of the topic config ${topicDef.name}: ${topicDef.description}`,
      });
    }
  }
  return out;
}
