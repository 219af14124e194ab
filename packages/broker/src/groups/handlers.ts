/**
 * The consumer-group APIs, as dispatcher handlers over the GroupCoordinator: request versions are
 * mapped to the coordinator's version-free calls here, and results back to each version's fields.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler, Dispatcher, RequestContext } from '../dispatch/dispatcher.js';
import type { GroupCoordinator } from './coordinator.js';
import { OFFSETS_TOPIC } from './offsets-log.js';
import { errorCodeOf } from './requests.js';
import type { TransactionCoordinator } from '../transactions/transaction-coordinator.js';
import { ResourceType } from '../security/acls.js';
import { authorizedOperations, canCluster, canGroup, canTopic, canTransactionalId, GROUP_OPERATIONS, Op, type Authorizing } from '../security/checks.js';
import { connectionListener } from '../security/session.js';
import { clusterBrokers } from '../handlers/metadata.js';
import { leaderOfPartition } from './coordinator.js';
import { TRANSACTION_STATE_TOPIC } from '../transactions/transaction-log.js';

const COORDINATOR_KEY_GROUP = 0;
const COORDINATOR_KEY_TRANSACTION = 1;
/** READ, DELETE and DESCRIBE: what the (absent) authorizer allows on a group. */
const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

function clientHost(context: RequestContext): string {
  return `/${context.connection.remoteAddress}`;
}

export function registerGroupHandlers(dispatcher: Dispatcher, broker: BrokerContext, coordinator: GroupCoordinator, transactions: () => TransactionCoordinator | null = () => null): void {
  dispatcher.register(findCoordinatorHandler(broker, coordinator, transactions));
  dispatcher.register(joinGroupHandler(broker, coordinator));
  dispatcher.register(syncGroupHandler(coordinator, broker));
  dispatcher.register(heartbeatHandler(coordinator, broker));
  dispatcher.register(leaveGroupHandler(coordinator, broker));
  dispatcher.register(offsetCommitHandler(broker, coordinator));
  dispatcher.register(offsetFetchHandler(coordinator, broker));
  dispatcher.register(offsetDeleteHandler(coordinator, broker));
  dispatcher.register(listGroupsHandler(coordinator, broker));
  dispatcher.register(describeGroupsHandler(coordinator, broker));
  dispatcher.register(deleteGroupsHandler(coordinator, broker));
}

