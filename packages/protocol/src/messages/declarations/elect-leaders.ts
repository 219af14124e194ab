import type { MessageDecl } from './types.js';

export const ElectLeadersRequest: MessageDecl = {
  name: 'ElectLeadersRequest',
  kind: 'request',
  apiKey: 43,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'electionType', type: 'int8', versions: '1+' },
    { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', nullable: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: '60000' },
  ],
};

export const ElectLeadersResponse: MessageDecl = {
  name: 'ElectLeadersResponse',
  kind: 'response',
  apiKey: 43,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '1+' },
    { name: 'replicaElectionResults', type: '[]ReplicaElectionResult', versions: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitionResult', type: '[]PartitionResult', versions: '0+', fields: [
            { name: 'partitionId', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
          ] },
      ] },
  ],
};
