import type { MessageDecl } from './types.js';

export const RequestHeader: MessageDecl = {
  name: 'RequestHeader',
  kind: 'header',
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'requestApiKey', type: 'int16', versions: '0+' },
    { name: 'requestApiVersion', type: 'int16', versions: '0+' },
    { name: 'correlationId', type: 'int32', versions: '0+' },
    { name: 'clientId', type: 'string', versions: '1+', nullable: '1+', flexible: 'none' },
  ],
};
