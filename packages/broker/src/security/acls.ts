/**
 * Kafka's ACL model (org.apache.kafka.common.acl / resource): resource types, pattern types,
 * operations and permissions with Kafka's wire codes, ACL bindings and binding filters, and the
 * matching rules the authorizer and the ACL APIs share.
 */
import { AclOperation, AclPatternType, AclPermissionType, AclResourceType, type AclBinding, type AclBindingFilter } from '@sluice/protocol';
import { principalToString, type KafkaPrincipal } from './principal.js';

// The broker says ResourceType/PatternType, as Kafka's server code does.
export { AclResourceType as ResourceType, AclPatternType as PatternType, AclOperation, AclPermissionType, type AclBinding, type AclBindingFilter };
const ResourceType = AclResourceType;
const PatternType = AclPatternType;

/** The one resource name of the Cluster resource type. */
export const CLUSTER_NAME = 'kafka-cluster';
/** The wildcard resource name and principal. */
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

const names = <T extends Record<string, number>>(table: T): Map<number, string> => new Map(Object.entries(table).map(([k, v]) => [v, k]));
const RESOURCE_NAMES = names(ResourceType);
const PATTERN_NAMES = names(PatternType);
const OPERATION_NAMES = names(AclOperation);
const PERMISSION_NAMES = names(AclPermissionType);

export const resourceTypeName = (code: number): string => RESOURCE_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const patternTypeName = (code: number): string => PATTERN_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const operationName = (code: number): string => OPERATION_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const permissionTypeName = (code: number): string => PERMISSION_NAMES.get(code) ?? `UNKNOWN(${code})`;

/** A stable identity of a binding (storage keys, de-duplication). */
export function aclKey(b: AclBinding): string {
  return JSON.stringify([b.resourceType, b.patternType, b.resourceName, b.principal, b.host, b.operation, b.permissionType]);
}

/** Why a binding cannot be created (Kafka answers INVALID_REQUEST), or null when it can. */
export function aclBindingProblem(b: AclBinding): string | null {
  if (!RESOURCE_NAMES.has(b.resourceType) || b.resourceType === ResourceType.ANY || b.resourceType === ResourceType.UNKNOWN) return `invalid resource type ${b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `invalid pattern type ${b.patternType}: an ACL is LITERAL or PREFIXED`;
  if (!OPERATION_NAMES.has(b.operation) || b.operation === AclOperation.ANY || b.operation === AclOperation.UNKNOWN) return `invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY) return `invalid permission type ${b.permissionType}`;
  if (b.resourceName === '') return 'the resource name is empty';
  if (b.resourceType === ResourceType.CLUSTER && (b.resourceName !== CLUSTER_NAME || b.patternType !== PatternType.LITERAL)) return `the cluster resource is LITERAL "${CLUSTER_NAME}"`;
  if (b.patternType === PatternType.PREFIXED && b.resourceName === WILDCARD) return 'a PREFIXED ACL cannot have the wildcard name';
  const colon = b.principal.indexOf(':');
  if (colon <= 0) return `invalid principal "${b.principal}": expected Type:name, e.g. User:alice`;
  if (b.host === '') return 'the host is empty';
  return null;
}

/** Why a filter is unusable (INVALID_REQUEST), or null. */
export function aclFilterProblem(f: AclBindingFilter): string | null {
  if (!RESOURCE_NAMES.has(f.resourceType) || f.resourceType === ResourceType.UNKNOWN) return `invalid resource type ${f.resourceType}`;
  if (!PATTERN_NAMES.has(f.patternType) || f.patternType === PatternType.UNKNOWN) return `invalid pattern type ${f.patternType}`;
  if (!OPERATION_NAMES.has(f.operation) || f.operation === AclOperation.UNKNOWN) return `invalid operation ${f.operation}`;
  if (!PERMISSION_NAMES.has(f.permissionType) || f.permissionType === AclPermissionType.UNKNOWN) return `invalid permission type ${f.permissionType}`;
  return null;
}

/** Kafka's ResourcePatternFilter.matches. */
function patternMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) {
    return f.resourceName === null || f.resourceName === b.resourceName;
  }
  if (f.patternType !== PatternType.MATCH) return false;
  // MATCH: the bindings that would apply to the named resource.
  if (f.resourceName === null) return true;
  if (b.patternType === PatternType.LITERAL) return b.resourceName === f.resourceName || b.resourceName === WILDCARD;
  if (b.patternType === PatternType.PREFIXED) return f.resourceName.startsWith(b.resourceName);
  return false;
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  return (
    patternMatches(f, b) &&
    (f.principal === null || f.principal === b.principal) &&
    (f.host === null || f.host === b.host) &&
    (f.operation === AclOperation.ANY || f.operation === b.operation) &&
    (f.permissionType === AclPermissionType.ANY || f.permissionType === b.permissionType)
  );
}

/** Whether a binding's resource pattern covers a resource (literal, wildcard or prefix). */
export function bindingAppliesTo(b: AclBinding, resourceType: number, resourceName: string): boolean {
  if (b.resourceType !== resourceType) return false;
  if (b.patternType === PatternType.LITERAL) return b.resourceName === resourceName || b.resourceName === WILDCARD;
  return b.patternType === PatternType.PREFIXED && resourceName.startsWith(b.resourceName);
}

/**
 * The operations an allow ACL of `aclOp` grants for a check of `op` (Kafka's implications):
 * All grants everything; Describe is granted by Read, Write, Delete and Alter; DescribeConfigs by
 * AlterConfigs.
 */
export function allowGrants(aclOp: number, op: number): boolean {
  if (aclOp === AclOperation.ALL || aclOp === op) return true;
  if (op === AclOperation.DESCRIBE) return aclOp === AclOperation.READ || aclOp === AclOperation.WRITE || aclOp === AclOperation.DELETE || aclOp === AclOperation.ALTER;
  if (op === AclOperation.DESCRIBE_CONFIGS) return aclOp === AclOperation.ALTER_CONFIGS;
  return false;
}

export function principalMatches(aclPrincipal: string, principal: KafkaPrincipal): boolean {
  return aclPrincipal === WILDCARD_PRINCIPAL || aclPrincipal === principalToString(principal);
}

export function hostMatches(aclHost: string, host: string): boolean {
  return aclHost === WILDCARD || aclHost === host;
}
