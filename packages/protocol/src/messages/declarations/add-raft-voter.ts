import type { MessageDecl } from './types.js';

export const AddRaftVoterRequest: MessageDecl = {
  name: 'AddRaftVoterRequest',
  kind: 'request',
  apiKey: 80,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'voterId', type: 'int32', versions: '0+' },
    { name: 'voterDirectoryId', type: 'uuid', versions: '0+' },
    { name: 'listeners', type: '[]Listener', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'uint16', versions: '0+' },
      ] },
  ],
};

export const AddRaftVoterResponse: MessageDecl = {
  name: 'AddRaftVoterResponse',
  kind: 'response',
  apiKey: 80,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
  ],
};
