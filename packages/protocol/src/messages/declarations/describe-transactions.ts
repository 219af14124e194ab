import type { MessageDecl } from './types.js';

export const DescribeTransactionsRequest: MessageDecl = {
  name: 'DescribeTransactionsRequest',
  kind: 'request',
  apiKey: 65,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'transactionalIds', type: '[]string', versions: '0+' },
  ],
};

export const DescribeTransactionsResponse: MessageDecl = {
  name: 'DescribeTransactionsResponse',
  kind: 'response',
  apiKey: 65,
  validVersions: '0',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'transactionStates', type: '[]TransactionState', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'transactionalId', type: 'string', versions: '0+' },
        { name: 'transactionState', type: 'string', versions: '0+' },
        { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
        { name: 'transactionStartTimeMs', type: 'int64', versions: '0+' },
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        { name: 'topics', type: '[]TopicData', versions: '0+', fields: [
            { name: 'topic', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ] },
      ] },
  ],
};
