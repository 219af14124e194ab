import type { MessageDecl } from './types.js';

export const DeleteTopicsRequest: MessageDecl = {
  name: 'DeleteTopicsRequest',
  kind: 'request',
  apiKey: 20,
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    { name: 'topics', type: '[]DeleteTopicState', versions: '6+', fields: [
        { name: 'name', type: 'string', versions: '6+', nullable: '6+', default: 'null' },
        { name: 'topicId', type: 'uuid', versions: '6+' },
      ] },
    { name: 'topicNames', type: '[]string', versions: '0-5' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
};

export const DeleteTopicsResponse: MessageDecl = {
  name: 'DeleteTopicsResponse',
  kind: 'response',
  apiKey: 20,
  validVersions: '0-6',
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'responses', type: '[]DeletableTopicResult', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+', nullable: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '5+', nullable: '5+', default: 'null' },
      ] },
  ],
};
