/**
 * SCRAM credentials in the metadata store, so they survive a restart and every broker of a
 * cluster sees them: one dynamic-config record (resource `__scram_credentials`, which no broker
 * config request can name: broker resources are node ids or '') mapping `<mechanism>:<user>` to
 * Kafka's credential text (salt, StoredKey, ServerKey, iterations — never the password).
 */
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { formatCredential, parseCredential, SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism } from './scram.js';

export const SCRAM_RESOURCE = '__scram_credentials';

export class ScramCredentialStore {
  constructor(private readonly metadata: MetadataStore) {}

  get(user: string, mechanism: ScramMechanism): ScramCredential | null {
    const text = this.metadata.brokerConfigs(SCRAM_RESOURCE)[`${mechanism}:${user}`];
    return text === undefined ? null : parseCredential(text);
  }

  /** Every user with at least one credential, with the mechanisms and iterations of each. */
  all(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [key, text] of Object.entries(this.metadata.brokerConfigs(SCRAM_RESOURCE))) {
      const colon = key.indexOf(':');
      const mechanism = key.slice(0, colon) as ScramMechanism;
      if (!SCRAM_MECHANISMS.includes(mechanism)) continue;
      const credential = parseCredential(text);
      if (!credential) continue;
      const user = key.slice(colon + 1);
      const list = out.get(user) ?? [];
      list.push({ mechanism, iterations: credential.iterations });
      out.set(user, list);
    }
    return out;
  }

  /** Applies upserts (credential) and deletions (null) in one write. */
  async apply(changes: { user: string; mechanism: ScramMechanism; credential: ScramCredential | null }[]): Promise<void> {
    if (changes.length === 0) return;
    const next = { ...this.metadata.brokerConfigs(SCRAM_RESOURCE) };
    for (const c of changes) {
      const key = `${c.mechanism}:${c.user}`;
      if (c.credential) next[key] = formatCredential(c.credential);
      else delete next[key];
    }
    await this.metadata.setBrokerConfigs(SCRAM_RESOURCE, next);
  }
}
