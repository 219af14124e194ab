import type { MessageDecl } from './types.js';

export const SaslAuthenticateRequest: MessageDecl = {
  name: 'SaslAuthenticateRequest',
  kind: 'request',
  apiKey: 36,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'authBytes', type: 'bytes', versions: '0+' },
  ],
};

export const SaslAuthenticateResponse: MessageDecl = {
  name: 'SaslAuthenticateResponse',
  kind: 'response',
  apiKey: 36,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: '0' },
  ],
};
