/**
 * TLS for SSL and SASL_SSL listeners with node:tls, configured with Kafka's keys (each may be
 * listener-prefixed: `listener.name.<l>.ssl.keystore.location`):
 *
 * - `ssl.keystore.location` — PKCS12 (`ssl.keystore.type=PKCS12`, node's `pfx`, opened with
 *   `ssl.keystore.password`) or PEM (`ssl.keystore.type=PEM`: the private key and the certificate
 *   chain in one file, the key encrypted with `ssl.key.password` if at all); or the PEM text in
 *   `ssl.keystore.key` and `ssl.keystore.certificate.chain`. JKS is not readable by Node and is refused.
 * - `ssl.truststore.location` (PEM certificates) or `ssl.truststore.certificates`: the CAs client
 *   certificates are checked against.
 * - `ssl.client.auth` required|requested|none; `ssl.enabled.protocols` (TLSv1.2, TLSv1.3);
 *   `ssl.cipher.suites` (OpenSSL names; TLS 1.3 suites by their IANA names).
 * - The principal of a connection with a trusted client certificate is its subject DN (RFC 2253,
 *   most specific first, as Java prints it) mapped by `ssl.principal.mapping.rules`.
 *
 * Reload: the keystore and truststore files are watched (polled every second); when one changes,
 * the listener's secure context is rebuilt and new connections use it, without a restart.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions, TlsOptions, TLSSocket } from 'node:tls';
import { ConfigError, type BrokerConfig } from '../config/broker-config.js';
import { ANONYMOUS, type KafkaPrincipal } from './principal.js';

export interface ListenerTls {
  /** Server options for tls.createServer. */
  options: TlsOptions;
  /** The files the secure context is built from (watched for reload). */
  files: string[];
  clientAuth: 'required' | 'requested' | 'none';
  mapper: PrincipalMapper;
}

/** Builds the TLS settings of one listener; throws ConfigError on unusable settings. */
export function listenerTls(config: BrokerConfig, listener: string): ListenerTls {
  const v = (name: string) => {
    const raw = config.listenerValue(listener, name);
    return raw === null || raw === '' ? null : raw;
  };
  const where = `listener ${listener}`;
  const files: string[] = [];
  const read = (path: string, key: string): Buffer => {
    files.push(path);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError([`${where}: cannot read ${key} ${path}: ${(err as Error).message}`]);
    }
  };
  const context: SecureContextOptions = {};
  const keystoreLocation = v('ssl.keystore.location');
  const keystoreType = storeType(config, listener, 'ssl.keystore.type', keystoreLocation ? () => read(keystoreLocation, 'ssl.keystore.location') : null);
  if (keystoreLocation) {
    const bytes = read(keystoreLocation, 'ssl.keystore.location');
    if (keystoreType === 'PKCS12') {
      context.pfx = bytes;
      context.passphrase = v('ssl.keystore.password') ?? undefined;
    } else {
      context.key = bytes;
      context.cert = bytes;
      const keyPassword = v('ssl.key.password');
      if (keyPassword) context.passphrase = keyPassword;
    }
  } else if (v('ssl.keystore.key') && v('ssl.keystore.certificate.chain')) {
    context.key = v('ssl.keystore.key')!;
    context.cert = v('ssl.keystore.certificate.chain')!;
    const keyPassword = v('ssl.key.password');
    if (keyPassword) context.passphrase = keyPassword;
  } else {
    throw new ConfigError([`${where}: TLS needs ssl.keystore.location (or ssl.keystore.key and ssl.keystore.certificate.chain)`]);
  }
  const truststoreLocation = v('ssl.truststore.location');
  if (truststoreLocation) {
    const bytes = read(truststoreLocation, 'ssl.truststore.location');
    const type = storeType(config, listener, 'ssl.truststore.type', () => bytes);
    if (type !== 'PEM') throw new ConfigError([`${where}: ssl.truststore.type ${type} is not supported for truststores; use PEM`]);
    context.ca = bytes;
  } else if (v('ssl.truststore.certificates')) {
    context.ca = v('ssl.truststore.certificates')!;
  }
  const protocols = (v('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((p) => p.trim()).filter(Boolean);
  const known = ['TLSv1.2', 'TLSv1.3'];
  const bad = protocols.filter((p) => !known.includes(p));
  if (bad.length || protocols.length === 0) throw new ConfigError([`${where}: ssl.enabled.protocols ${bad.join(',') || '(empty)'}: supported are TLSv1.2 and TLSv1.3`]);
  context.minVersion = protocols.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3';
  context.maxVersion = protocols.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';
  const ciphers = v('ssl.cipher.suites');
  if (ciphers) context.ciphers = ciphers.split(',').map((c) => c.trim()).filter(Boolean).join(':');
  const clientAuth = (v('ssl.client.auth') ?? 'none').toLowerCase();
  if (clientAuth !== 'required' && clientAuth !== 'requested' && clientAuth !== 'none') throw new ConfigError([`${where}: ssl.client.auth must be required, requested or none`]);
  if (clientAuth !== 'none' && !context.ca) throw new ConfigError([`${where}: ssl.client.auth=${clientAuth} needs ssl.truststore.location`]);
  let mapper: PrincipalMapper;
  try {
    mapper = new PrincipalMapper(v('ssl.principal.mapping.rules') ?? 'DEFAULT');
  } catch (err) {
    throw new ConfigError([`${where}: ssl.principal.mapping.rules: ${(err as Error).message}`]);
  }
  const options: TlsOptions = {
    ...context,
    requestCert: clientAuth !== 'none',
    rejectUnauthorized: clientAuth === 'required',
    handshakeTimeout: config.int('sluice.sasl.authentication.timeout.ms'),
  };
  return { options, files: [...new Set(files)], clientAuth, mapper };
}

function storeType(config: BrokerConfig, listener: string, key: string, bytes: (() => Buffer) | null): 'PEM' | 'PKCS12' {
  const raw = (config.listenerValue(listener, key) ?? 'JKS').toUpperCase();
  if (raw === 'PEM' || raw === 'PKCS12') return raw;
  // Kafka's default is JKS, which Node cannot read: a file that is PEM text is taken as PEM, else
  // it must be said to be PKCS12.
  if (raw === 'JKS' && !config.isStaticallySet(key) && bytes && bytes().subarray(0, 64).toString('latin1').includes('-----BEGIN')) return 'PEM';
  throw new ConfigError([`listener ${listener}: ${key}=${raw} is not supported (Java keystores cannot be read by Node); convert to PKCS12 or PEM and set ${key}`]);
}

/** Re-reads the listener's TLS settings whenever one of its files changes; returns a stop function. */
export function watchTlsFiles(files: readonly string[], onChange: () => void): () => void {
  const listener = () => onChange();
  for (const f of files) {
    const watcher = watchFile(f, { interval: 1000, persistent: false }, (curr, prev) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) listener();
    });
    watcher.unref?.();
  }
  return () => {
    for (const f of files) unwatchFile(f);
  };
}

