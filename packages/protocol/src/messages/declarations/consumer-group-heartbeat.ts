import type { MessageDecl } from './types.js';

export const ConsumerGroupHeartbeatRequest: MessageDecl = {
  name: 'ConsumerGroupHeartbeatRequest',
  kind: 'request',
  apiKey: 68,
  validVersions: '0-1',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'instanceId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: '-1' },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'subscribedTopicRegex', type: 'string', versions: '1+', nullable: '1+', default: 'null' },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', nullable: '0+', default: 'null', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
  ],
};

export const ConsumerGroupHeartbeatResponse: MessageDecl = {
  name: 'ConsumerGroupHeartbeatResponse',
  kind: 'response',
  apiKey: 68,
  validVersions: '0-1',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
    { name: 'assignment', type: 'Assignment', versions: '0+', nullable: '0+', default: 'null', fields: [
        { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+' },
      ] },
  ],
  commonStructs: [
    { name: 'TopicPartitions', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
  ],
};
