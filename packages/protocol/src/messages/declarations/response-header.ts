import type { MessageDecl } from './types.js';

export const ResponseHeader: MessageDecl = {
  name: 'ResponseHeader',
  kind: 'header',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'correlationId', type: 'int32', versions: '0+' },
  ],
};
