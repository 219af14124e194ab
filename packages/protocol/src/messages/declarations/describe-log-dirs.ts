import type { MessageDecl } from './types.js';

export const DescribeLogDirsRequest: MessageDecl = {
  name: 'DescribeLogDirsRequest',
  kind: 'request',
  apiKey: 35,
  validVersions: '0-4',
  flexibleVersions: '2+',
  fields: [
    { name: 'topics', type: '[]DescribableLogDirTopic', versions: '0+', nullable: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
  ],
};

export const DescribeLogDirsResponse: MessageDecl = {
  name: 'DescribeLogDirsResponse',
  kind: 'response',
  apiKey: 35,
  validVersions: '0-4',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '3+' },
    { name: 'results', type: '[]DescribeLogDirsResult', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'logDir', type: 'string', versions: '0+' },
        { name: 'topics', type: '[]DescribeLogDirsTopic', versions: '0+', fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]DescribeLogDirsPartition', versions: '0+', fields: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'partitionSize', type: 'int64', versions: '0+' },
                { name: 'offsetLag', type: 'int64', versions: '0+' },
                { name: 'isFutureKey', type: 'bool', versions: '0+' },
              ] },
          ] },
        { name: 'totalBytes', type: 'int64', versions: '4+', default: '-1' },
        { name: 'usableBytes', type: 'int64', versions: '4+', default: '-1' },
      ] },
  ],
};
