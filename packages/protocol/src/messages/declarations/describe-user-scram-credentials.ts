import type { MessageDecl } from './types.js';

export const DescribeUserScramCredentialsRequest: MessageDecl = {
  name: 'DescribeUserScramCredentialsRequest',
  kind: 'request',
  apiKey: 50,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'users', type: '[]UserName', versions: '0+', nullable: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
      ] },
  ],
};

export const DescribeUserScramCredentialsResponse: MessageDecl = {
  name: 'DescribeUserScramCredentialsResponse',
  kind: 'response',
  apiKey: 50,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'results', type: '[]DescribeUserScramCredentialsResult', versions: '0+', fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
        { name: 'credentialInfos', type: '[]CredentialInfo', versions: '0+', fields: [
            { name: 'mechanism', type: 'int8', versions: '0+' },
            { name: 'iterations', type: 'int32', versions: '0+' },
          ] },
      ] },
  ],
};
