/**
 * DescribeClientQuotas and AlterClientQuotas 0–1: the client quotas of users, client ids and
 * their defaults (entity name null), kept in the metadata store. Describing needs DescribeConfigs
 * on the cluster, altering AlterConfigs (CLUSTER_AUTHORIZATION_FAILED otherwise).
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import type { ClientQuotaEntity } from '../metadata/metadata-store.js';
import { isQuotaKey, QUOTA_KEYS } from '../quotas/client-quotas.js';
import { canCluster, Op } from '../security/checks.js';

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;
const ENTITY_TYPES = new Map<string, keyof ClientQuotaEntity>([
  ['user', 'user'],
  ['client-id', 'clientId'],
]);

/** The wire form of an entity: its types in a fixed order (user first). */
function wireEntity(entity: ClientQuotaEntity): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (entity.user !== undefined) out.push({ entityType: 'user', entityName: entity.user });
  if (entity.clientId !== undefined) out.push({ entityType: 'client-id', entityName: entity.clientId });
  return out;
}

export function describeClientQuotasHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeClientQuotas> {
  return {
    apiKey: ApiKey.DescribeClientQuotas,
    minVersion: 0,
    maxVersion: 1,
    handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, entries: null });
      if (!canCluster(broker, connection, Op.DESCRIBE_CONFIGS)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      const seen = new Set<string>();
      for (const c of request.components) {
        if (!ENTITY_TYPES.has(c.entityType)) return fail(ErrorCode.INVALID_REQUEST, `Unsupported quota entity type ${c.entityType} (user and client-id are).`);
        if (seen.has(c.entityType)) return fail(ErrorCode.INVALID_REQUEST, `Duplicate ${c.entityType} component.`);
        seen.add(c.entityType);
        if (c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_SPECIFIED) return fail(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}.`);
        if (c.matchType === MATCH_EXACT && c.match === null) return fail(ErrorCode.INVALID_REQUEST, `An exact ${c.entityType} match needs a name.`);
      }
      const entries = broker.metadata.clientQuotas().filter((r) => {
        for (const c of request.components) {
          const name = r.entity[ENTITY_TYPES.get(c.entityType)!];
          if (name === undefined) return false;
          if (c.matchType === MATCH_EXACT && name !== c.match) return false;
          if (c.matchType === MATCH_DEFAULT && name !== null) return false;
          if (c.matchType === MATCH_SPECIFIED && name === null) return false;
        }
        if (request.strict) {
          for (const [type, field] of ENTITY_TYPES) if (r.entity[field] !== undefined && !seen.has(type)) return false;
        }
        return true;
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        entries: entries.map((r) => ({ entity: wireEntity(r.entity), values: Object.entries(r.values).map(([key, value]) => ({ key, value })) })),
      };
    },
  };
}

export function alterClientQuotasHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.AlterClientQuotas> {
  return {
    apiKey: ApiKey.AlterClientQuotas,
    minVersion: 0,
    maxVersion: 1,
    async handle(request, { connection }) {
      const allowed = canCluster(broker, connection, Op.ALTER_CONFIGS);
      const entries = [];
      for (const e of request.entries) {
        const result = (errorCode: number, errorMessage: string | null) => ({ errorCode, errorMessage, entity: e.entity });
        if (!allowed) {
          entries.push(result(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'));
          continue;
        }
        const entity: ClientQuotaEntity = {};
        let problem: string | null = e.entity.length === 0 ? 'The entity names no user or client-id.' : null;
        for (const part of e.entity) {
          const field = ENTITY_TYPES.get(part.entityType);
          if (!field) problem = `Unsupported quota entity type ${part.entityType} (user and client-id are).`;
          else if (entity[field] !== undefined) problem = `Duplicate ${part.entityType} in the entity.`;
          else entity[field] = part.entityName;
        }
        const values = { ...(broker.metadata.clientQuotas().find((r) => r.entity.user === entity.user && r.entity.clientId === entity.clientId)?.values ?? {}) };
        for (const op of e.ops) {
          if (problem) break;
          if (!isQuotaKey(op.key)) problem = `Unknown quota key ${op.key} (one of ${QUOTA_KEYS.join(', ')}).`;
          else if (op.remove) delete values[op.key];
          else if (!Number.isFinite(op.value) || op.value <= 0) problem = `${op.key} must be a positive number, not ${op.value}.`;
          else values[op.key] = op.value;
        }
        if (problem) {
          entries.push(result(ErrorCode.INVALID_REQUEST, problem));
          continue;
        }
        if (request.validateOnly) {
          entries.push(result(ErrorCode.NONE, null));
          continue;
        }
        try {
          await broker.metadata.setClientQuotas(entity, values);
          entries.push(result(ErrorCode.NONE, null));
        } catch (err) {
          const { code, message } = errorOf(err, broker.logger, 'storing client quotas');
          entries.push(result(code, message));
        }
      }
      return { throttleTimeMs: 0, entries };
    },
  };
}
