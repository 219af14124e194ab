import type { MessageDecl } from './types.js';

export const CreateDelegationTokenRequest: MessageDecl = {
  name: 'CreateDelegationTokenRequest',
  kind: 'request',
  apiKey: 38,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'ownerPrincipalType', type: 'string', versions: '3+', nullable: '3+' },
    { name: 'ownerPrincipalName', type: 'string', versions: '3+', nullable: '3+' },
    { name: 'renewers', type: '[]CreatableRenewers', versions: '0+', fields: [
        { name: 'principalType', type: 'string', versions: '0+' },
        { name: 'principalName', type: 'string', versions: '0+' },
      ] },
    { name: 'maxLifetimeMs', type: 'int64', versions: '0+' },
  ],
};

export const CreateDelegationTokenResponse: MessageDecl = {
  name: 'CreateDelegationTokenResponse',
  kind: 'response',
  apiKey: 38,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'principalType', type: 'string', versions: '0+' },
    { name: 'principalName', type: 'string', versions: '0+' },
    { name: 'tokenRequesterPrincipalType', type: 'string', versions: '3+' },
    { name: 'tokenRequesterPrincipalName', type: 'string', versions: '3+' },
    { name: 'issueTimestampMs', type: 'int64', versions: '0+' },
    { name: 'expiryTimestampMs', type: 'int64', versions: '0+' },
    { name: 'maxTimestampMs', type: 'int64', versions: '0+' },
    { name: 'tokenId', type: 'string', versions: '0+' },
    { name: 'hmac', type: 'bytes', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
};
