/** AlterConfigs 0–2 (legacy): each resource's overrides are replaced by the given set. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { changeBrokerConfigs, changeTopicConfigs, preprocessProblems, serialised, type ChangeOutcome } from './config-changes.js';
import { ResourceType } from './describe-configs.js';
import { alterConfigsDenied } from '../security/config-checks.js';

export function alterConfigsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.AlterConfigs> {
  return {
    apiKey: ApiKey.AlterConfigs,
    minVersion: 0,
    maxVersion: 2,
    handle(request, { connection }) {
      return serialised(broker, async () => {
        const problems = preprocessProblems(request.resources, () => true);
        const responses = [];
        for (const r of request.resources) {
          const replacement: Record<string, string> = {};
          for (const c of r.configs) if (c.value !== null) replacement[c.name] = c.value;
          let outcome: ChangeOutcome | undefined = problems.get(r);
          const denied = alterConfigsDenied(broker, connection, r.resourceType, r.resourceName);
          if (outcome) {
            // refused before anything was looked at
          } else if (denied) outcome = denied; else if (r.resourceType === ResourceType.TOPIC) outcome = await changeTopicConfigs(broker, r.resourceName, () => replacement, request.validateOnly);
          else if (r.resourceType === ResourceType.BROKER) outcome = await changeBrokerConfigs(broker, r.resourceName, () => replacement, request.validateOnly);
          else outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${r.resourceType}` };
          responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
        }
        return { throttleTimeMs: 0, responses };
      });
    },
  };
}
