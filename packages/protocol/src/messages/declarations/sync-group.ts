import type { MessageDecl } from './types.js';

export const SyncGroupRequest: MessageDecl = {
  name: 'SyncGroupRequest',
  kind: 'request',
  apiKey: 14,
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: 'null' },
    { name: 'protocolType', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
    { name: 'protocolName', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
    { name: 'assignments', type: '[]SyncGroupRequestAssignment', versions: '0+', fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'assignment', type: 'bytes', versions: '0+' },
      ] },
  ],
};

export const SyncGroupResponse: MessageDecl = {
  name: 'SyncGroupResponse',
  kind: 'response',
  apiKey: 14,
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'protocolType', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
    { name: 'protocolName', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
    { name: 'assignment', type: 'bytes', versions: '0+' },
  ],
};
