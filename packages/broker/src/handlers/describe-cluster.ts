/** DescribeCluster 0–1: this broker, as the cluster's only broker and its controller. */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_AUTHORIZED_OPERATIONS, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { clusterBrokers, controllerId } from './metadata.js';
import { canCluster, Op, authorizedOperations, CLUSTER_OPERATIONS } from '../security/checks.js';
import { CLUSTER_NAME, ResourceType as AclResourceType } from '../security/acls.js';
import { connectionListener } from '../security/session.js';

const BROKERS_ENDPOINT = 1;
const CONTROLLERS_ENDPOINT = 2;

export function describeClusterHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeCluster> {
  return {
    apiKey: ApiKey.DescribeCluster,
    minVersion: 0,
    maxVersion: 1,
    handle(request, { connection }) {
      // Kafka: DescribeCluster needs Describe on the cluster.
      if (!canCluster(broker, connection, Op.DESCRIBE)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', endpointType: request.endpointType ?? BROKERS_ENDPOINT, clusterId: '', controllerId: -1, brokers: [], clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
      }
      const endpointType = request.endpointType ?? BROKERS_ENDPOINT;
      const base = {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        endpointType,
        clusterId: broker.clusterId,
        controllerId: controllerId(broker),
        brokers: clusterBrokers(broker, connectionListener(connection)).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
          ? AUTHORIZED_OPERATIONS_OMITTED
          : broker.authorizer.enabled
            ? authorizedOperations(broker, connection, AclResourceType.CLUSTER, CLUSTER_NAME, CLUSTER_OPERATIONS)
            : CLUSTER_AUTHORIZED_OPERATIONS,
      };
      if (endpointType !== BROKERS_ENDPOINT && endpointType !== CONTROLLERS_ENDPOINT) {
        return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `Unknown endpoint type ${endpointType}`, brokers: [] };
      }
      return base;
    },
  };
}
