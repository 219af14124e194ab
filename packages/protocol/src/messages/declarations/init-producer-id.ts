import type { MessageDecl } from './types.js';

export const InitProducerIdRequest: MessageDecl = {
  name: 'InitProducerIdRequest',
  kind: 'request',
  apiKey: 22,
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+', default: '-1' },
    { name: 'producerEpoch', type: 'int16', versions: '3+', default: '-1' },
  ],
};

export const InitProducerIdResponse: MessageDecl = {
  name: 'InitProducerIdResponse',
  kind: 'response',
  apiKey: 22,
  validVersions: '0-5',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+', default: '-1' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
};
