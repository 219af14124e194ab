import type { MessageDecl } from './types.js';

export const SaslHandshakeRequest: MessageDecl = {
  name: 'SaslHandshakeRequest',
  kind: 'request',
  apiKey: 17,
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'mechanism', type: 'string', versions: '0+' },
  ],
};

export const SaslHandshakeResponse: MessageDecl = {
  name: 'SaslHandshakeResponse',
  kind: 'response',
  apiKey: 17,
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
};
