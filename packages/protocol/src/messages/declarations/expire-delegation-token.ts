import type { MessageDecl } from './types.js';

export const ExpireDelegationTokenRequest: MessageDecl = {
  name: 'ExpireDelegationTokenRequest',
  kind: 'request',
  apiKey: 40,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'hmac', type: 'bytes', versions: '0+' },
    { name: 'expiryTimePeriodMs', type: 'int64', versions: '0+' },
  ],
};

export const ExpireDelegationTokenResponse: MessageDecl = {
  name: 'ExpireDelegationTokenResponse',
  kind: 'response',
  apiKey: 40,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'expiryTimestampMs', type: 'int64', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
};
