import type { MessageDecl } from './types.js';

export const ShareGroupHeartbeatRequest: MessageDecl = {
  name: 'ShareGroupHeartbeatRequest',
  kind: 'request',
  apiKey: 76,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullable: '0+', default: 'null' },
  ],
};

export const ShareGroupHeartbeatResponse: MessageDecl = {
  name: 'ShareGroupHeartbeatResponse',
  kind: 'response',
  apiKey: 76,
  validVersions: '0',
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
