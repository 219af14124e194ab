import type { MessageDecl } from './types.js';

export const CreatePartitionsRequest: MessageDecl = {
  name: 'CreatePartitionsRequest',
  kind: 'request',
  apiKey: 37,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'topics', type: '[]CreatePartitionsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'count', type: 'int32', versions: '0+' },
        { name: 'assignments', type: '[]CreatePartitionsAssignment', versions: '0+', nullable: '0+', fields: [
            { name: 'brokerIds', type: '[]int32', versions: '0+' },
          ] },
      ] },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
};

export const CreatePartitionsResponse: MessageDecl = {
  name: 'CreatePartitionsResponse',
  kind: 'response',
  apiKey: 37,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]CreatePartitionsTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
      ] },
  ],
};
