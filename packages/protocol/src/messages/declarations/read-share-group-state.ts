import type { MessageDecl } from './types.js';

export const ReadShareGroupStateRequest: MessageDecl = {
  name: 'ReadShareGroupStateRequest',
  kind: 'request',
  apiKey: 84,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]ReadStateData', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
          ] },
      ] },
  ],
};

export const ReadShareGroupStateResponse: MessageDecl = {
  name: 'ReadShareGroupStateResponse',
  kind: 'response',
  apiKey: 84,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'results', type: '[]ReadStateResult', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'stateEpoch', type: 'int32', versions: '0+' },
            { name: 'startOffset', type: 'int64', versions: '0+' },
            { name: 'stateBatches', type: '[]StateBatch', versions: '0+', fields: [
                { name: 'firstOffset', type: 'int64', versions: '0+' },
                { name: 'lastOffset', type: 'int64', versions: '0+' },
                { name: 'deliveryState', type: 'int8', versions: '0+' },
                { name: 'deliveryCount', type: 'int16', versions: '0+' },
              ] },
          ] },
      ] },
  ],
};
