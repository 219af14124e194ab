import type { MessageDecl } from './types.js';

export const ShareGroupDescribeRequest: MessageDecl = {
  name: 'ShareGroupDescribeRequest',
  kind: 'request',
  apiKey: 77,
  validVersions: '0',
  latestVersionUnstable: true,
  flexibleVersions: '0+',
  fields: [
    { name: 'groupIds', type: '[]string', versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
  ],
};

export const ShareGroupDescribeResponse: MessageDecl = {
  name: 'ShareGroupDescribeResponse',
  kind: 'response',
  apiKey: 77,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'groups', type: '[]DescribedGroup', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '0+' },
        { name: 'groupEpoch', type: 'int32', versions: '0+' },
        { name: 'assignmentEpoch', type: 'int32', versions: '0+' },
        { name: 'assignorName', type: 'string', versions: '0+' },
        { name: 'members', type: '[]Member', versions: '0+', fields: [
            { name: 'memberId', type: 'string', versions: '0+' },
            { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: 'null' },
            { name: 'memberEpoch', type: 'int32', versions: '0+' },
            { name: 'clientId', type: 'string', versions: '0+' },
            { name: 'clientHost', type: 'string', versions: '0+' },
            { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
            { name: 'assignment', type: 'Assignment', versions: '0+' },
          ] },
        { name: 'authorizedOperations', type: 'int32', versions: '0+', default: '-2147483648' },
      ] },
  ],
  commonStructs: [
    { name: 'TopicPartitions', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
    { name: 'Assignment', versions: '0+', fields: [
      { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+' },
    ] },
  ],
};
