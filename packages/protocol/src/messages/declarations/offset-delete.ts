import type { MessageDecl } from './types.js';

export const OffsetDeleteRequest: MessageDecl = {
  name: 'OffsetDeleteRequest',
  kind: 'request',
  apiKey: 47,
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]OffsetDeleteRequestTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]OffsetDeleteRequestPartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
          ] },
      ] },
  ],
};

export const OffsetDeleteResponse: MessageDecl = {
  name: 'OffsetDeleteResponse',
  kind: 'response',
  apiKey: 47,
  validVersions: '0',
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]OffsetDeleteResponseTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]OffsetDeleteResponsePartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ] },
      ] },
  ],
};
