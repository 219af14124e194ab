import type { MessageDecl } from './types.js';

export const ListClientMetricsResourcesRequest: MessageDecl = {
  name: 'ListClientMetricsResourcesRequest',
  kind: 'request',
  apiKey: 74,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [],
};

export const ListClientMetricsResourcesResponse: MessageDecl = {
  name: 'ListClientMetricsResourcesResponse',
  kind: 'response',
  apiKey: 74,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'clientMetricsResources', type: '[]ClientMetricsResource', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
      ] },
  ],
};