/** FindCoordinator 0–6 (batched keys from v4): a group's coordinator is its partition's leader. */
export function findCoordinatorHandler(broker: BrokerContext, coordinator: GroupCoordinator, transactions: () => TransactionCoordinator | null = () => null): ApiHandler<typeof ApiKey.FindCoordinator> {
  return {
    apiKey: ApiKey.FindCoordinator,
    minVersion: 0,
    maxVersion: 6,
    async handle(request, { header, connection }) {
      const keyType = request.keyType ?? COORDINATOR_KEY_GROUP;
      const listener = connectionListener(connection);
      const keys = header.apiVersion >= 4 ? request.coordinatorKeys ?? [] : [request.key ?? ''];
      // Kafka: Describe on the group, or on the transactional id.
      const denied = (key: string) => {
        if (keyType === COORDINATOR_KEY_GROUP && !canGroup(broker, connection, Op.DESCRIBE, key)) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
        if (keyType === COORDINATOR_KEY_TRANSACTION && !canTransactionalId(broker, connection, Op.DESCRIBE, key)) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: null };
        return null;
      };
      let error: { code: number; message: string | null } = { code: ErrorCode.NONE, message: null };
      if (keyType === COORDINATOR_KEY_GROUP) {
        try {
          await coordinator.offsetsLog.ensureTopic();
        } catch (err) {
          const { message } = errorOf(err, broker.logger, 'creating __consumer_offsets');
          error = { code: ErrorCode.COORDINATOR_NOT_AVAILABLE, message };
        }
      } else if (keyType === COORDINATOR_KEY_TRANSACTION) {
        const txns = transactions();
        if (!txns) {
          error = { code: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: 'The transaction coordinator is not started.' };
        } else {
          try {
            await txns.log.ensureTopic();
          } catch (err) {
            error = { code: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: errorOf(err, broker.logger, 'creating __transaction_state').message };
          }
        }
        // A transactional id's coordinator is the leader of its __transaction_state partition.
        if (txns && error.code === ErrorCode.NONE) {
          const answerTxn = (key: string) => {
            const refused = denied(key);
            if (refused) return refused;
            const node = leaderOfPartition(broker, TRANSACTION_STATE_TOPIC, txns.log.partitionFor(key));
            if (!node) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `${TRANSACTION_STATE_TOPIC} has no leader for this transactional id.` };
            const endpoint = listener === undefined ? node : clusterBrokers(broker, listener).find((b) => b.nodeId === node.nodeId);
            if (!endpoint) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `The coordinator has no ${listener} listener.` };
            return { nodeId: node.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
          };
          if (header.apiVersion >= 4) return { throttleTimeMs: 0, coordinators: keys.map((key) => ({ key, ...answerTxn(key) })) };
          return { throttleTimeMs: 0, ...answerTxn(keys[0]) };
        }
      } else {
        error = { code: ErrorCode.INVALID_REQUEST, message: `Unknown coordinator key type ${keyType}` };
      }
      // Each group's coordinator is the leader of its __consumer_offsets partition.
      const answer = (key: string) => {
        const refused = denied(key);
        if (refused) return refused;
        if (error.code !== ErrorCode.NONE) return { nodeId: -1, host: '', port: -1, errorCode: error.code, errorMessage: error.message };
        const node = coordinator.coordinatorFor(key);
        if (!node) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `${OFFSETS_TOPIC} has no leader for this group.` };
        // The coordinator's endpoint on the listener this client came in on.
        const endpoint = listener === undefined ? node : clusterBrokers(broker, listener).find((b) => b.nodeId === node.nodeId);
        if (!endpoint) return { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `The coordinator has no ${listener} listener.` };
        return { nodeId: node.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
      };
      if (header.apiVersion >= 4) return { throttleTimeMs: 0, coordinators: keys.map((key) => ({ key, ...answer(key) })) };
      return { throttleTimeMs: 0, ...answer(keys[0]) };
    },
  };
}

export function joinGroupHandler(broker: BrokerContext, coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.JoinGroup> {
  return {
    apiKey: ApiKey.JoinGroup,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, context) {
      const version = context.header.apiVersion;
      if (!canGroup(broker, context.connection, Op.READ, request.groupId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null, protocolName: version >= 7 ? null : '', leader: '', skipAssignment: false, memberId: request.memberId, members: [] };
      }
      const rebalanceTimeoutMs = request.rebalanceTimeoutMs ?? -1;
      const result = await coordinator.join({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        clientId: context.header.clientId ?? '',
        clientHost: clientHost(context),
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalanceTimeoutMs: rebalanceTimeoutMs >= 0 ? rebalanceTimeoutMs : request.sessionTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        apiVersion: version,
      });
      if (result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) {
        broker.logger.debug(`JoinGroup ${request.groupId} ${request.memberId}: error ${result.errorCode}`);
      }
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        generationId: result.generationId,
        protocolType: result.protocolType,
        // Non-nullable before v7.
        protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ''),
        leader: result.leader,
        skipAssignment: result.skipAssignment,
        memberId: result.memberId,
        members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
      };
    },
  };
}

export function syncGroupHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.SyncGroup> {
  return {
    apiKey: ApiKey.SyncGroup,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, { connection }) {
      if (!canGroup(broker, connection, Op.READ, request.groupId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
      }
      const result = await coordinator.sync({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        protocolType: request.protocolType ?? null,
        protocolName: request.protocolName ?? null,
        assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      });
      return { throttleTimeMs: 0, errorCode: result.errorCode, protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment };
    },
  };
}

