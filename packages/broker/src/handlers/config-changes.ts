/**
 * Shared by AlterConfigs (replace all overrides) and IncrementalAlterConfigs (set, delete,
 * append, subtract): validate the resulting config set as a whole, persist it in the metadata
 * store, and apply it to the running broker and logs. Changes are serialised so two concurrent
 * requests cannot lose each other's read-modify-write.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { brokerTopicDefaults } from '@sluice/storage';
import type { BrokerContext } from '../broker-context.js';
import { errorOf } from '../broker-context.js';
import { TOPIC_DEFAULT_SYNONYMS } from '../topics/topic-manager.js';

export interface ChangeOutcome {
  errorCode: number;
  errorMessage: string | null;
}

const OK: ChangeOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };
const chains = new WeakMap<BrokerContext, Promise<unknown>>();

export function serialised<T>(broker: BrokerContext, fn: () => Promise<T>): Promise<T> {
  const previous = chains.get(broker) ?? Promise.resolve();
  const next = previous.then(fn);
  chains.set(broker, next.catch(() => undefined));
  return next;
}

/** Replaces a topic's overrides with `compute(current)`. */
export async function changeTopicConfigs(
  broker: BrokerContext,
  name: string,
  compute: (current: Record<string, string>) => Record<string, string>,
  validateOnly: boolean,
): Promise<ChangeOutcome> {
  try {
    const topic = broker.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist.` };
    const next = compute({ ...topic.configs });
    broker.topics.validateTopicConfigs(next);
    if (!validateOnly) await broker.topics.setTopicConfigs(name, next);
    return OK;
  } catch (err) {
    const { code, message } = errorOf(err, broker.log, `altering configs of topic ${name}`);
    return { errorCode: code, errorMessage: message };
  }
}

/** Replaces the broker's dynamic configs with `compute(current)`. */
export async function changeBrokerConfigs(
  broker: BrokerContext,
  resourceName: string,
  compute: (current: Record<string, string>) => Record<string, string>,
  validateOnly: boolean,
): Promise<ChangeOutcome> {
  if (resourceName !== '' && resourceName !== String(broker.nodeId)) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id ${resourceName}; this is broker ${broker.nodeId}.` };
  }
  try {
    const current = broker.metadata.brokerConfigs();
    const next = compute({ ...current });
    const changes = new Map<string, string | null>();
    for (const [k, v] of Object.entries(next)) if (current[k] !== v) changes.set(k, v);
    for (const k of Object.keys(current)) if (!(k in next)) changes.set(k, null);
    const problems = broker.config.validateDynamic(changes);
    if (problems.size) {
      const list = [...problems.values()];
      const code = list.some((p) => p.code !== 'invalid') ? ErrorCode.INVALID_REQUEST : ErrorCode.INVALID_CONFIG;
      return { errorCode: code, errorMessage: list.map((p) => p.message).join('; ') };
    }
    // The log.* defaults must also make valid topic configs (e.g. units and ranges).
    const props: Record<string, string> = {};
    for (const key of TOPIC_DEFAULT_SYNONYMS) {
      const value = next[key] ?? (broker.config.isStaticallySet(key) ? broker.config.staticRawValue(key) : null);
      if (value !== null && value !== undefined) props[key] = value;
    }
    brokerTopicDefaults(props);
    if (!validateOnly) {
      await broker.metadata.setBrokerConfigs(next);
      broker.config.setDynamic(new Map(Object.entries(next)));
      broker.log.info(`dynamic broker configs now: ${JSON.stringify(next)}`);
    }
    return OK;
  } catch (err) {
    if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.message };
    const { code, message } = errorOf(err, broker.log, 'altering broker configs');
    return { errorCode: code, errorMessage: message };
  }
}
