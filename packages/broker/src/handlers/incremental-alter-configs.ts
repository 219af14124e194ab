/**
 * IncrementalAlterConfigs 0–1: SET, DELETE, APPEND and SUBTRACT (list-typed keys only) on topics
 * and the broker; persisted and applied without a restart.
 */
import { ApiKey, ErrorCode, KafkaError, type IncrementalAlterConfigsRequestAlterableConfig } from '@sluice/protocol';
import { topicConfigDefinition } from '../topics/topic-configs.js';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { changeBrokerConfigs, changeTopicConfigs, preprocessProblems, serialised, type ChangeOutcome } from './config-changes.js';
import { ResourceType } from './describe-configs.js';
import { alterConfigsDenied } from '../security/config-checks.js';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/** How a resource type answers APPEND/SUBTRACT: Kafka's broker and controller word it differently. */
interface ListRules {
  /** null: a name Kafka does not know. */
  isList(key: string): boolean | null;
  /** The value a first APPEND/SUBTRACT starts from when the resource does not set the key: Kafka's default. */
  defaultOf(key: string): string | null;
  notList(op: 'APPEND' | 'SUBTRACT', key: string): KafkaError;
}

const topicRules: ListRules = {
  isList: (key) => topicConfigDefinition(key)?.type === 'list',
  defaultOf: (key) => topicConfigDefinition(key)?.defaultValue ?? null,
  // The controller's message (ConfigurationControlManager), unknown names included.
  notList: (op, key) => new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${op} to key ${key} because its type is not LIST.`),
};

function brokerRules(broker: BrokerContext): ListRules {
  return {
    isList: (key) => {
      const type = broker.config.typeOf(key);
      return type === null ? null : type === 'list';
    },
    defaultOf: (key) => broker.config.definitions.get(key)?.defaultValue ?? null,
    // The forwarding broker's messages (ConfigAdminManager.prepareIncrementalConfigs).
    notList: (op, key) =>
      broker.config.typeOf(key) === null
        ? new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${key}`)
        : new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${op.toLowerCase()} is not allowed for config key: ${key}`),
  };
}

function applyOps(current: Record<string, string>, ops: IncrementalAlterConfigsRequestAlterableConfig[], rules: ListRules): Record<string, string> {
  const next = { ...current };
  for (const op of ops) {
    switch (op.configOperation) {
      case SET:
        next[op.name] = op.value!;
        break;
      case DELETE:
        delete next[op.name];
        break;
      case APPEND:
      case SUBTRACT: {
        if (!rules.isList(op.name)) throw rules.notList(op.configOperation === APPEND ? 'APPEND' : 'SUBTRACT', op.name);
        const base = next[op.name] ?? rules.defaultOf(op.name) ?? '';
        const items = base.split(',').map((s) => s.trim()).filter(Boolean);
        const given = (op.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const result = op.configOperation === APPEND ? [...items, ...given.filter((g) => !items.includes(g))] : items.filter((i) => !given.includes(i));
        next[op.name] = result.join(',');
        break;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${op.configOperation}`);
    }
  }
  return next;
}

export function incrementalAlterConfigsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.IncrementalAlterConfigs> {
  return {
    apiKey: ApiKey.IncrementalAlterConfigs,
    minVersion: 0,
    maxVersion: 1,
    handle(request, { connection }) {
      return serialised(broker, async () => {
        const problems = preprocessProblems(request.resources, (c) => c.configOperation !== DELETE);
        const responses = [];
        for (const r of request.resources) {
          let outcome: ChangeOutcome | undefined = problems.get(r) ?? alterConfigsDenied(broker, connection, r.resourceType, r.resourceName) ?? undefined;
          if (outcome) {
            // refused before anything was looked at
          } else if (r.resourceType === ResourceType.TOPIC) {
            outcome = await changeTopicConfigs(broker, r.resourceName, (current) => applyOps(current, r.configs, topicRules), request.validateOnly);
          } else if (r.resourceType === ResourceType.BROKER) {
            outcome = await changeBrokerConfigs(broker, r.resourceName, (current) => applyOps(current, r.configs, brokerRules(broker)), request.validateOnly);
          } else if (r.resourceType === ResourceType.BROKER_LOGGER) {
            outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker loggers cannot be altered.' };
          } else {
            outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${r.resourceType}` };
          }
          responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
        }
        return { throttleTimeMs: 0, responses };
      });
    },
  };
}
