import type { MessageDecl } from './types.js';

export const ListPartitionReassignmentsRequest: MessageDecl = {
  name: 'ListPartitionReassignmentsRequest',
  kind: 'request',
  apiKey: 46,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: '60000' },
    { name: 'topics', type: '[]ListPartitionReassignmentsTopics', versions: '0+', nullable: '0+', default: 'null', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
      ] },
  ],
};

export const ListPartitionReassignmentsResponse: MessageDecl = {
  name: 'ListPartitionReassignmentsResponse',
  kind: 'response',
  apiKey: 46,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'topics', type: '[]OngoingTopicReassignment', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]OngoingPartitionReassignment', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'replicas', type: '[]int32', versions: '0+' },
            { name: 'addingReplicas', type: '[]int32', versions: '0+' },
            { name: 'removingReplicas', type: '[]int32', versions: '0+' },
          ] },
      ] },
  ],
};
