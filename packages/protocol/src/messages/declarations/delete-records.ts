import type { MessageDecl } from './types.js';

export const DeleteRecordsRequest: MessageDecl = {
  name: 'DeleteRecordsRequest',
  kind: 'request',
  apiKey: 21,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'topics', type: '[]DeleteRecordsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]DeleteRecordsPartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'offset', type: 'int64', versions: '0+' },
          ] },
      ] },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
};

export const DeleteRecordsResponse: MessageDecl = {
  name: 'DeleteRecordsResponse',
  kind: 'response',
  apiKey: 21,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]DeleteRecordsTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]DeleteRecordsPartitionResult', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'lowWatermark', type: 'int64', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ] },
      ] },
  ],
};
