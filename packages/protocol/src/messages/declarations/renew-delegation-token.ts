import type { MessageDecl } from './types.js';

export const RenewDelegationTokenRequest: MessageDecl = {
  name: 'RenewDelegationTokenRequest',
  kind: 'request',
  apiKey: 39,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'hmac', type: 'bytes', versions: '0+' },
    { name: 'renewPeriodMs', type: 'int64', versions: '0+' },
  ],
};

export const RenewDelegationTokenResponse: MessageDecl = {
  name: 'RenewDelegationTokenResponse',
  kind: 'response',
  apiKey: 39,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'expiryTimestampMs', type: 'int64', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
};
