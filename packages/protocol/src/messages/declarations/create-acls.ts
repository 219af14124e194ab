import type { MessageDecl } from './types.js';

export const CreateAclsRequest: MessageDecl = {
  name: 'CreateAclsRequest',
  kind: 'request',
  apiKey: 30,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'creations', type: '[]AclCreation', versions: '0+', fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'resourcePatternType', type: 'int8', versions: '1+', default: '3' },
        { name: 'principal', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ] },
  ],
};

export const CreateAclsResponse: MessageDecl = {
  name: 'CreateAclsResponse',
  kind: 'response',
  apiKey: 30,
  validVersions: '0-3',
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]AclCreationResult', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      ] },
  ],
};
