/**
 * Shared by AlterConfigs (replace all overrides) and IncrementalAlterConfigs (set, delete,
 * append, subtract): validate the resulting config set as a whole, persist it in the metadata
 * store, and apply it to the running broker and logs. Changes are serialised so two concurrent
 * requests cannot lose each other's read-modify-write.
 */
import { ErrorCode, KafkaError } from '@sluice/protocol';
import { brokerTopicDefaults, parseTopicConfig } from '../topics/topic-configs.js';
import type { BrokerContext } from '../broker-context.js';
import { errorOf } from '../broker-context.js';
import { isSensitiveType } from '../config/kafka-catalogue.js';
import { explicitTopicDefaults } from '../topics/topic-manager.js';

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

/** A KafkaError's own text, without the error name our KafkaError puts in front (Kafka sends the text alone). */
export function kafkaErrorText(err: KafkaError): string {
  const prefix = `${err.errorName}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

function outcomeOf(err: unknown, broker: BrokerContext, what: string): ChangeOutcome {
  if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: kafkaErrorText(err) };
  const { code, message } = errorOf(err, broker.logger, what);
  return { errorCode: code, errorMessage: message };
}

/**
 * What both AlterConfigs APIs check before anything else (ConfigAdminManager.preprocess): a
 * resource named twice, a config named twice, a null value where one is needed.
 */
export function preprocessProblems<R extends { resourceType: number; resourceName: string; configs: { name: string; value: string | null }[] }>(
  resources: readonly R[],
  needsValue: (config: R['configs'][number]) => boolean,
): Map<R, ChangeOutcome> {
  const problems = new Map<R, ChangeOutcome>();
  const seen = new Map<string, R>();
  for (const r of resources) {
    const id = `${r.resourceType}:${r.resourceName}`;
    const earlier = seen.get(id);
    if (earlier) for (const x of [earlier, r]) problems.set(x, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.' });
    seen.set(id, r);
  }
  for (const r of resources) {
    if (problems.has(r)) continue;
    const names = r.configs.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      problems.set(r, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' });
      continue;
    }
    const nulls = r.configs.filter((c) => c.value === null && needsValue(c)).map((c) => c.name);
    if (nulls.length) problems.set(r, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${nulls.join(', ')}` });
  }
  return problems;
}

/** Kafka's answer when a BROKER resource names another broker (ConfigAdminManager.validateResourceNameIsCurrentNodeId). */
export function brokerResourceProblem(broker: BrokerContext, resourceName: string): ChangeOutcome | null {
  if (resourceName === '') return null;
  if (!/^[+-]?[0-9]+$/.test(resourceName)) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Node id must be an integer, but it is: ${resourceName}` };
  if (Number(resourceName) !== broker.nodeId) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${resourceName}` };
  }
  return null;
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
    return outcomeOf(err, broker, `altering configs of topic ${name}`);
  }
}

/**
 * Replaces the dynamic configs of one level with `compute(current)`: resource "" holds the
 * cluster-wide defaults, resource "<node id>" this broker's own. Kafka answers every refusal here
 * with INVALID_REQUEST (its forwarding broker wraps config problems so), which we keep.
 */
export async function changeBrokerConfigs(
  broker: BrokerContext,
  resourceName: string,
  compute: (current: Record<string, string>) => Record<string, string>,
  validateOnly: boolean,
): Promise<ChangeOutcome> {
  const wrongBroker = brokerResourceProblem(broker, resourceName);
  if (wrongBroker) return wrongBroker;
  const level = resourceName === '' ? 'cluster' : 'broker';
  const key = resourceName === '' ? '' : String(broker.nodeId);
  try {
    const current = broker.metadata.brokerConfigs(key);
    const next = compute({ ...current });
    const problem = broker.config.validateDynamic(level, next);
    if (problem) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
    // Kafka then checks the whole configuration the change would give; here that means the
    // topic defaults the log.* settings produce, with units and ranges of the topic configs.
    try {
      parseTopicConfig({}, brokerTopicDefaults(explicitTopicDefaults(broker.config, { level, values: next })));
    } catch (err) {
      const detail = err instanceof KafkaError ? kafkaErrorText(err) : (err as Error).message;
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Invalid dynamic configuration: ${detail}` };
    }
    if (!validateOnly) {
      await broker.metadata.setBrokerConfigs(key, next);
      broker.config.setDynamic(level, new Map(Object.entries(next)));
      const shown = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, isSensitiveType(broker.config.typeOf(k)) ? '(hidden)' : v]));
      broker.logger.info(`dynamic broker configs (${level === 'cluster' ? 'cluster default' : `broker ${key}`}) now: ${JSON.stringify(shown)}`);
    }
    return OK;
  } catch (err) {
    return outcomeOf(err, broker, 'altering broker configs');
  }
}
