/**
 * The authorizer: Kafka's AclAuthorizer/StandardAuthorizer semantics over the ACLs of the metadata
 * store. A request of `principal` from `host` for `operation` on a resource is decided so:
 *
 *  1. a super user (`super.users`) is allowed everything;
 *  2. the ACLs that apply to the resource are its LITERAL ones, the LITERAL `*` of its type and
 *     the PREFIXED ones whose prefix starts its name; with none at all, the answer is
 *     `allow.everyone.if.no.acl.found` (default false);
 *  3. a DENY that matches (principal or `User:*`, host or `*`, the operation or All) wins;
 *  4. else an ALLOW that matches allows, where Read/Write/Delete/Alter also grant Describe and
 *     AlterConfigs grants DescribeConfigs; else denied.
 *
 * Decisions are cached per (principal, host, operation, resource) and the cache is dropped
 * whenever the ACLs change, so produce and fetch pay one map lookup per topic.
 */
import {
  AclOperation,
  AclPermissionType,
  allowGrants,
  bindingAppliesTo,
  hostMatches,
  PatternType,
  principalMatches,
  WILDCARD,
  type AclBinding,
} from './acls.js';
import { parsePrincipal, principalToString, type KafkaPrincipal } from './principal.js';

/** Kafka's names for its authorizer; either enables ACL authorization. */
export const AUTHORIZER_CLASS_NAMES: readonly string[] = ['kafka.security.authorizer.AclAuthorizer', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'];

/** Who asks: the connection's principal and its client address. */
export interface Requester {
  readonly principal: KafkaPrincipal;
  readonly remoteAddress: string;
}

export interface Authorizer {
  /** False when no authorizer is configured: everything is allowed, as in Kafka. */
  readonly enabled: boolean;
  authorize(requester: Requester, operation: number, resourceType: number, resourceName: string): boolean;
  /**
   * Kafka's authorizeByResourceType: whether some resource of the type could be allowed (an
   * ALLOW for the operation not covered by a DENY); used for idempotent InitProducerId.
   */
  authorizeAny(requester: Requester, operation: number, resourceType: number): boolean;
}

export const ALLOW_ALL: Authorizer = Object.freeze({
  enabled: false,
  authorize: () => true,
  authorizeAny: () => true,
});

export interface AclAuthorizerOptions {
  /** `super.users`: semicolon-separated principals. */
  superUsers: string;
  /** `allow.everyone.if.no.acl.found`. */
  allowEveryoneIfNoAclFound: boolean;
  /** The current ACLs (the metadata store's view). */
  acls: () => readonly AclBinding[];
}

const MAX_CACHED = 50_000;

/** The host form ACLs use: an IPv4 client on a dual-stack socket is its IPv4 address. */
export function aclHost(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

export function parseSuperUsers(text: string): Set<string> {
  const out = new Set<string>();
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    out.add(principalToString(parsePrincipal(p)));
  }
  return out;
}

export class AclAuthorizer implements Authorizer {
  readonly enabled = true;
  private readonly superUsers: Set<string>;
  private readonly allowIfNoAcl: boolean;
  private readonly source: () => readonly AclBinding[];
  /** The ACLs by resource type, rebuilt lazily after a change. */
  private byType: Map<number, AclBinding[]> | null = null;
  private readonly cache = new Map<string, boolean>();

  constructor(options: AclAuthorizerOptions) {
    this.superUsers = parseSuperUsers(options.superUsers);
    this.allowIfNoAcl = options.allowEveryoneIfNoAclFound;
    this.source = options.acls;
  }

  /** The ACLs changed: forget every decision. */
  invalidate(): void {
    this.byType = null;
    this.cache.clear();
  }

  private bindingsOf(resourceType: number): readonly AclBinding[] {
    if (this.byType === null) {
      const m = new Map<number, AclBinding[]>();
      for (const b of this.source()) {
        let list = m.get(b.resourceType);
        if (!list) m.set(b.resourceType, (list = []));
        list.push(b);
      }
      this.byType = m;
    }
    return this.byType.get(resourceType) ?? [];
  }

  authorize(requester: Requester, operation: number, resourceType: number, resourceName: string): boolean {
    const principal = principalToString(requester.principal);
    const host = aclHost(requester.remoteAddress);
    const key = `${principal}\u0000${host}\u0000${operation}\u0000${resourceType}\u0000${resourceName}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const decision = this.decide(requester.principal, principal, host, operation, resourceType, resourceName);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, decision);
    return decision;
  }

  private decide(p: KafkaPrincipal, principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.superUsers.has(principal)) return true;
    const applicable = this.bindingsOf(resourceType).filter((b) => bindingAppliesTo(b, resourceType, resourceName));
    if (applicable.length === 0) return this.allowIfNoAcl;
    const matching = applicable.filter((b) => principalMatches(b.principal, p) && hostMatches(b.host, host));
    if (matching.some((b) => b.permissionType === AclPermissionType.DENY && (b.operation === operation || b.operation === AclOperation.ALL))) return false;
    return matching.some((b) => b.permissionType === AclPermissionType.ALLOW && allowGrants(b.operation, operation));
  }

  authorizeAny(requester: Requester, operation: number, resourceType: number): boolean {
    const principal = principalToString(requester.principal);
    if (this.superUsers.has(principal)) return true;
    const host = aclHost(requester.remoteAddress);
    const all = this.bindingsOf(resourceType);
    const relevant = all.filter(
      (b) => principalMatches(b.principal, requester.principal) && hostMatches(b.host, host) && (b.operation === operation || b.operation === AclOperation.ALL),
    );
    const denies = relevant.filter((b) => b.permissionType === AclPermissionType.DENY);
    if (denies.some((b) => b.patternType === PatternType.LITERAL && b.resourceName === WILDCARD)) return false;
    const deniedLiterals = new Set(denies.filter((b) => b.patternType === PatternType.LITERAL).map((b) => b.resourceName));
    const deniedPrefixes = denies.filter((b) => b.patternType === PatternType.PREFIXED).map((b) => b.resourceName);
    for (const b of relevant) {
      if (b.permissionType !== AclPermissionType.ALLOW) continue;
      if (deniedPrefixes.some((prefix) => b.resourceName.startsWith(prefix))) continue;
      if (b.patternType === PatternType.LITERAL && deniedLiterals.has(b.resourceName)) continue;
      return true;
    }
    return this.allowIfNoAcl && all.length === 0;
  }
}