export function heartbeatHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.Heartbeat> {
  return {
    apiKey: ApiKey.Heartbeat,
    minVersion: 0,
    maxVersion: 4,
    handle(request, { connection }) {
      if (!canGroup(broker, connection, Op.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      const errorCode = coordinator.heartbeatRequest(request.groupId, request.memberId, request.groupInstanceId ?? null, request.generationId);
      return { throttleTimeMs: 0, errorCode };
    },
  };
}

/** LeaveGroup 0–5: one member before v3, a batch of members (static ones by instance id) from v3. */
export function leaveGroupHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.LeaveGroup> {
  return {
    apiKey: ApiKey.LeaveGroup,
    minVersion: 0,
    maxVersion: 5,
    handle(request, { header, connection }) {
      if (!canGroup(broker, connection, Op.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
      const identities =
        header.apiVersion >= 3
          ? (request.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null }))
          : [{ memberId: request.memberId ?? '', groupInstanceId: null }];
      const result = coordinator.leave(request.groupId, identities);
      if (header.apiVersion < 3) {
        return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? ErrorCode.NONE) };
      }
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: m.errorCode })),
      };
    },
  };
}

export function offsetCommitHandler(broker: BrokerContext, coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.OffsetCommit> {
  return {
    apiKey: ApiKey.OffsetCommit,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, { header, connection }) {
      // Kafka: Read on the group, then Read on each topic.
      if (!canGroup(broker, connection, Op.READ, request.groupId)) {
        return { throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })) })) };
      }
      const deniedTopics = new Set(request.topics.filter((t) => !canTopic(broker, connection, Op.READ, t.name)).map((t) => t.name));
      const allowedTopics = request.topics.filter((t) => !deniedTopics.has(t.name));
      const partitions = allowedTopics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
          commitTimestamp: header.apiVersion === 1 && p.commitTimestamp !== undefined ? Number(p.commitTimestamp) : -1,
        })),
      );
      let codes: number[];
      try {
        codes = await coordinator.commitOffsets({
          groupId: request.groupId,
          generationId: request.generationIdOrMemberEpoch ?? -1,
          memberId: request.memberId ?? '',
          groupInstanceId: request.groupInstanceId ?? null,
          retentionTimeMs: header.apiVersion >= 2 && header.apiVersion <= 4 ? Number(request.retentionTimeMs ?? -1n) : -1,
          partitions,
        });
      } catch (err) {
        const { code } = errorOf(err, broker.logger, `OffsetCommit ${request.groupId}`);
        codes = partitions.map(() => code);
      }
      let i = 0;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: deniedTopics.has(t.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : codes[i++] })),
        })),
      };
    },
  };
}

/** OffsetFetch 0–9: one group before v8, several from v8; null topics (v2+) means every committed one. */
export function offsetFetchHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.OffsetFetch> {
  return {
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 9,
    handle(request, { header, connection }) {
      const version = header.apiVersion;
      type Partition = { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string; errorCode: number };
      const fetchGroup = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null) => {
        // Kafka: Describe on the group; topics the principal may not Describe are refused (named) or left out (all).
        if (!canGroup(broker, connection, Op.DESCRIBE, groupId)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number, topics: (topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED as number })) })) };
        }
        const deniedTopics = (topics ?? []).filter((t) => !canTopic(broker, connection, Op.DESCRIBE, t.name));
        if (topics !== null) topics = topics.filter((t) => !deniedTopics.includes(t));
        const result = fetchGroupAuthorized(groupId, topics);
        if (topics === null) result.topics = result.topics.filter((t) => canTopic(broker, connection, Op.DESCRIBE, t.name));
        for (const t of deniedTopics) result.topics.push({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) });
        return result;
      };
      const fetchGroupAuthorized = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null) => {
        const byTopic = new Map<string, Partition[]>();
        for (const t of topics ?? []) byTopic.set(t.name, []);
        let errorCode: number = ErrorCode.NONE;
        try {
          const fetched = coordinator.fetchOffsets(groupId, topics === null ? null : topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })));
          for (const f of fetched) {
            let list = byTopic.get(f.topic);
            if (!list) byTopic.set(f.topic, (list = []));
            list.push({ partitionIndex: f.partition, committedOffset: f.offset, committedLeaderEpoch: f.leaderEpoch, metadata: f.metadata, errorCode: ErrorCode.NONE });
          }
          // KIP-447 require_stable: offsets a transaction has yet to commit or abort are not answered.
          if (version >= 7 && request.requireStable === true) {
            for (const [topic, list] of byTopic) {
              for (const p of list) {
                if (coordinator.hasPendingTransactionalOffset(groupId, topic, p.partitionIndex)) Object.assign(p, { committedOffset: -1n, committedLeaderEpoch: -1, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
              }
            }
          }
        } catch (err) {
          // Not coordinator (or still loading): v0–v1 only have the partitions' error codes to say so.
          errorCode = errorCodeOf(err);
          for (const t of topics ?? []) {
            byTopic.set(t.name, t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode })));
          }
        }
        return { errorCode, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
      };
      if (version >= 8) {
        return {
          throttleTimeMs: 0,
          groups: (request.groups ?? []).map((g) => {
            const fetched = fetchGroup(g.groupId, g.topics);
            return { groupId: g.groupId, topics: fetched.topics, errorCode: fetched.errorCode };
          }),
        };
      }
      const topics = request.topics === undefined ? [] : request.topics;
      const fetched = fetchGroup(request.groupId ?? '', topics);
      return { throttleTimeMs: 0, topics: fetched.topics, errorCode: fetched.errorCode };
    },
  };
}

