/**
 * Kafka's protocol error codes as typed values. Codes and names are the wire contract; `retriable`
 * follows Kafka's own classification (its RetriableException hierarchy), which clients use to
 * decide whether to retry; messages are short descriptions in our own words.
 */

type Row = readonly [name: string, code: number, retriable: boolean, message: string];

const ROWS = [
  ['UNKNOWN_SERVER_ERROR', -1, false, 'The server hit an unexpected error while handling the request.'],
  ['NONE', 0, false, 'No error.'],
  ['OFFSET_OUT_OF_RANGE', 1, false, 'The requested offset is outside the range of offsets the partition holds.'],
  ['CORRUPT_MESSAGE', 2, true, 'A record batch failed its CRC check, has an invalid size, or is otherwise corrupt.'],
  ['UNKNOWN_TOPIC_OR_PARTITION', 3, true, 'This broker does not host the topic or partition.'],
  ['INVALID_FETCH_SIZE', 4, false, 'The requested fetch size is invalid.'],
  ['LEADER_NOT_AVAILABLE', 5, true, 'The partition has no leader right now (a leader election is under way).'],
  ['NOT_LEADER_OR_FOLLOWER', 6, true, 'This broker is not the leader (or not a replica) for the partition.'],
  ['REQUEST_TIMED_OUT', 7, true, 'The request timed out.'],
  ['BROKER_NOT_AVAILABLE', 8, false, 'The broker is not available.'],
  ['REPLICA_NOT_AVAILABLE', 9, true, 'The replica is not available for the partition.'],
  ['MESSAGE_TOO_LARGE', 10, false, 'A record batch is larger than the largest the broker accepts.'],
  ['STALE_CONTROLLER_EPOCH', 11, false, 'The controller has moved to another broker.'],
  ['OFFSET_METADATA_TOO_LARGE', 12, false, 'The metadata string of the offset commit is too large.'],
  ['NETWORK_EXCEPTION', 13, true, 'The connection closed before a response arrived.'],
  ['COORDINATOR_LOAD_IN_PROGRESS', 14, true, 'The coordinator is still loading its state.'],
  ['COORDINATOR_NOT_AVAILABLE', 15, true, 'The coordinator is not available.'],
  ['NOT_COORDINATOR', 16, true, 'This broker is not the coordinator for the group or transaction.'],
  ['INVALID_TOPIC_EXCEPTION', 17, false, 'The topic name is invalid, or the operation is not allowed on this topic.'],
  ['RECORD_LIST_TOO_LARGE', 18, false, 'The record batch is larger than the segment size.'],
  ['NOT_ENOUGH_REPLICAS', 19, true, 'Fewer in-sync replicas than min.insync.replicas: the write was rejected.'],
  ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true, 'The write was appended, but to fewer in-sync replicas than required.'],
  ['INVALID_REQUIRED_ACKS', 21, false, 'The produce request asked for an invalid acks value.'],
  ['ILLEGAL_GENERATION', 22, false, 'The group generation id is not the current one.'],
  ['INCONSISTENT_GROUP_PROTOCOL', 23, false, "The member's protocols do not match the group's, or the protocol list is empty."],
  ['INVALID_GROUP_ID', 24, false, 'The group id is invalid.'],
  ['UNKNOWN_MEMBER_ID', 25, false, 'The coordinator does not know this member id.'],
  ['INVALID_SESSION_TIMEOUT', 26, false, 'The session timeout is outside group.min.session.timeout.ms..group.max.session.timeout.ms.'],
  ['REBALANCE_IN_PROGRESS', 27, false, 'The group is rebalancing: rejoin.'],
  ['INVALID_COMMIT_OFFSET_SIZE', 28, false, 'The offset commit is too large.'],
  ['TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access the topic.'],
  ['GROUP_AUTHORIZATION_FAILED', 30, false, 'Not authorized to access the group.'],
  ['CLUSTER_AUTHORIZATION_FAILED', 31, false, 'Not authorized for this cluster operation.'],
  ['INVALID_TIMESTAMP', 32, false, 'A record timestamp is outside the accepted range.'],
  ['UNSUPPORTED_SASL_MECHANISM', 33, false, 'The broker does not offer the requested SASL mechanism.'],
  ['ILLEGAL_SASL_STATE', 34, false, 'The request is not valid in the current SASL state.'],
  ['UNSUPPORTED_VERSION', 35, false, 'The broker does not support this API version.'],
  ['TOPIC_ALREADY_EXISTS', 36, false, 'A topic with this name already exists.'],
  ['INVALID_PARTITIONS', 37, false, 'The number of partitions is invalid.'],
  ['INVALID_REPLICATION_FACTOR', 38, false, 'The replication factor is below 1 or above the number of brokers.'],
  ['INVALID_REPLICA_ASSIGNMENT', 39, false, 'The replica assignment is invalid.'],
  ['INVALID_CONFIG', 40, false, 'The configuration is invalid.'],
  ['NOT_CONTROLLER', 41, true, 'This broker is not the active controller.'],
  ['INVALID_REQUEST', 42, false, 'The request is malformed or not valid for this broker.'],
  ['UNSUPPORTED_FOR_MESSAGE_FORMAT', 43, false, 'The message format in use does not support this request.'],
  ['POLICY_VIOLATION', 44, false, 'The request violates a configured policy.'],
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false, 'The broker received a sequence number out of order.'],
  ['DUPLICATE_SEQUENCE_NUMBER', 46, false, 'The broker received a duplicate sequence number.'],
  ['INVALID_PRODUCER_EPOCH', 47, false, 'The producer used an old epoch.'],
  ['INVALID_TXN_STATE', 48, false, 'The transactional operation is not valid in the current transaction state.'],
  ['INVALID_PRODUCER_ID_MAPPING', 49, false, 'The producer id is not the one assigned to this transactional id.'],
  ['INVALID_TRANSACTION_TIMEOUT', 50, false, 'The transaction timeout exceeds transaction.max.timeout.ms.'],
  ['CONCURRENT_TRANSACTIONS', 51, true, 'Another operation on the same transaction is still in progress.'],
  ['TRANSACTION_COORDINATOR_FENCED', 52, false, 'The transaction coordinator sending the marker is no longer current.'],
  ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 53, false, 'Not authorized for this transactional id.'],
  ['SECURITY_DISABLED', 54, false, 'Security features are disabled.'],
  ['OPERATION_NOT_ATTEMPTED', 55, false, 'The broker did not attempt this operation because another in the batch failed.'],
  ['KAFKA_STORAGE_ERROR', 56, true, 'A disk error occurred while accessing the log.'],
  ['LOG_DIR_NOT_FOUND', 57, false, 'The log directory is not one the broker has.'],
  ['SASL_AUTHENTICATION_FAILED', 58, false, 'SASL authentication failed.'],
  ['UNKNOWN_PRODUCER_ID', 59, false, 'The broker has no state for this producer id (its records may have expired).'],
  ['REASSIGNMENT_IN_PROGRESS', 60, false, 'A partition reassignment is in progress.'],
  ['DELEGATION_TOKEN_AUTH_DISABLED', 61, false, 'Delegation tokens are not enabled.'],
  ['DELEGATION_TOKEN_NOT_FOUND', 62, false, 'The delegation token does not exist.'],
  ['DELEGATION_TOKEN_OWNER_MISMATCH', 63, false, 'The principal is not the owner or a renewer of the token.'],
  ['DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', 64, false, 'Delegation token requests are not allowed on this channel.'],
  ['DELEGATION_TOKEN_AUTHORIZATION_FAILED', 65, false, 'Not authorized for this delegation token operation.'],
  ['DELEGATION_TOKEN_EXPIRED', 66, false, 'The delegation token has expired.'],
  ['INVALID_PRINCIPAL_TYPE', 67, false, 'The principal type is not supported.'],
  ['NON_EMPTY_GROUP', 68, false, 'The group still has members.'],
  ['GROUP_ID_NOT_FOUND', 69, false, 'The group does not exist.'],
  ['FETCH_SESSION_ID_NOT_FOUND', 70, true, 'The fetch session id is unknown.'],
  ['INVALID_FETCH_SESSION_EPOCH', 71, true, 'The fetch session epoch is invalid.'],
  ['LISTENER_NOT_FOUND', 72, true, "The leader has no listener matching the one this request arrived on."],
  ['TOPIC_DELETION_DISABLED', 73, false, 'Topic deletion is disabled (delete.topic.enable=false).'],
  ['FENCED_LEADER_EPOCH', 74, true, "The request's leader epoch is older than the broker's."],
  ['UNKNOWN_LEADER_EPOCH', 75, true, "The request's leader epoch is newer than the broker's."],
  ['UNSUPPORTED_COMPRESSION_TYPE', 76, false, 'The client does not support the compression type of the data.'],
  ['STALE_BROKER_EPOCH', 77, false, 'The broker epoch has changed.'],
  ['OFFSET_NOT_AVAILABLE', 78, true, 'The new leader has not caught up its high watermark yet.'],
  ['MEMBER_ID_REQUIRED', 79, false, 'Rejoin with the member id the coordinator assigned.'],
  ['PREFERRED_LEADER_NOT_AVAILABLE', 80, true, 'The preferred leader is not available.'],
  ['GROUP_MAX_SIZE_REACHED', 81, false, 'The group has reached group.max.size members.'],
  ['FENCED_INSTANCE_ID', 82, false, 'Another member with this group.instance.id has a different member id.'],
  ['ELIGIBLE_LEADERS_NOT_AVAILABLE', 83, true, 'No eligible leader is available for the partition.'],
  ['ELECTION_NOT_NEEDED', 84, true, 'The partition already has the requested leader.'],
  ['NO_REASSIGNMENT_IN_PROGRESS', 85, false, 'No partition reassignment is in progress.'],
  ['GROUP_SUBSCRIBED_TO_TOPIC', 86, false, 'The group is subscribed to the topic, so its offsets cannot be deleted.'],
  ['INVALID_RECORD', 87, false, 'A record failed broker-side validation.'],
  ['UNSTABLE_OFFSET_COMMIT', 88, true, 'There are pending transactional offsets for the partition.'],
  ['THROTTLING_QUOTA_EXCEEDED', 89, true, 'The request exceeded a throttling quota.'],
  ['PRODUCER_FENCED', 90, false, 'A newer producer with the same transactional id has fenced this one.'],
  ['RESOURCE_NOT_FOUND', 91, false, 'The request referred to a resource that does not exist.'],
  ['DUPLICATE_RESOURCE', 92, false, 'The request referred to the same resource twice.'],
  ['UNACCEPTABLE_CREDENTIAL', 93, false, 'The credential does not meet the acceptance criteria.'],
  ['INCONSISTENT_VOTER_SET', 94, false, 'The sender or receiver is not one of the expected voters.'],
  ['INVALID_UPDATE_VERSION', 95, false, 'The update version is invalid.'],
  ['FEATURE_UPDATE_FAILED', 96, false, 'The finalized features could not be updated.'],
  ['PRINCIPAL_DESERIALIZATION_FAILURE', 97, false, 'The forwarded request principal could not be deserialized.'],
  ['SNAPSHOT_NOT_FOUND', 98, false, 'The requested snapshot does not exist.'],
  ['POSITION_OUT_OF_RANGE', 99, false, 'The requested snapshot position is out of range.'],
  ['UNKNOWN_TOPIC_ID', 100, true, 'This broker does not host a topic with this id.'],
  ['DUPLICATE_BROKER_REGISTRATION', 101, false, 'This broker id is already registered.'],
  ['BROKER_ID_NOT_REGISTERED', 102, false, 'This broker id is not registered.'],
  ['INCONSISTENT_TOPIC_ID', 103, true, "The topic id does not match the log's topic id."],
  ['INCONSISTENT_CLUSTER_ID', 104, false, 'The cluster id does not match this cluster.'],
  ['TRANSACTIONAL_ID_NOT_FOUND', 105, false, 'The transactional id does not exist.'],
  ['FETCH_SESSION_TOPIC_ID_ERROR', 106, true, 'The fetch session mixed topic ids inconsistently.'],
  ['INELIGIBLE_REPLICA', 107, false, 'The new ISR contains an ineligible replica.'],
  ['NEW_LEADER_ELECTED', 108, false, 'The partition state was updated but the leader changed.'],
  ['OFFSET_MOVED_TO_TIERED_STORAGE', 109, false, 'The requested offset is in tiered storage.'],
  ['FENCED_MEMBER_EPOCH', 110, false, 'The member epoch is fenced: give up all partitions and rejoin.'],
  ['UNRELEASED_INSTANCE_ID', 111, false, 'The instance id is still held by another member.'],
  ['UNSUPPORTED_ASSIGNOR', 112, false, 'The group does not support this assignor or version.'],
  ['STALE_MEMBER_EPOCH', 113, false, 'The member epoch is stale: retry with the epoch from the next heartbeat.'],
  ['MISMATCHED_ENDPOINT_TYPE', 114, false, 'The request was sent to the wrong type of endpoint.'],
  ['UNSUPPORTED_ENDPOINT_TYPE', 115, false, 'This endpoint type is not supported.'],
  ['UNKNOWN_CONTROLLER_ID', 116, false, 'The controller id is unknown.'],
  ['UNKNOWN_SUBSCRIPTION_ID', 117, false, 'The telemetry subscription id is unknown or outdated.'],
  ['TELEMETRY_TOO_LARGE', 118, false, 'The telemetry push is larger than the broker accepts.'],
  ['INVALID_REGISTRATION', 119, false, 'The controller considers the broker registration invalid.'],
  ['TRANSACTION_ABORTABLE', 120, false, 'The transaction hit an error: abort it to go on using the transactional id.'],
  ['INVALID_RECORD_STATE', 121, false, 'The record state does not allow this acknowledgement.'],
  ['SHARE_SESSION_NOT_FOUND', 122, true, 'The share session does not exist.'],
  ['INVALID_SHARE_SESSION_EPOCH', 123, true, 'The share session epoch is invalid.'],
  ['FENCED_STATE_EPOCH', 124, false, 'The share-group state epoch does not match.'],
  ['INVALID_VOTER_KEY', 125, false, "The voter key does not match the receiver's."],
  ['DUPLICATE_VOTER', 126, false, 'The voter is already in the voter set.'],
  ['VOTER_NOT_FOUND', 127, false, 'The voter is not in the voter set.'],
  ['INVALID_REGULAR_EXPRESSION', 128, false, 'The regular expression is invalid.'],
  ['REBOOTSTRAP_REQUIRED', 129, false, 'Client metadata is stale: bootstrap again.'],
  ['STREAMS_INVALID_TOPOLOGY', 130, false, 'The streams topology is invalid.'],
  ['STREAMS_INVALID_TOPOLOGY_EPOCH', 131, false, 'The streams topology epoch is invalid.'],
  ['STREAMS_TOPOLOGY_FENCED', 132, false, 'The streams topology epoch is outdated.'],
  ['SHARE_SESSION_LIMIT_REACHED', 133, true, 'The broker has reached its share session limit.'],
] as const satisfies readonly Row[];

