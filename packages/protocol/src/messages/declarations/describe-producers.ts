import type { MessageDecl } from './types.js';

export const DescribeProducersRequest: MessageDecl = {
  name: 'DescribeProducersRequest',
  kind: 'request',
  apiKey: 61,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'topics', type: '[]TopicRequest', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
      ] },
  ],
};

export const DescribeProducersResponse: MessageDecl = {
  name: 'DescribeProducersResponse',
  kind: 'response',
  apiKey: 61,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]TopicResponse', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]PartitionResponse', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'activeProducers', type: '[]ProducerState', versions: '0+', fields: [
                { name: 'producerId', type: 'int64', versions: '0+' },
                { name: 'producerEpoch', type: 'int32', versions: '0+' },
                { name: 'lastSequence', type: 'int32', versions: '0+', default: '-1' },
                { name: 'lastTimestamp', type: 'int64', versions: '0+', default: '-1' },
                { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
                { name: 'currentTxnStartOffset', type: 'int64', versions: '0+', default: '-1' },
              ] },
          ] },
      ] },
  ],
};
