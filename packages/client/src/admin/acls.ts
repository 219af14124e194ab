/**
 * Kafka's ACL and client-quota vocabulary for the Admin client: the wire codes of resource types,
 * pattern types, operations and permissions, with Kafka's names (as kafka-acls.sh prints them).
 */
export const AclResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
export const AclPatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** One ACL: codes as on the wire, the principal as "User:alice". */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A filter of describeAcls/deleteAcls: null and the ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

export const ANY_ACL: AclBindingFilter = Object.freeze({
  resourceType: AclResourceType.ANY,
  resourceName: null,
  patternType: AclPatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermissionType.ANY,
});

const reverse = (table: Record<string, number>): Map<number, string> => new Map(Object.entries(table).map(([k, v]) => [v, k]));
const RESOURCE = reverse(AclResourceType);
const PATTERN = reverse(AclPatternType);
const OPERATION = reverse(AclOperation);
const PERMISSION = reverse(AclPermissionType);

/** Kafka's display names: Topic, Group, Cluster, TransactionalId, …; Read, IdempotentWrite, …; Allow/Deny. */
function camel(name: string): string {
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
export const resourceTypeName = (code: number): string => camel(RESOURCE.get(code) ?? 'UNKNOWN');
export const patternTypeName = (code: number): string => PATTERN.get(code) ?? 'UNKNOWN';
export const operationName = (code: number): string => camel(OPERATION.get(code) ?? 'UNKNOWN');
export const permissionTypeName = (code: number): string => camel(PERMISSION.get(code) ?? 'UNKNOWN');

/** Parses an operation as kafka-acls.sh takes it (Read, read, IdempotentWrite, idempotent_write, All). */
export function parseOperation(text: string): number | null {
  const key = text.replace(/[-_\s]/g, '').toUpperCase();
  for (const [name, code] of Object.entries(AclOperation)) if (name.replace(/_/g, '') === key) return code;
  return null;
}

/** A client-quota entity: entity type ("user", "client-id") to name; null is the default entity. */
export type ClientQuotaEntity = Record<string, string | null>;

export interface ClientQuotaEntry {
  entity: ClientQuotaEntity;
  values: Record<string, number>;
}

export interface ClientQuotaFilterComponent {
  entityType: string;
  /** 0 exact name, 1 the default entity, 2 any specified (non-default) name. */
  matchType: 0 | 1 | 2;
  match: string | null;
}

export interface ClientQuotaAlteration {
  entity: ClientQuotaEntity;
  /** A value sets the key, null removes it. */
  ops: Array<{ key: string; value: number | null }>;
}
