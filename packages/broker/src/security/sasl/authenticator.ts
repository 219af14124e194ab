/**
 * SASL on a listener (SASL_PLAINTEXT, SASL_SSL), as Kafka's SaslServerAuthenticator does it.
 *
 * Until a connection has authenticated only ApiVersions, SaslHandshake and SaslAuthenticate are
 * accepted; anything else closes it. SaslHandshake v1 is followed by SaslAuthenticate requests
 * carrying the tokens; v0 (kafka-python, old librdkafka) by raw tokens framed only by their
 * length, answered the same way. A failed exchange is answered (SASL_AUTHENTICATION_FAILED, or
 * for raw tokens nothing) and the connection closes; it is logged with the claimed user and the
 * address (never a secret) and counted. A connection that has not authenticated within
 * `sluice.sasl.authentication.timeout.ms` is closed. With `connections.max.reauth.ms` (or an
 * OAUTHBEARER token's expiry) the session has a lifetime (KIP-368): SaslAuthenticate v1+ returns
 * it, the client re-authenticates with a new handshake before it ends, and a request after it
 * ends closes the connection.
 */
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { parseJaasConfig } from '@sluice/client';
import type { BrokerConfig } from '../../config/broker-config.js';
import type { ApiHandler, Dispatcher } from '../../dispatch/dispatcher.js';
import { RequestRejected } from '../../dispatch/dispatcher.js';
import type { Logger } from '../../logger.js';
import type { Connection, ConnectionInfo, Response } from '../../network/connection.js';
import { principalToString, type KafkaPrincipal } from '../principal.js';
import type { ListenerSpec } from '../listeners.js';
import { SaslAuthenticationError, type SaslServer, type SaslStep } from './mechanism.js';
import { OAuthBearerServer } from './oauthbearer.js';
import { PlainServer } from './plain.js';
import { ScramServer, SCRAM_MECHANISMS, type ScramMechanism } from './scram.js';
import type { ScramCredentialStore } from './scram-credentials.js';

/** What is counted (and what tests and operators read). */
export interface AuthenticationStats {
  successfulAuthentications: number;
  failedAuthentications: number;
  successfulReauthentications: number;
}

type Stage = 'handshake' | 'authenticate' | 'raw' | 'done';

interface Session {
  connection: Connection;
  authenticator: ListenerAuthenticator;
  stage: Stage;
  server: SaslServer | null;
  /** The authenticated principal (kept while re-authenticating). */
  principal: KafkaPrincipal | null;
  /** ms since the epoch after which requests close the connection; null: no limit. */
  expiresAtMs: number | null;
  handshakeVersion: number;
  timer: NodeJS.Timeout | null;
}

const sessions = new WeakMap<ConnectionInfo, Session>();

const MAX_TOKEN_BYTES = 64 * 1024;
const SUPPORTED = new Set<string>(['PLAIN', ...SCRAM_MECHANISMS, 'OAUTHBEARER']);

export class ListenerAuthenticator {
  readonly mechanisms: string[];
  private readonly plainUsers: Map<string, string>;

