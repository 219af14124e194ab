import type { MessageDecl } from './types.js';

export const ShareAcknowledgeRequest: MessageDecl = {
  name: 'ShareAcknowledgeRequest',
  kind: 'request',
  apiKey: 79,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]AcknowledgeTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]AcknowledgePartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: [
                { name: 'firstOffset', type: 'int64', versions: '0+' },
                { name: 'lastOffset', type: 'int64', versions: '0+' },
                { name: 'acknowledgeTypes', type: '[]int8', versions: '0+' },
              ] },
          ] },
      ] },
  ],
};

export const ShareAcknowledgeResponse: MessageDecl = {
  name: 'ShareAcknowledgeResponse',
  kind: 'response',
  apiKey: 79,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'responses', type: '[]ShareAcknowledgeTopicResponse', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: [
                { name: 'leaderId', type: 'int32', versions: '0+' },
                { name: 'leaderEpoch', type: 'int32', versions: '0+' },
              ] },
          ] },
      ] },
    { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '0+', fields: [
        { name: 'nodeId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
      ] },
  ],
};