/** The principal of a TLS connection: its trusted client certificate's mapped subject, else ANONYMOUS. */
export function tlsPrincipal(socket: TLSSocket, mapper: PrincipalMapper): KafkaPrincipal {
  if (!socket.authorized) return ANONYMOUS;
  const cert = socket.getPeerX509Certificate?.();
  if (!cert) return ANONYMOUS;
  return { principalType: 'User', name: mapper.map(rfc2253(cert.subject)) };
}

/** node's subject ("C=US\nO=Acme\nCN=alice", certificate order) as Java's RFC 2253 name ("CN=alice,O=Acme,C=US"). */
export function rfc2253(subject: string): string {
  return subject
    .split('\n')
    .filter(Boolean)
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      const value = rdn.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
      return `${rdn.slice(0, eq)}=${value}`;
    })
    .join(',');
}

interface Rule {
  pattern: RegExp | null;
  replacement: string;
  toCase: '' | 'L' | 'U';
}

/**
 * Kafka's SslPrincipalMapper: `DEFAULT` (the whole DN) or `RULE:pattern/replacement/[LU]`,
 * comma-separated; the first rule whose pattern matches the whole DN applies.
 */
export class PrincipalMapper {
  private readonly rules: Rule[];

  constructor(text: string) {
    this.rules = [];
    const re = /\s*(?:(DEFAULT)|RULE:((?:\\\/|[^/])*)\/((?:\\\/|[^/])*)\/([LU]?))\s*(?:,|$)/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    const trimmed = text.trim();
    while (at < trimmed.length && (m = re.exec(trimmed)) !== null) {
      if (m[0].length === 0) break;
      at = re.lastIndex;
      if (m[1]) this.rules.push({ pattern: null, replacement: '', toCase: '' });
      else this.rules.push({ pattern: new RegExp(`^(?:${m[2].replace(/\\\//g, '/')})$`), replacement: m[3].replace(/\\\//g, '/'), toCase: (m[4] ?? '') as Rule['toCase'] });
    }
    if (at < trimmed.length || this.rules.length === 0) throw new Error(`invalid rule list "${text}": expected DEFAULT or RULE:pattern/replacement/[LU], comma-separated`);
  }

  map(dn: string): string {
    for (const rule of this.rules) {
      if (rule.pattern === null) return dn;
      if (!rule.pattern.test(dn)) continue;
      const out = dn.replace(rule.pattern, rule.replacement);
      return rule.toCase === 'L' ? out.toLowerCase() : rule.toCase === 'U' ? out.toUpperCase() : out;
    }
    throw new Error(`no ssl.principal.mapping.rules rule matches ${dn}`);
  }
}
