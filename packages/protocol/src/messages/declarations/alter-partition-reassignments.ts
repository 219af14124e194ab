import type { MessageDecl } from './types.js';

export const AlterPartitionReassignmentsRequest: MessageDecl = {
  name: 'AlterPartitionReassignmentsRequest',
  kind: 'request',
  apiKey: 45,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: '60000' },
    { name: 'topics', type: '[]ReassignableTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]ReassignablePartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'replicas', type: '[]int32', versions: '0+', nullable: '0+', default: 'null' },
          ] },
      ] },
  ],
};

export const AlterPartitionReassignmentsResponse: MessageDecl = {
  name: 'AlterPartitionReassignmentsResponse',
  kind: 'response',
  apiKey: 45,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'responses', type: '[]ReassignableTopicResponse', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]ReassignablePartitionResponse', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
          ] },
      ] },
  ],
};
