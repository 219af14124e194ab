import type { MessageDecl } from './types.js';

export const GetTelemetrySubscriptionsRequest: MessageDecl = {
  name: 'GetTelemetrySubscriptionsRequest',
  kind: 'request',
  apiKey: 71,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
  ],
};

export const GetTelemetrySubscriptionsResponse: MessageDecl = {
  name: 'GetTelemetrySubscriptionsResponse',
  kind: 'response',
  apiKey: 71,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
    { name: 'subscriptionId', type: 'int32', versions: '0+' },
    { name: 'acceptedCompressionTypes', type: '[]int8', versions: '0+' },
    { name: 'pushIntervalMs', type: 'int32', versions: '0+' },
    { name: 'telemetryMaxBytes', type: 'int32', versions: '0+' },
    { name: 'deltaTemporality', type: 'bool', versions: '0+' },
    { name: 'requestedMetrics', type: '[]string', versions: '0+' },
  ],
};
