/** The authorization of config changes (AlterConfigs, IncrementalAlterConfigs), shared by both handlers. */
import { ErrorCode } from '@sluice/protocol';
import type { Authorizing } from './checks.js';
import { canCluster, canTopic, Op } from './checks.js';
import type { Requester } from './acl-authorizer.js';

const TOPIC = 2;

/** Kafka: AlterConfigs on the topic, or on the cluster for broker resources; null when allowed. */
export function alterConfigsDenied(broker: Authorizing, who: Requester, resourceType: number, resourceName: string): { errorCode: number; errorMessage: string } | null {
  if (resourceType === TOPIC) {
    return canTopic(broker, who, Op.ALTER_CONFIGS, resourceName) ? null : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Not authorized to access the topic.' };
  }
  return canCluster(broker, who, Op.ALTER_CONFIGS) ? null : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
}
