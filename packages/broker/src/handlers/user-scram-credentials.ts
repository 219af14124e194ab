/**
 * DescribeUserScramCredentials 0 and AlterUserScramCredentials 0, as Kafka's controller answers
 * them. Upsertions carry the salt and the salted password (the client derives it); the broker
 * keeps only StoredKey and ServerKey.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { errorOf, type BrokerContext } from '../broker-context.js';
import type { ApiHandler } from '../dispatch/dispatcher.js';
import { credentialFromSaltedPassword, MAX_ITERATIONS, MIN_ITERATIONS, SCRAM_TYPE, scramMechanismOfType, type ScramCredential, type ScramMechanism } from '../security/sasl/scram.js';
import type { ScramCredentialStore } from '../security/sasl/scram-credentials.js';

export function registerScramCredentialHandlers(broker: BrokerContext, store: ScramCredentialStore): void {
  const describe: ApiHandler<typeof ApiKey.DescribeUserScramCredentials> = {
    apiKey: ApiKey.DescribeUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    handle(request) {
      const all = store.all();
      const info = (user: string) => (all.get(user) ?? []).map((c) => ({ mechanism: SCRAM_TYPE[c.mechanism], iterations: c.iterations }));
      if (request.users === null || request.users.length === 0) {
        const results = [...all.keys()].sort().map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: info(user) }));
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
      }
      const counts = new Map<string, number>();
      for (const u of request.users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
      const results = [...counts.keys()].map((user) => {
        if (counts.get(user)! > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
        if (!all.has(user)) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: info(user) };
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
    },
  };
  const alter: ApiHandler<typeof ApiKey.AlterUserScramCredentials> = {
    apiKey: ApiKey.AlterUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    async handle(request) {
      const outcome = new Map<string, { errorCode: number; errorMessage: string | null }>();
      const users = [...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)];
      const seen = new Map<string, Set<number>>();
      const duplicate = new Set<string>();
      for (const c of [...request.deletions, ...request.upsertions]) {
        const m = seen.get(c.name) ?? new Set<number>();
        if (m.has(c.mechanism)) duplicate.add(c.name);
        m.add(c.mechanism);
        seen.set(c.name, m);
      }
      const changes: { user: string; mechanism: ScramMechanism; credential: ScramCredential | null }[] = [];
      const fail = (user: string, errorCode: number, errorMessage: string) => {
        if (!outcome.has(user)) outcome.set(user, { errorCode, errorMessage });
      };
      for (const user of duplicate) fail(user, ErrorCode.DUPLICATE_RESOURCE, `A user credential cannot be altered twice in the same request`);
      for (const d of request.deletions) {
        const mechanism = scramMechanismOfType(d.mechanism);
        if (d.name === '') fail(d.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
        else if (!mechanism) fail(d.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
        else if (!store.get(d.name, mechanism)) fail(d.name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
        else changes.push({ user: d.name, mechanism, credential: null });
      }
      for (const u of request.upsertions) {
        const mechanism = scramMechanismOfType(u.mechanism);
        if (u.name === '') fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
        else if (!mechanism) fail(u.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
        else if (u.iterations < MIN_ITERATIONS) fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
        else if (u.iterations > MAX_ITERATIONS) fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
        else if (u.salt.length === 0 || u.saltedPassword.length === 0) fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Salt and salted password must not be empty');
        else changes.push({ user: u.name, mechanism, credential: credentialFromSaltedPassword(mechanism, Buffer.from(u.saltedPassword), Buffer.from(u.salt), u.iterations) });
      }
      // A user with any refused change has none of its changes applied.
      const applied = changes.filter((c) => !outcome.has(c.user));
      try {
        await store.apply(applied);
      } catch (err) {
        const { code, message } = errorOf(err, broker.logger, 'storing SCRAM credentials');
        for (const c of applied) fail(c.user, code, message);
      }
      const results = [...new Set(users)].map((user) => ({ user, ...(outcome.get(user) ?? { errorCode: ErrorCode.NONE, errorMessage: null }) }));
      return { throttleTimeMs: 0, results };
    },
  };
  broker.dispatcher.register(describe);
  broker.dispatcher.register(alter);
}
