/** ApiVersions 0–4: our version ranges, derived from the dispatcher's handler table. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';

export function apiVersionsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.ApiVersions> {
  return {
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 4,
    handle() {
      return {
        errorCode: ErrorCode.NONE,
        apiKeys: broker.dispatcher.supportedVersions(),
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      };
    },
  };
}