export function offsetDeleteHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.OffsetDelete> {
  return {
    apiKey: ApiKey.OffsetDelete,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, { connection }) {
      // Kafka: Delete on the group, Read on each topic.
      if (!canGroup(broker, connection, Op.DELETE, request.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
      if (request.topics.some((t) => !canTopic(broker, connection, Op.READ, t.name))) {
        return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: canTopic(broker, connection, Op.READ, t.name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED })) })) };
      }
      const partitions = request.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
      const result = await coordinator.deleteOffsets(request.groupId, partitions);
      let i = 0;
      return {
        errorCode: result.errorCode,
        throttleTimeMs: 0,
        topics:
          result.errorCode !== ErrorCode.NONE
            ? []
            : request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: result.partitions[i++] })) })),
      };
    },
  };
}

/** ListGroups 0–5: state filter from v4, type filter from v5 (all our groups are "classic"). */
export function listGroupsHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.ListGroups> {
  return {
    apiKey: ApiKey.ListGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(request, { connection }) {
      let groups: ReturnType<GroupCoordinator['listGroups']>;
      try {
        groups = coordinator.listGroups(request.statesFilter ?? [], request.typesFilter ?? []);
      } catch (err) {
        return { throttleTimeMs: 0, errorCode: errorCodeOf(err), groups: [] };
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        // Kafka: Describe on the cluster lists every group, else those the principal may Describe.
        groups: (canCluster(broker, connection, Op.DESCRIBE) ? groups : groups.filter((g) => canGroup(broker, connection, Op.DESCRIBE, g.groupId))).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
      };
    },
  };
}

export function describeGroupsHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.DescribeGroups> {
  return {
    apiKey: ApiKey.DescribeGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        groups: request.groups.map((groupId) => {
          if (!canGroup(broker, connection, Op.DESCRIBE, groupId)) {
            return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
          }
          const d = coordinator.describeGroup(groupId);
          return {
            errorCode: d.errorCode,
            groupId: d.groupId,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocolData,
            members: d.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignment,
            })),
            authorizedOperations: !request.includeAuthorizedOperations
              ? AUTHORIZED_OPERATIONS_OMITTED
              : broker.authorizer.enabled
                ? authorizedOperations(broker, connection, ResourceType.GROUP, groupId, GROUP_OPERATIONS)
                : GROUP_AUTHORIZED_OPERATIONS,
          };
        }),
      };
    },
  };
}

export function deleteGroupsHandler(coordinator: GroupCoordinator, broker: Authorizing): ApiHandler<typeof ApiKey.DeleteGroups> {
  return {
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, { connection }) {
      const results = [];
      // One at a time: deleting the same group twice in a request must find it gone the second time.
      for (const groupId of request.groupsNames) {
        // Kafka: Delete on the group.
        results.push({ groupId, errorCode: canGroup(broker, connection, Op.DELETE, groupId) ? await coordinator.deleteGroup(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED });
      }
      return { throttleTimeMs: 0, results };
    },
  };
}
