import type { MessageDecl } from './types.js';

export const DeleteShareGroupStateRequest: MessageDecl = {
  name: 'DeleteShareGroupStateRequest',
  kind: 'request',
  apiKey: 86,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]DeleteStateData', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
          ] },
      ] },
  ],
};

export const DeleteShareGroupStateResponse: MessageDecl = {
  name: 'DeleteShareGroupStateResponse',
  kind: 'response',
  apiKey: 86,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'results', type: '[]DeleteStateResult', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
          ] },
      ] },
  ],
};