export type ErrorName = (typeof ROWS)[number][0];

/** Name → code, e.g. `ErrorCode.NOT_LEADER_OR_FOLLOWER === 6`. */
export const ErrorCode = Object.freeze(Object.fromEntries(ROWS.map(([name, code]) => [name, code]))) as {
  readonly [R in (typeof ROWS)[number] as R[0]]: R[1];
};

export interface KafkaErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  readonly message: string;
}

const byCode = new Map<number, KafkaErrorInfo>(
  ROWS.map(([name, code, retriable, message]) => [code, Object.freeze({ code, name, retriable, message })]),
);

/** Every known error, ordered by code. */
export const kafkaErrors: readonly KafkaErrorInfo[] = [...byCode.values()];

/**
 * The error for `code`. An unknown code (a newer broker's) gets a synthetic non-retriable entry
 * named after its number, rather than being mistaken for UNKNOWN_SERVER_ERROR.
 */
export function errorForCode(code: number): KafkaErrorInfo {
  return byCode.get(code) ?? { code, name: `UNKNOWN_ERROR_CODE_${code}`, retriable: false, message: `Error code ${code} is not one this version knows.` };
}

/** An error returned by a Kafka broker, carrying Kafka's code, name and retriability. */
export class KafkaError extends Error {
  readonly code: number;
  readonly errorName: string;
  readonly retriable: boolean;

  constructor(code: number, detail?: string | null) {
    const info = errorForCode(code);
    super(detail ? `${info.name}: ${detail}` : `${info.name}: ${info.message}`);
    this.name = 'KafkaError';
    this.code = code;
    this.errorName = info.name;
    this.retriable = info.retriable;
  }
}

/** Throws a KafkaError when `code` is not NONE. */
export function throwIfError(code: number, detail?: string | null): void {
  if (code !== 0) throw new KafkaError(code, detail);
}
