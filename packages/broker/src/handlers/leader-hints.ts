/**
 * KIP-951: a Produce (v10+) or Fetch (v16+) answered with NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH carries the partition's current leader and epoch, and the response that
 * leader's endpoint, so the client retries on the right broker without a Metadata round trip.
 */
import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.js';
import { clusterBrokers } from './metadata.js';

export interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export class LeaderHints {
  private readonly endpoints = new Map<number, NodeEndpoint>();

  /** `listenerName`: the listener the client came in on; the endpoints are on that listener. */
  constructor(
    private readonly broker: BrokerContext,
    private readonly listenerName?: string,
  ) {}

  /** Whether an error code is one KIP-951 answers with the new leader. */
  static applies(errorCode: number): boolean {
    return errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.FENCED_LEADER_EPOCH;
  }

  /** The partition's leader as the metadata has it (and remembers its endpoint for the response); undefined when unknown. */
  leaderOf(topic: string, partition: number): { leaderId: number; leaderEpoch: number } | undefined {
    const p = this.broker.metadata.topic(topic)?.partitions[partition];
    if (!p || p.leader < 0) return undefined;
    const endpoint = clusterBrokers(this.broker, this.listenerName).find((b) => b.nodeId === p.leader);
    if (!endpoint) return undefined;
    this.endpoints.set(endpoint.nodeId, endpoint);
    return { leaderId: p.leader, leaderEpoch: p.leaderEpoch };
  }

  /** The endpoints of every leader named so far. */
  nodeEndpoints(): NodeEndpoint[] {
    return [...this.endpoints.values()];
  }
}
