/**
 * CreateAcls, DescribeAcls and DeleteAcls 0–3, over the ACLs of the metadata store. Without an
 * authorizer Kafka answers SECURITY_DISABLED; creating and deleting needs Alter on the cluster,
 * describing Describe on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise).
 */
import { ApiKey, ErrorCode, type DescribeAclsResponseDescribeAclsResource } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { aclBindingProblem, aclFilterProblem, aclKey, filterMatches, type AclBinding, type AclBindingFilter } from '../security/acls.js';
import { canCluster, Op } from '../security/checks.js';

const SECURITY_DISABLED_MESSAGE = 'No Authorizer is configured on the broker (authorizer.class.name).';
const CLUSTER_DENIED_MESSAGE = 'Cluster authorization failed.';

export function createAclsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.CreateAcls> {
  return {
    apiKey: ApiKey.CreateAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, { connection }) {
      const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) });
      if (!broker.authorizer.enabled) return all(ErrorCode.SECURITY_DISABLED, SECURITY_DISABLED_MESSAGE);
      if (!canCluster(broker, connection, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED_MESSAGE);
      const bindings: (AclBinding | string)[] = request.creations.map((c) => {
        const b: AclBinding = {
          resourceType: c.resourceType,
          resourceName: c.resourceName,
          patternType: c.resourcePatternType ?? 3,
          principal: c.principal,
          host: c.host,
          operation: c.operation,
          permissionType: c.permissionType,
        };
        return aclBindingProblem(b) ?? b;
      });
      const valid = bindings.filter((b): b is AclBinding => typeof b !== 'string');
      let failure: { code: number; message: string } | null = null;
      if (valid.length > 0) {
        try {
          await broker.metadata.updateAcls(valid, []);
        } catch (err) {
          failure = errorOf(err, broker.logger, 'storing ACLs');
        }
      }
      return {
        throttleTimeMs: 0,
        results: bindings.map((b) =>
          typeof b === 'string'
            ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: b }
            : failure
              ? { errorCode: failure.code, errorMessage: failure.message }
              : { errorCode: ErrorCode.NONE, errorMessage: null },
        ),
      };
    },
  };
}

function filterOf(f: { resourceTypeFilter: number; resourceNameFilter: string | null; patternTypeFilter?: number; principalFilter: string | null; hostFilter: string | null; operation: number; permissionType: number }): AclBindingFilter {
  return {
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter,
    patternType: f.patternTypeFilter ?? 3,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: f.operation,
    permissionType: f.permissionType,
  };
}

export function describeAclsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DescribeAcls> {
  return {
    apiKey: ApiKey.DescribeAcls,
    minVersion: 0,
    maxVersion: 3,
    handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
      if (!broker.authorizer.enabled) return fail(ErrorCode.SECURITY_DISABLED, SECURITY_DISABLED_MESSAGE);
      if (!canCluster(broker, connection, Op.DESCRIBE)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED_MESSAGE);
      const filter = filterOf(request);
      const problem = aclFilterProblem(filter);
      if (problem) return fail(ErrorCode.INVALID_REQUEST, problem);
      const byResource = new Map<string, DescribeAclsResponseDescribeAclsResource>();
      for (const b of broker.metadata.acls()) {
        if (!filterMatches(filter, b)) continue;
        const key = JSON.stringify([b.resourceType, b.resourceName, b.patternType]);
        let r = byResource.get(key);
        if (!r) byResource.set(key, (r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
        r.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byResource.values()] };
    },
  };
}

export function deleteAclsHandler(broker: BrokerContext): ApiHandler<typeof ApiKey.DeleteAcls> {
  return {
    apiKey: ApiKey.DeleteAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, { connection }) {
      const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
      if (!broker.authorizer.enabled) return all(ErrorCode.SECURITY_DISABLED, SECURITY_DISABLED_MESSAGE);
      if (!canCluster(broker, connection, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED_MESSAGE);
      const current = broker.metadata.acls();
      const removed = new Map<string, AclBinding>();
      const results = request.filters.map((f) => {
        const filter = filterOf(f);
        const problem = aclFilterProblem(filter);
        if (problem) return { problem, matches: [] as AclBinding[] };
        const matches = current.filter((b) => filterMatches(filter, b));
        for (const b of matches) removed.set(aclKey(b), b);
        return { problem: null, matches };
      });
      let failure: { code: number; message: string } | null = null;
      if (removed.size > 0) {
        try {
          await broker.metadata.updateAcls([], [...removed.values()]);
        } catch (err) {
          failure = errorOf(err, broker.logger, 'deleting ACLs');
        }
      }
      return {
        throttleTimeMs: 0,
        filterResults: results.map((r) => {
          if (r.problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: r.problem, matchingAcls: [] };
          if (failure) return { errorCode: failure.code, errorMessage: failure.message, matchingAcls: [] };
          return {
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            matchingAcls: r.matches.map((b) => ({
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              resourceType: b.resourceType,
              resourceName: b.resourceName,
              patternType: b.patternType,
              principal: b.principal,
              host: b.host,
              operation: b.operation,
              permissionType: b.permissionType,
            })),
          };
        }),
      };
    },
  };
}
