import type { MessageDecl } from './types.js';

/*
 * The records of the internal `__consumer_offsets` topic. They come from Kafka's group
 * coordinator, not the client protocol, so they are declared here rather than compared with the
 * client-protocol reference. The key's int16 version doubles as the record type: 0/1 offset
 * commit, 2 group metadata (3+ are KIP-848 records). Values carry their own int16 version.
 */

export const OffsetCommitKey: MessageDecl = {
  name: 'OffsetCommitKey',
  kind: 'data',
  validVersions: '0-1',
  flexibleVersions: 'none',
  fields: [
    { name: 'group', type: 'string', versions: '0+' },
    { name: 'topic', type: 'string', versions: '0+' },
    { name: 'partition', type: 'int32', versions: '0+' },
  ],
};

export const OffsetCommitValue: MessageDecl = {
  name: 'OffsetCommitValue',
  kind: 'data',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'offset', type: 'int64', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '3+', default: '-1' },
    { name: 'metadata', type: 'string', versions: '0+' },
    { name: 'commitTimestamp', type: 'int64', versions: '0+' },
    { name: 'expireTimestamp', type: 'int64', versions: '1', default: '-1' },
  ],
};

export const GroupMetadataKey: MessageDecl = {
  name: 'GroupMetadataKey',
  kind: 'data',
  validVersions: '2',
  flexibleVersions: 'none',
  fields: [{ name: 'group', type: 'string', versions: '2' }],
};

export const GroupMetadataValue: MessageDecl = {
  name: 'GroupMetadataValue',
  kind: 'data',
  validVersions: '0-4',
  flexibleVersions: '4+',
  fields: [
    { name: 'protocolType', type: 'string', versions: '0+' },
    { name: 'generation', type: 'int32', versions: '0+' },
    { name: 'protocol', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'leader', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'currentStateTimestamp', type: 'int64', versions: '2+', default: '-1' },
    { name: 'members', type: '[]MemberMetadata', versions: '0+' },
  ],
  commonStructs: [
    {
      name: 'MemberMetadata',
      versions: '0+',
      fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: 'null' },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        { name: 'rebalanceTimeout', type: 'int32', versions: '1+' },
        { name: 'sessionTimeout', type: 'int32', versions: '0+' },
        { name: 'subscription', type: 'bytes', versions: '0+' },
        { name: 'assignment', type: 'bytes', versions: '0+' },
      ],
    },
  ],
};
