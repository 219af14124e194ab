/**
 * Per-member etcd health for `sluice cluster status`, as `etcdctl endpoint status --cluster` and
 * `endpoint health --cluster` report it: the member list (from any endpoint that answers), then
 * each member's own Maintenance.Status and /health, through etcd's v3 JSON gateway.
 */

export interface EtcdMemberHealth {
  name: string;
  /** Member id in hex, as etcdctl prints it ('' when the member list was not reachable). */
  id: string;
  endpoint: string;
  /** /health answered true (the member has a leader and can serve a linearizable read). */
  healthy: boolean;
  /** This member is the raft leader. */
  leader: boolean;
  isLearner: boolean;
  version: string | null;
  dbSizeBytes: number | null;
  raftTerm: number | null;
  raftIndex: number | null;
  /** Alarms and errors the member reports, or why it could not be reached. */
  errors: string[];
}

interface MemberListResponse {
  members?: Array<{ ID?: string; name?: string; clientURLs?: string[]; isLearner?: boolean }>;
}

interface StatusResponse {
  header?: { member_id?: string };
  version?: string;
  dbSize?: string;
  leader?: string;
  raftIndex?: string;
  raftTerm?: string;
  isLearner?: boolean;
  errors?: string[];
}

async function post<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as T;
}

const hex = (decimal: string | undefined): string => (decimal ? BigInt(decimal).toString(16) : '');
const num = (value: string | undefined): number | null => (value === undefined ? null : Number(value));

/** Each member of the etcd cluster behind `endpoints` (the endpoints themselves when no member list answers). */
export async function etcdMemberHealth(endpoints: readonly string[], timeoutMs = 2000): Promise<EtcdMemberHealth[]> {
  let members: Array<{ name: string; id: string; endpoint: string; isLearner: boolean }> | null = null;
  for (const endpoint of endpoints) {
    try {
      const list = await post<MemberListResponse>(`${endpoint}/v3/cluster/member/list`, timeoutMs);
      members = (list.members ?? []).map((m) => ({ name: m.name ?? '', id: hex(m.ID), endpoint: m.clientURLs?.[0] ?? '', isLearner: m.isLearner ?? false }));
      break;
    } catch {
      // Try the next endpoint.
    }
  }
  const targets = members ?? endpoints.map((endpoint) => ({ name: '', id: '', endpoint, isLearner: false }));
  return Promise.all(
    targets.map(async (m): Promise<EtcdMemberHealth> => {
      const health: EtcdMemberHealth = { ...m, healthy: false, leader: false, version: null, dbSizeBytes: null, raftTerm: null, raftIndex: null, errors: [] };
      if (m.endpoint === '') {
        health.errors.push('member has no client URL (not started yet)');
        return health;
      }
      try {
        const s = await post<StatusResponse>(`${m.endpoint}/v3/maintenance/status`, timeoutMs);
        const self = s.header?.member_id;
        if (health.id === '') health.id = hex(self);
        health.leader = self !== undefined && self === s.leader;
        health.isLearner = s.isLearner ?? health.isLearner;
        health.version = s.version ?? null;
        health.dbSizeBytes = num(s.dbSize);
        health.raftTerm = num(s.raftTerm);
        health.raftIndex = num(s.raftIndex);
        health.errors.push(...(s.errors ?? []));
      } catch (err) {
        health.errors.push(`status: ${(err as Error).message}`);
      }
      try {
        const res = await fetch(`${m.endpoint}/health`, { signal: AbortSignal.timeout(timeoutMs) });
        const body = (await res.json()) as { health?: string; reason?: string };
        health.healthy = body.health === 'true';
        if (!health.healthy && body.reason) health.errors.push(`health: ${body.reason}`);
      } catch (err) {
        if (health.errors.length === 0) health.errors.push(`health: ${(err as Error).message}`);
      }
      return health;
    }),
  );
}
