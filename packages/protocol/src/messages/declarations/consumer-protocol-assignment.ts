import type { MessageDecl } from './types.js';

export const ConsumerProtocolAssignment: MessageDecl = {
  name: 'ConsumerProtocolAssignment',
  kind: 'data',
  validVersions: '0-3',
  flexibleVersions: 'none',
  fields: [
    { name: 'assignedPartitions', type: '[]TopicPartition', versions: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    { name: 'userData', type: 'bytes', versions: '0+', nullable: '0+', default: 'null' },
  ],
};
