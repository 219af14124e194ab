/**
 * Kafka's ACL and client-quota vocabulary for the Admin client: the wire codes of resource types,
 * pattern types, operations and permissions, with Kafka's names (as kafka-acls.sh prints them).
 */
import { AclOperation, AclPatternType, AclPermissionType, AclResourceType, type AclBindingFilter } from '@sluice/protocol';

export { AclOperation, AclPatternType, AclPermissionType, AclResourceType, type AclBinding, type AclBindingFilter } from '@sluice/protocol';

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
