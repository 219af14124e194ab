import type { MessageDecl } from './types.js';

export const DescribeDelegationTokenRequest: MessageDecl = {
  name: 'DescribeDelegationTokenRequest',
  kind: 'request',
  apiKey: 41,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'owners', type: '[]DescribeDelegationTokenOwner', versions: '0+', nullable: '0+', fields: [
        { name: 'principalType', type: 'string', versions: '0+' },
        { name: 'principalName', type: 'string', versions: '0+' },
      ] },
  ],
};

export const DescribeDelegationTokenResponse: MessageDecl = {
  name: 'DescribeDelegationTokenResponse',
  kind: 'response',
  apiKey: 41,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'tokens', type: '[]DescribedDelegationToken', versions: '0+', fields: [
        { name: 'principalType', type: 'string', versions: '0+' },
        { name: 'principalName', type: 'string', versions: '0+' },
        { name: 'tokenRequesterPrincipalType', type: 'string', versions: '3+' },
        { name: 'tokenRequesterPrincipalName', type: 'string', versions: '3+' },
        { name: 'issueTimestamp', type: 'int64', versions: '0+' },
        { name: 'expiryTimestamp', type: 'int64', versions: '0+' },
        { name: 'maxTimestamp', type: 'int64', versions: '0+' },
        { name: 'tokenId', type: 'string', versions: '0+' },
        { name: 'hmac', type: 'bytes', versions: '0+' },
        { name: 'renewers', type: '[]DescribedDelegationTokenRenewer', versions: '0+', fields: [
            { name: 'principalType', type: 'string', versions: '0+' },
            { name: 'principalName', type: 'string', versions: '0+' },
          ] },
      ] },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
};
