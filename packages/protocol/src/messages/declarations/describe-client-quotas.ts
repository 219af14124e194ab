import type { MessageDecl } from './types.js';

export const DescribeClientQuotasRequest: MessageDecl = {
  name: 'DescribeClientQuotasRequest',
  kind: 'request',
  apiKey: 48,
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'components', type: '[]ComponentData', versions: '0+', fields: [
        { name: 'entityType', type: 'string', versions: '0+' },
        { name: 'matchType', type: 'int8', versions: '0+' },
        { name: 'match', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    { name: 'strict', type: 'bool', versions: '0+' },
  ],
};

export const DescribeClientQuotasResponse: MessageDecl = {
  name: 'DescribeClientQuotasResponse',
  kind: 'response',
  apiKey: 48,
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'entries', type: '[]EntryData', versions: '0+', nullable: '0+', fields: [
        { name: 'entity', type: '[]EntityData', versions: '0+', fields: [
            { name: 'entityType', type: 'string', versions: '0+' },
            { name: 'entityName', type: 'string', versions: '0+', nullable: '0+' },
          ] },
        { name: 'values', type: '[]ValueData', versions: '0+', fields: [
            { name: 'key', type: 'string', versions: '0+' },
            { name: 'value', type: 'float64', versions: '0+' },
          ] },
      ] },
  ],
};
