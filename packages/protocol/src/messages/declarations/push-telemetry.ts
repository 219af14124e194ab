import type { MessageDecl } from './types.js';

export const PushTelemetryRequest: MessageDecl = {
  name: 'PushTelemetryRequest',
  kind: 'request',
  apiKey: 72,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
    { name: 'subscriptionId', type: 'int32', versions: '0+' },
    { name: 'terminating', type: 'bool', versions: '0+' },
    { name: 'compressionType', type: 'int8', versions: '0+' },
    { name: 'metrics', type: 'bytes', versions: '0+' },
  ],
};

export const PushTelemetryResponse: MessageDecl = {
  name: 'PushTelemetryResponse',
  kind: 'response',
  apiKey: 72,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};
