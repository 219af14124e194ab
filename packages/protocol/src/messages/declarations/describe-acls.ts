import type { MessageDecl } from './types.js';

export const DescribeAclsRequest: MessageDecl = {
  name: 'DescribeAclsRequest',
  kind: 'request',
  apiKey: 29,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
    { name: 'resourceNameFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: '3' },
    { name: 'principalFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'hostFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'operation', type: 'int8', versions: '0+' },
    { name: 'permissionType', type: 'int8', versions: '0+' },
  ],
};

export const DescribeAclsResponse: MessageDecl = {
  name: 'DescribeAclsResponse',
  kind: 'response',
  apiKey: 29,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'resources', type: '[]DescribeAclsResource', versions: '0+', fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'patternType', type: 'int8', versions: '1+', default: '3' },
        { name: 'acls', type: '[]AclDescription', versions: '0+', fields: [
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ] },
      ] },
  ],
};
