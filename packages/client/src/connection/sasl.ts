/**
 * Client side of SASL: SaslHandshake v1 then SaslAuthenticate with the mechanism's tokens.
 * PLAIN (RFC 4616), SCRAM-SHA-256/512 (RFC 5802/7677, the server signature is checked), and
 * OAUTHBEARER (RFC 7628) with a token callback. The option shapes are kafkajs's.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiKey, ErrorCode, KafkaError } from '@sluice/protocol';
import type { Connection, SaslAuthenticator } from './connection.js';

export type SaslOptions =
  | { mechanism: 'plain' | 'PLAIN'; username: string; password: string }
  | { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'oauthbearer' | 'OAUTHBEARER'; oauthBearerProvider: () => Promise<{ value: string }> | { value: string } };

export class SaslAuthenticationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslAuthenticationFailed';
  }
}

/**
 * The authenticator for Connection's `sasl` option. When the broker gives the session a lifetime
 * (KIP-368, `connections.max.reauth.ms`), the connection re-authenticates on its own at 85–95% of
 * it, so the broker does not close it.
 */
export function saslAuthenticator(options: SaslOptions): SaslAuthenticator {
  const authenticate = saslExchange(options);
  const run = async (connection: Connection): Promise<void> => {
    const lifetimeMs = await authenticate(connection);
    if (lifetimeMs <= 0) return;
    const timer = setTimeout(() => {
      if (!connection.isOpen) return;
      // A failed re-authentication leaves the broker to close the connection; the next request reconnects.
      run(connection).catch(() => connection.close());
    }, lifetimeMs * (0.85 + Math.random() * 0.1));
    timer.unref();
  };
  return run;
}

/** One SASL exchange; resolves with the session lifetime the broker gave (0: none). */
function saslExchange(options: SaslOptions): (connection: Connection) => Promise<number> {
  const mechanism = options.mechanism.toUpperCase();
  return async (connection: Connection) => {
    let lifetimeMs = 0;
    const handshake = await connection.request(ApiKey.SaslHandshake, { mechanism }, { version: 1 });
    if (handshake.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(handshake.errorCode, `SASL mechanism ${mechanism} refused by ${connection.address}; the broker offers ${handshake.mechanisms.join(', ') || 'none'}`);
    }
    const step = async (token: Buffer): Promise<Buffer> => {
      const res = await connection.request(ApiKey.SaslAuthenticate, { authBytes: token });
      if (res.errorCode !== ErrorCode.NONE) throw new SaslAuthenticationFailed(`SASL ${mechanism} authentication with ${connection.address} failed: ${res.errorMessage ?? `error ${res.errorCode}`}`);
      lifetimeMs = Number(res.sessionLifetimeMs ?? 0n);
      return Buffer.from(res.authBytes);
    };
    if (options.mechanism.toUpperCase() === 'PLAIN') {
      const o = options as { username: string; password: string };
      await step(Buffer.from(`\u0000${o.username}\u0000${o.password}`, 'utf8'));
      return lifetimeMs;
    }
    if (mechanism === 'OAUTHBEARER') {
      const o = options as { oauthBearerProvider: () => Promise<{ value: string }> | { value: string } };
      const { value } = await o.oauthBearerProvider();
      const reply = await step(Buffer.from(`n,,\u0001auth=Bearer ${value}\u0001\u0001`, 'utf8'));
      if (reply.length > 0) {
        // An error challenge: acknowledge it so the broker ends the exchange with the failure.
        await step(Buffer.from([1]));
        throw new SaslAuthenticationFailed(`OAUTHBEARER token refused by ${connection.address}: ${reply.toString('utf8')}`);
      }
      return lifetimeMs;
    }
    const o = options as { username: string; password: string };
    await scram(mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256', o.username, o.password, step);
    return lifetimeMs;
  };
}

async function scram(hash: 'sha256' | 'sha512', username: string, password: string, step: (token: Buffer) => Promise<Buffer>): Promise<void> {
  const nonce = randomBytes(24).toString('base64');
  const clientFirstBare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  const serverFirst = (await step(Buffer.from(`n,,${clientFirstBare}`, 'utf8'))).toString('utf8');
  const attrs = new Map(serverFirst.split(',').map((p) => [p[0], p.slice(2)] as const));
  const serverNonce = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!serverNonce.startsWith(nonce) || !Number.isInteger(iterations) || iterations < 1) throw new SaslAuthenticationFailed(`bad SCRAM server first message`);
  const length = hash === 'sha256' ? 32 : 64;
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, length, hash);
  const hmac = (key: Buffer, data: string) => createHmac(hash, key).update(data).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${serverNonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(length);
  for (let i = 0; i < length; i++) proof[i] = clientKey[i] ^ signature[i];
  const serverFinal = (await step(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8'))).toString('utf8');
  const expected = hmac(hmac(salted, 'Server Key'), authMessage);
  const got = Buffer.from(serverFinal.startsWith('v=') ? serverFinal.slice(2) : '', 'base64');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new SaslAuthenticationFailed('SCRAM server signature does not match: the broker does not know this password');
}
