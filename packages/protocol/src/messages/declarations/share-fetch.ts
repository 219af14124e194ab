import type { MessageDecl } from './types.js';

export const ShareFetchRequest: MessageDecl = {
  name: 'ShareFetchRequest',
  kind: 'request',
  apiKey: 78,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'maxWaitMs', type: 'int32', versions: '0+' },
    { name: 'minBytes', type: 'int32', versions: '0+' },
    { name: 'maxBytes', type: 'int32', versions: '0+', default: '0x7fffffff' },
    { name: 'topics', type: '[]FetchTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]FetchPartition', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'partitionMaxBytes', type: 'int32', versions: '0+' },
            { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: [
                { name: 'firstOffset', type: 'int64', versions: '0+' },
                { name: 'lastOffset', type: 'int64', versions: '0+' },
                { name: 'acknowledgeTypes', type: '[]int8', versions: '0+' },
              ] },
          ] },
      ] },
    { name: 'forgottenTopicsData', type: '[]ForgottenTopic', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
  ],
};

export const ShareFetchResponse: MessageDecl = {
  name: 'ShareFetchResponse',
  kind: 'response',
  apiKey: 78,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'responses', type: '[]ShareFetchableTopicResponse', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'acknowledgeErrorCode', type: 'int16', versions: '0+' },
            { name: 'acknowledgeErrorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: [
                { name: 'leaderId', type: 'int32', versions: '0+' },
                { name: 'leaderEpoch', type: 'int32', versions: '0+' },
              ] },
            { name: 'records', type: 'records', versions: '0+', nullable: '0+' },
            { name: 'acquiredRecords', type: '[]AcquiredRecords', versions: '0+', fields: [
                { name: 'firstOffset', type: 'int64', versions: '0+' },
                { name: 'lastOffset', type: 'int64', versions: '0+' },
                { name: 'deliveryCount', type: 'int16', versions: '0+' },
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
