/** Shorthands for the authorization checks of request handlers (Kafka's per-API rules). */
import { AclOperation, CLUSTER_NAME, ResourceType } from './acls.js';
import type { Authorizer, Requester } from './acl-authorizer.js';

export { AclOperation as Op };

export interface Authorizing {
  readonly authorizer: Authorizer;
}

export function canTopic(broker: Authorizing, who: Requester, operation: number, topic: string): boolean {
  return broker.authorizer.authorize(who, operation, ResourceType.TOPIC, topic);
}

export function canGroup(broker: Authorizing, who: Requester, operation: number, group: string): boolean {
  return broker.authorizer.authorize(who, operation, ResourceType.GROUP, group);
}

export function canCluster(broker: Authorizing, who: Requester, operation: number): boolean {
  return broker.authorizer.authorize(who, operation, ResourceType.CLUSTER, CLUSTER_NAME);
}

export function canTransactionalId(broker: Authorizing, who: Requester, operation: number, transactionalId: string): boolean {
  return broker.authorizer.authorize(who, operation, ResourceType.TRANSACTIONAL_ID, transactionalId);
}

/** Kafka's authorized-operations bit set of a resource (Metadata, DescribeCluster, DescribeGroups). */
export function authorizedOperations(broker: Authorizing, who: Requester, resourceType: number, resourceName: string, operations: readonly number[]): number {
  let bits = 0;
  for (const op of operations) if (broker.authorizer.authorize(who, op, resourceType, resourceName)) bits |= 1 << op;
  return bits;
}

export const TOPIC_OPERATIONS: readonly number[] = [
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.CREATE,
  AclOperation.DELETE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
];
export const CLUSTER_OPERATIONS: readonly number[] = [
  AclOperation.CREATE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.CLUSTER_ACTION,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
  AclOperation.IDEMPOTENT_WRITE,
];
export const GROUP_OPERATIONS: readonly number[] = [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE];
