import type { MessageDecl } from './types.js';

export const AlterUserScramCredentialsRequest: MessageDecl = {
  name: 'AlterUserScramCredentialsRequest',
  kind: 'request',
  apiKey: 51,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'deletions', type: '[]ScramCredentialDeletion', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
      ] },
    { name: 'upsertions', type: '[]ScramCredentialUpsertion', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
        { name: 'iterations', type: 'int32', versions: '0+' },
        { name: 'salt', type: 'bytes', versions: '0+' },
        { name: 'saltedPassword', type: 'bytes', versions: '0+' },
      ] },
  ],
};

export const AlterUserScramCredentialsResponse: MessageDecl = {
  name: 'AlterUserScramCredentialsResponse',
  kind: 'response',
  apiKey: 51,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]AlterUserScramCredentialsResult', versions: '0+', fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      ] },
  ],
};
