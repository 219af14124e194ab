import type { MessageDecl } from './types.js';

export const AddOffsetsToTxnRequest: MessageDecl = {
  name: 'AddOffsetsToTxnRequest',
  kind: 'request',
  apiKey: 25,
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
};

export const AddOffsetsToTxnResponse: MessageDecl = {
  name: 'AddOffsetsToTxnResponse',
  kind: 'response',
  apiKey: 25,
  validVersions: '0-4',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};
