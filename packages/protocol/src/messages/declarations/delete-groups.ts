import type { MessageDecl } from './types.js';

export const DeleteGroupsRequest: MessageDecl = {
  name: 'DeleteGroupsRequest',
  kind: 'request',
  apiKey: 42,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'groupsNames', type: '[]string', versions: '0+' },
  ],
};

export const DeleteGroupsResponse: MessageDecl = {
  name: 'DeleteGroupsResponse',
  kind: 'response',
  apiKey: 42,
  validVersions: '0-2',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]DeletableGroupResult', versions: '0+', fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
  ],
};
