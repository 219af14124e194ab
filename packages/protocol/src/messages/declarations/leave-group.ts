import type { MessageDecl } from './types.js';

export const LeaveGroupRequest: MessageDecl = {
  name: 'LeaveGroupRequest',
  kind: 'request',
  apiKey: 13,
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0-2' },
    { name: 'members', type: '[]MemberIdentity', versions: '3+', fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: 'null' },
        { name: 'reason', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
      ] },
  ],
};

export const LeaveGroupResponse: MessageDecl = {
  name: 'LeaveGroupResponse',
  kind: 'response',
  apiKey: 13,
  validVersions: '0-5',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'members', type: '[]MemberResponse', versions: '3+', fields: [
        { name: 'memberId', type: 'string', versions: '3+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+' },
        { name: 'errorCode', type: 'int16', versions: '3+' },
      ] },
  ],
};
