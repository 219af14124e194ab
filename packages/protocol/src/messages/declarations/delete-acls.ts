import type { MessageDecl } from './types.js';

export const DeleteAclsRequest: MessageDecl = {
  name: 'DeleteAclsRequest',
  kind: 'request',
  apiKey: 31,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'filters', type: '[]DeleteAclsFilter', versions: '0+', fields: [
        { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
        { name: 'resourceNameFilter', type: 'string', versions: '0+', nullable: '0+' },
        { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: '3' },
        { name: 'principalFilter', type: 'string', versions: '0+', nullable: '0+' },
        { name: 'hostFilter', type: 'string', versions: '0+', nullable: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ] },
  ],
};

export const DeleteAclsResponse: MessageDecl = {
  name: 'DeleteAclsResponse',
  kind: 'response',
  apiKey: 31,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'filterResults', type: '[]DeleteAclsFilterResult', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
        { name: 'matchingAcls', type: '[]DeleteAclsMatchingAcl', versions: '0+', fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
            { name: 'resourceType', type: 'int8', versions: '0+' },
            { name: 'resourceName', type: 'string', versions: '0+' },
            { name: 'patternType', type: 'int8', versions: '1+', default: '3' },
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ] },
      ] },
  ],
};
