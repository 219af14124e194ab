import type { MessageDecl } from './types.js';

export const EndTxnRequest: MessageDecl = {
  name: 'EndTxnRequest',
  kind: 'request',
  apiKey: 26,
  validVersions: '0-5',
  latestVersionUnstable: true,
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'committed', type: 'bool', versions: '0+' },
  ],
};

export const EndTxnResponse: MessageDecl = {
  name: 'EndTxnResponse',
  kind: 'response',
  apiKey: 26,
  validVersions: '0-5',
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '5+', default: '-1' },
    { name: 'producerEpoch', type: 'int16', versions: '5+', default: '-1' },
  ],
};
