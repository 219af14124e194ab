/**
 * Kafka's client security properties as @sluice/client connection options, for every place that
 * takes Kafka-style client settings (the CLI's --command-config, Connect workers and their
 * `producer.`/`consumer.`/`admin.` prefixes):
 * `security.protocol` PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL;
 * `ssl.truststore.location` (PEM; `ssl.truststore.type` PEM) or `ssl.truststore.certificates`,
 * `ssl.keystore.location` (PEM or PKCS12 with `ssl.keystore.password`, `ssl.key.password`),
 * `ssl.endpoint.identification.algorithm` ('' turns the host name check off);
 * `sasl.mechanism` PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|OAUTHBEARER with `sasl.jaas.config`
 * (username/password; for OAUTHBEARER Kafka's unsecured login options
 * `unsecuredLoginStringClaim_sub` and `unsecuredLoginLifetimeSeconds`).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SaslAuthenticator } from '../connection/connection.js';
import { saslAuthenticator } from '../connection/sasl.js';
import { parseJaasConfig } from './jaas.js';

export const SECURITY_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  'security.protocol',
  'ssl.truststore.location',
  'ssl.truststore.type',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
  'ssl.keystore.location',
  'ssl.keystore.type',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'sasl.mechanism',
  'sasl.jaas.config',
]);

/** A client property with a value that cannot be used; `key` names it. */
export class ClientConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientConfigError';
  }
}

export interface SecurityOptions {
  tls?: TlsOptions | boolean;
  sasl?: SaslAuthenticator;
}

type PropertySource = ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>>;

/** TLS and SASL options from Kafka client properties (a Map or a plain object); none for PLAINTEXT. */
export function securityFromProperties(source: PropertySource): SecurityOptions {
  const get = (key: string): string | undefined => (source instanceof Map ? source.get(key) : (source as Record<string, string | undefined>)[key]);
  const protocol = (get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase();
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    throw new ClientConfigError('security.protocol', `security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not "${protocol}"`);
  }
  const out: SecurityOptions = {};
  const read = (key: string) => {
    const path = get(key)!.trim();
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ClientConfigError(key, `${key} ${path}: ${(err as Error).message}`);
    }
  };
  if (protocol.endsWith('SSL')) {
    const tls: TlsOptions = {};
    if (get('ssl.truststore.location')) {
      const type = (get('ssl.truststore.type') ?? 'PEM').trim().toUpperCase();
      const bytes = read('ssl.truststore.location');
      if (type !== 'PEM' && !bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
        throw new ClientConfigError('ssl.truststore.type', `ssl.truststore.type ${type} is not supported: use a PEM truststore`);
      }
      tls.ca = bytes;
    } else if (get('ssl.truststore.certificates')) {
      tls.ca = get('ssl.truststore.certificates')!;
    }
    if (get('ssl.keystore.location')) {
      const bytes = read('ssl.keystore.location');
      const type = (get('ssl.keystore.type') ?? (bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? 'PEM' : 'PKCS12')).trim().toUpperCase();
      if (type === 'PKCS12') Object.assign(tls, { pfx: bytes, passphrase: get('ssl.keystore.password') });
      else if (type === 'PEM') Object.assign(tls, { key: bytes, cert: bytes, ...(get('ssl.key.password') ? { passphrase: get('ssl.key.password') } : {}) });
      else throw new ClientConfigError('ssl.keystore.type', `ssl.keystore.type ${type} is not supported: use PKCS12 or PEM`);
    }
    if ((get('ssl.endpoint.identification.algorithm') ?? 'https').trim() === '') tls.checkServerIdentity = () => undefined;
    out.tls = tls;
  }
  if (protocol.startsWith('SASL')) {
    const mechanism = (get('sasl.mechanism') ?? 'GSSAPI').trim().toUpperCase();
    let options: Map<string, string> = new Map();
    const jaas = get('sasl.jaas.config');
    if (jaas) {
      try {
        options = parseJaasConfig(jaas)[0].options;
      } catch (err) {
        throw new ClientConfigError('sasl.jaas.config', (err as Error).message);
      }
    }
    if (mechanism === 'OAUTHBEARER') {
      const sub = options.get('unsecuredLoginStringClaim_sub');
      if (!sub) throw new ClientConfigError('sasl.jaas.config', 'sasl.mechanism=OAUTHBEARER needs unsecuredLoginStringClaim_sub="<principal>" in sasl.jaas.config (OAuthBearerLoginModule)');
      const lifetime = Number(options.get('unsecuredLoginLifetimeSeconds') ?? '3600');
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      out.sasl = saslAuthenticator({
        mechanism: 'OAUTHBEARER',
        oauthBearerProvider: () => {
          const now = Math.floor(Date.now() / 1000);
          return { value: `${b64({ alg: 'none' })}.${b64({ sub, iat: now, exp: now + lifetime })}.` };
        },
      });
    } else if (mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') {
      const username = options.get('username');
      const password = options.get('password');
      if (username === undefined || password === undefined) throw new ClientConfigError('sasl.jaas.config', `sasl.mechanism=${mechanism} needs username="…" password="…" in sasl.jaas.config`);
      out.sasl = saslAuthenticator({ mechanism, username, password });
    } else {
      throw new ClientConfigError('sasl.mechanism', `sasl.mechanism ${mechanism} is not supported: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER`);
    }
  }
  return out;
}
