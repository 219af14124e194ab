import type { MessageDecl } from './types.js';

export const RemoveRaftVoterRequest: MessageDecl = {
  name: 'RemoveRaftVoterRequest',
  kind: 'request',
  apiKey: 81,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'voterId', type: 'int32', versions: '0+' },
    { name: 'voterDirectoryId', type: 'uuid', versions: '0+' },
  ],
};

export const RemoveRaftVoterResponse: MessageDecl = {
  name: 'RemoveRaftVoterResponse',
  kind: 'response',
  apiKey: 81,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
  ],
};
