import type { MessageDecl } from './types.js';

export const HeartbeatRequest: MessageDecl = {
  name: 'HeartbeatRequest',
  kind: 'request',
  apiKey: 12,
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: 'null' },
  ],
};

export const HeartbeatResponse: MessageDecl = {
  name: 'HeartbeatResponse',
  kind: 'response',
  apiKey: 12,
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
};
