import type { MessageDecl } from './types.js';

export const AlterReplicaLogDirsRequest: MessageDecl = {
  name: 'AlterReplicaLogDirsRequest',
  kind: 'request',
  apiKey: 34,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'dirs', type: '[]AlterReplicaLogDir', versions: '0+', fields: [
        { name: 'path', type: 'string', versions: '0+' },
        { name: 'topics', type: '[]AlterReplicaLogDirTopic', versions: '0+', fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ] },
      ] },
  ],
};

export const AlterReplicaLogDirsResponse: MessageDecl = {
  name: 'AlterReplicaLogDirsResponse',
  kind: 'response',
  apiKey: 34,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]AlterReplicaLogDirTopicResult', versions: '0+', fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]AlterReplicaLogDirPartitionResult', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ] },
      ] },
  ],
};
