/**
 * IncrementalAlterConfigs 0–1: SET, DELETE, APPEND and SUBTRACT (list-typed keys only) on topics
 * and the broker; persisted and applied without a restart.
 */
import { ApiKey, ErrorCode, KafkaError, type IncrementalAlterConfigsRequestAlterableConfig } from '@sluice/protocol';
import { topicConfigDefinition } from '@sluice/storage';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { changeBrokerConfigs, changeTopicConfigs, serialised } from './config-changes.js';
import { ResourceType } from './describe-configs.js';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

function applyOps(current: Record<string, string>, ops: IncrementalAlterConfigsRequestAlterableConfig[], isList: (key: string) => boolean, effective: (key: string) => string | null): Record<string, string> {
  const next = { ...current };
  for (const op of ops) {
    switch (op.configOperation) {
      case SET:
        if (op.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for ${op.name}`);
        next[op.name] = op.value;
        break;
      case DELETE:
        delete next[op.name];
        break;
      case APPEND:
      case SUBTRACT: {
        if (!isList(op.name)) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `Config value append/subtract is not allowed for config key ${op.name}: it is not a list`);
        }
        const base = next[op.name] ?? effective(op.name) ?? '';
        const items = base.split(',').map((s) => s.trim()).filter(Boolean);
        const given = (op.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const result = op.configOperation === APPEND ? [...items, ...given.filter((g) => !items.includes(g))] : items.filter((i) => !given.includes(i));
        next[op.name] = result.join(',');
        break;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${op.configOperation} for ${op.name}`);
    }
  }
  return next;
}

export function incrementalAlterConfigsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.IncrementalAlterConfigs> {
  return {
    apiKey: ApiKey.IncrementalAlterConfigs,
    minVersion: 0,
    maxVersion: 1,
    handle(request) {
      return serialised(broker, async () => {
        const responses = [];
        for (const r of request.resources) {
          const names = r.configs.map((c) => c.name);
          let outcome: { errorCode: number; errorMessage: string | null };
          if (new Set(names).size !== names.length) {
            outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' };
          } else {
            try {
              if (r.resourceType === ResourceType.TOPIC) {
                const topic = broker.topics.get(r.resourceName);
                const defaults = broker.topics.brokerTopicDefaults();
                outcome = await changeTopicConfigs(
                  broker,
                  r.resourceName,
                  (current) =>
                    applyOps(
                      current,
                      r.configs,
                      (key) => topicConfigDefinition(key)?.type === 'list',
                      (key) => topic?.configs[key] ?? defaults[key] ?? topicConfigDefinition(key)?.defaultValue ?? null,
                    ),
                  request.validateOnly,
                );
              } else if (r.resourceType === ResourceType.BROKER) {
                outcome = await changeBrokerConfigs(
                  broker,
                  r.resourceName,
                  (current) => applyOps(current, r.configs, (key) => broker.config.definitions.get(key)?.type === 'list', (key) => (broker.config.has(key) ? broker.config.rawValue(key) : null)),
                  request.validateOnly,
                );
              } else if (r.resourceType === ResourceType.BROKER_LOGGER) {
                outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker loggers cannot be altered.' };
              } else {
                outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}.` };
              }
            } catch (err) {
              outcome = err instanceof KafkaError ? { errorCode: err.code, errorMessage: err.message } : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: String(err) };
            }
          }
          responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
        }
        return { throttleTimeMs: 0, responses };
      });
    },
  };
}