  constructor(
    readonly listener: ListenerSpec,
    private readonly config: BrokerConfig,
    private readonly scram: ScramCredentialStore,
    private readonly logger: Logger,
    readonly stats: AuthenticationStats,
  ) {
    const configured = (config.listenerValue(listener.name, 'sasl.enabled.mechanisms') ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
    const unsupported = configured.filter((m) => !SUPPORTED.has(m));
    if (unsupported.length) logger.warn(`listener ${listener.name}: SASL mechanism(s) ${unsupported.join(', ')} are not supported and are refused; enabled: ${configured.filter((m) => SUPPORTED.has(m)).join(', ') || 'none'}`);
    this.mechanisms = configured.filter((m) => SUPPORTED.has(m));
    this.plainUsers = new Map();
    if (this.mechanisms.includes('PLAIN')) {
      const jaas = config.listenerValue(listener.name, 'sasl.jaas.config', 'plain');
      if (jaas) {
        for (const module of parseJaasConfig(jaas)) {
          for (const [key, value] of module.options) if (key.startsWith('user_')) this.plainUsers.set(key.slice(5), value);
        }
      }
    }
  }

  /** A new connection on this listener: it must authenticate within the timeout. */
  onConnection(connection: Connection): void {
    const session: Session = { connection, authenticator: this, stage: 'handshake', server: null, principal: null, expiresAtMs: null, handshakeVersion: 1, timer: null };
    sessions.set(connection, session);
    const timeoutMs = this.config.int('sluice.sasl.authentication.timeout.ms');
    session.timer = setTimeout(() => {
      if (session.principal === null) {
        this.stats.failedAuthentications++;
        this.logger.warn(`closing connection ${connection.id} from ${connection.remoteAddress}:${connection.remotePort} on listener ${this.listener.name}: not authenticated within ${timeoutMs} ms`);
        connection.destroy(null);
      }
    }, timeoutMs);
    session.timer.unref();
  }

  /**
   * The frame handler of this listener's connections: raw tokens after a v0 handshake, the SASL
   * gate, then the dispatcher.
   */
  handleFrame(frame: Buffer, connection: ConnectionInfo, next: (frame: Buffer, connection: ConnectionInfo) => Response | Promise<Response>): Response | Promise<Response> {
    const session = sessions.get(connection);
    if (!session) return next(frame, connection);
    if (session.stage === 'raw') return this.rawToken(session, frame);
    if (frame.length < 8) throw new RequestRejected('request frame too short for a header');
    const apiKey = frame.readInt16BE(0);
    const saslApi = apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate;
    if (session.principal === null) {
      if (!saslApi && apiKey !== ApiKey.ApiVersions) {
        this.fail(session, null, `unexpected request (API key ${apiKey}) before authentication`);
        throw new RequestRejected(`API key ${apiKey} before SASL authentication completed`);
      }
    } else if (session.expiresAtMs !== null && Date.now() > session.expiresAtMs && !saslApi) {
      throw new RequestRejected(`the SASL session of ${principalToString(session.principal)} expired (connections.max.reauth.ms) without re-authentication`);
    }
    return next(frame, connection);
  }

  /** A v0 handshake's raw token: the answer is the challenge with a length prefix. */
  private rawToken(session: Session, frame: Buffer): Response | Promise<Response> {
    if (frame.length > MAX_TOKEN_BYTES) {
      this.fail(session, null, `SASL token of ${frame.length} bytes`);
      throw new RequestRejected('oversized SASL token');
    }
    const frameOf = (challenge: Buffer) => {
      const out = Buffer.allocUnsafe(4 + challenge.length);
      out.writeInt32BE(challenge.length, 0);
      challenge.copy(out, 4);
      return out;
    };
    const onError = (err: unknown): never => {
      this.fail(session, err instanceof SaslAuthenticationError ? err.claimedUser : null, (err as Error).message);
      throw new RequestRejected(`SASL authentication failed: ${(err as Error).message}`);
    };
    let step: SaslStep | Promise<SaslStep>;
    try {
      step = session.server!.evaluate(Buffer.from(frame));
    } catch (err) {
      return onError(err);
    }
    const finish = (s: SaslStep): Response => {
      if (s.principal) this.succeed(session, s, 0);
      return frameOf(s.challenge);
    };
    return step instanceof Promise ? step.then(finish, onError) : finish(step);
  }

  handshake(connection: ConnectionInfo, mechanism: string, version: number): { errorCode: number; mechanisms: string[] } {
    const session = sessions.get(connection);
    if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    if (session.stage !== 'handshake' && session.stage !== 'done') return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: this.mechanisms };
    if (session.principal !== null && version === 0) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: this.mechanisms };
    const wanted = mechanism.toUpperCase();
    if (!this.mechanisms.includes(wanted)) {
      this.fail(session, null, `unsupported SASL mechanism ${mechanism}${wanted === 'GSSAPI' ? ' (Kerberos is not supported)' : ''}; enabled: ${this.mechanisms.join(', ') || 'none'}`);
      this.closeSoon(session);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: this.mechanisms };
    }
    session.server = this.serverFor(wanted);
    session.handshakeVersion = version;
    session.stage = version === 0 ? 'raw' : 'authenticate';
    return { errorCode: ErrorCode.NONE, mechanisms: this.mechanisms };
  }

  async authenticate(connection: ConnectionInfo, token: Buffer, version: number): Promise<{ errorCode: number; errorMessage: string | null; authBytes: Buffer; sessionLifetimeMs: bigint }> {
    const session = sessions.get(connection);
    const refused = (errorCode: number, errorMessage: string) => ({ errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n });
    if (!session || session.stage !== 'authenticate' || !session.server) {
      if (session) this.closeSoon(session);
      return refused(ErrorCode.ILLEGAL_SASL_STATE, 'Unexpected SaslAuthenticate request: no SaslHandshake v1 first');
    }
    if (token.length > MAX_TOKEN_BYTES) {
      this.fail(session, null, `SASL token of ${token.length} bytes`);
      this.closeSoon(session);
      return refused(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Authentication failed: SASL token too large');
    }
    let step: SaslStep;
    try {
      step = await session.server.evaluate(Buffer.from(token));
    } catch (err) {
      const message = err instanceof SaslAuthenticationError ? err.message : 'Authentication failed';
      this.fail(session, err instanceof SaslAuthenticationError ? err.claimedUser : null, (err as Error).message);
      this.closeSoon(session);
      return refused(ErrorCode.SASL_AUTHENTICATION_FAILED, message);
    }
    let lifetime = 0n;
    if (step.principal) {
      if (session.principal !== null && principalToString(session.principal) !== principalToString(step.principal)) {
        this.fail(session, step.principal.name, `re-authentication as ${principalToString(step.principal)} on a connection of ${principalToString(session.principal)}`);
        this.closeSoon(session);
        return refused(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Cannot change principals during re-authentication');
      }
      lifetime = BigInt(this.succeed(session, step, version));
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.challenge, sessionLifetimeMs: lifetime };
  }

  private serverFor(mechanism: string): SaslServer {
    if (mechanism === 'PLAIN') return new PlainServer(this.plainUsers);
    if (mechanism === 'OAUTHBEARER') {
      const v = (name: string) => this.config.listenerValue(this.listener.name, name, 'oauthbearer');
      return new OAuthBearerServer({
        jwksUrl: v('sasl.oauthbearer.jwks.endpoint.url') || null,
        expectedAudience: (v('sasl.oauthbearer.expected.audience') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        expectedIssuer: v('sasl.oauthbearer.expected.issuer') || null,
        subClaim: v('sasl.oauthbearer.sub.claim.name') || 'sub',
        clockSkewSeconds: Number(v('sasl.oauthbearer.clock.skew.seconds') ?? '30'),
      });
    }
    return new ScramServer(mechanism as ScramMechanism, (user, m) => this.scram.get(user, m));
  }

  /** Authentication (or re-authentication) completed; returns the session lifetime in ms (0: none). */
  private succeed(session: Session, step: SaslStep, version: number): number {
    const mechanism = session.server!.mechanism;
    const reauth = session.principal !== null;
    session.principal = step.principal!;
    session.connection.authenticatedAs(step.principal!);
    session.stage = 'done';
    session.server = null;
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    if (reauth) this.stats.successfulReauthentications++;
    else this.stats.successfulAuthentications++;
    const maxReauth = Number(this.config.listenerValue(this.listener.name, 'connections.max.reauth.ms', mechanism) ?? '0');
    const now = Date.now();
    let expires: number | null = maxReauth > 0 ? now + maxReauth : null;
    if (step.credentialExpiresAtMs !== undefined) expires = expires === null ? step.credentialExpiresAtMs : Math.min(expires, step.credentialExpiresAtMs);
    session.expiresAtMs = expires;
    this.logger.debug(`connection ${session.connection.id} from ${session.connection.remoteAddress} authenticated as ${principalToString(step.principal!)} with ${mechanism} (SaslAuthenticate v${version})`);
    return expires === null ? 0 : Math.max(1, expires - now);
  }

  private fail(session: Session, claimedUser: string | null, reason: string): void {
    this.stats.failedAuthentications++;
    const c = session.connection;
    this.logger.warn(
      `failed authentication on listener ${this.listener.name} from ${c.remoteAddress}:${c.remotePort}` +
        `${claimedUser !== null ? ` (principal User:${claimedUser})` : ''}${session.server ? ` with ${session.server.mechanism}` : ''}: ${reason}`,
    );
  }

  /** Closes the connection once the response being produced has been written. */
  private closeSoon(session: Session): void {
    setImmediate(() => void session.connection.drain());
  }
}

/** SaslHandshake 0–1 and SaslAuthenticate 0–2; on a listener without SASL they answer ILLEGAL_SASL_STATE. */
export function registerSaslHandlers(dispatcher: Dispatcher): void {
  const handshake: ApiHandler<typeof ApiKey.SaslHandshake> = {
    apiKey: ApiKey.SaslHandshake,
    minVersion: 0,
    maxVersion: 1,
    handle(request, { connection, header }) {
      const session = sessions.get(connection);
      if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
      return session.authenticator.handshake(connection, request.mechanism, header.apiVersion);
    },
  };
  const authenticate: ApiHandler<typeof ApiKey.SaslAuthenticate> = {
    apiKey: ApiKey.SaslAuthenticate,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, { connection, header }) {
      const session = sessions.get(connection);
      if (!session) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SASL is not enabled on this listener', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
      return session.authenticator.authenticate(connection, request.authBytes, header.apiVersion);
    },
  };
  dispatcher.register(handshake);
  dispatcher.register(authenticate);
}

