import type { MessageDecl } from './types.js';

export const UnregisterBrokerRequest: MessageDecl = {
  name: 'UnregisterBrokerRequest',
  kind: 'request',
  apiKey: 64,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'brokerId', type: 'int32', versions: '0+' },
  ],
};

export const UnregisterBrokerResponse: MessageDecl = {
  name: 'UnregisterBrokerResponse',
  kind: 'response',
  apiKey: 64,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
  ],
};
