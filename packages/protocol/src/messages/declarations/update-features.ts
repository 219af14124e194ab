import type { MessageDecl } from './types.js';

export const UpdateFeaturesRequest: MessageDecl = {
  name: 'UpdateFeaturesRequest',
  kind: 'request',
  apiKey: 57,
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: '60000' },
    { name: 'featureUpdates', type: '[]FeatureUpdateKey', versions: '0+', fields: [
        { name: 'feature', type: 'string', versions: '0+' },
        { name: 'maxVersionLevel', type: 'int16', versions: '0+' },
        { name: 'allowDowngrade', type: 'bool', versions: '0' },
        { name: 'upgradeType', type: 'int8', versions: '1+', default: '1' },
      ] },
    { name: 'validateOnly', type: 'bool', versions: '1+', default: 'false' },
  ],
};

export const UpdateFeaturesResponse: MessageDecl = {
  name: 'UpdateFeaturesResponse',
  kind: 'response',
  apiKey: 57,
  validVersions: '0-2',
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'results', type: '[]UpdatableFeatureResult', versions: '0-1', fields: [
        { name: 'feature', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      ] },
  ],
};
