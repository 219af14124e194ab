/**
 * SASL/OAUTHBEARER (RFC 7628), as Kafka's server does it. The client's first message carries
 * `auth=Bearer <token>`. Without `sasl.oauthbearer.jwks.endpoint.url` the token is an unsecured
 * JWS (alg "none"), Kafka's default development handler: the principal is its `sub` claim and
 * `exp` must be in the future. With it, the token is a JWT verified (npm `jose`) against the JWKS
 * endpoint's keys, `sasl.oauthbearer.expected.audience` and `expected.issuer`. A refused token is
 * answered with Kafka's error challenge (`{"status":"invalid_token"}`); the client acknowledges
 * it with a lone 0x01 and the exchange then fails.
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { SaslAuthenticationError, type SaslServer, type SaslStep } from './mechanism.js';

export interface OAuthBearerOptions {
  /** JWKS endpoint: tokens are verified JWTs; null: unsecured tokens (alg none). */
  jwksUrl: string | null;
  expectedAudience: readonly string[];
  expectedIssuer: string | null;
  subClaim: string;
  clockSkewSeconds: number;
}

const jwksSets = new Map<string, JWTVerifyGetKey>();

function jwksFor(url: string): JWTVerifyGetKey {
  let set = jwksSets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url));
    jwksSets.set(url, set);
  }
  return set;
}

export class OAuthBearerServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER';
  private state: 'first' | 'error-sent' | 'done' = 'first';
  private failure = '';

  constructor(private readonly options: OAuthBearerOptions) {}

  async evaluate(token: Buffer): Promise<SaslStep> {
    if (this.state === 'error-sent') {
      this.state = 'done';
      throw new SaslAuthenticationError(this.failure);
    }
    if (this.state === 'done') throw new SaslAuthenticationError('OAUTHBEARER exchange already complete');
    this.state = 'done';
    const text = token.toString('utf8');
    // gs2-header "n,[a=authzid]," then kvpairs separated by 0x01, ended by 0x01 0x01.
    const m = /^n,(a=[^,]*)?,\x01(.*)\x01\x01$/s.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER initial client response');
    const pairs = new Map<string, string>();
    for (const kv of m[2].split('\x01')) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new SaslAuthenticationError('Invalid OAUTHBEARER initial client response: bad key/value pair');
      pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const auth = /^Bearer ([\x21-\x7e]+)$/i.exec(pairs.get('auth') ?? '');
    if (!auth) throw new SaslAuthenticationError('Invalid OAUTHBEARER initial client response: no bearer token');
    let principal: string;
    let expiresAtMs: number;
    try {
      ({ principal, expiresAtMs } = this.options.jwksUrl ? await this.verified(auth[1], this.options.jwksUrl) : this.unsecured(auth[1]));
    } catch (err) {
      // Kafka answers a bad token with an error challenge; the client's 0x01 ends the exchange.
      this.state = 'error-sent';
      this.failure = `Authentication failed: ${(err as Error).message}`;
      return { challenge: Buffer.from(JSON.stringify({ status: 'invalid_token' }), 'utf8') };
    }
    const authzid = m[1]?.slice(2);
    if (authzid && authzid !== principal) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from the token principal', principal);
    return { challenge: Buffer.alloc(0), principal: { principalType: 'User', name: principal }, credentialExpiresAtMs: expiresAtMs };
  }

  private unsecured(token: string): { principal: string; expiresAtMs: number } {
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('the token is not a JWS compact serialization');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new Error('the token header or claims are not JSON');
    }
    if (typeof header !== 'object' || header === null || header.alg !== 'none') throw new Error('an unsecured token must have alg "none"');
    if (parts[2] !== '') throw new Error('an unsecured token must have an empty signature');
    return this.checkClaims(claims);
  }

  private async verified(token: string, url: string): Promise<{ principal: string; expiresAtMs: number }> {
    const { payload } = await jwtVerify(token, jwksFor(url), {
      ...(this.options.expectedAudience.length ? { audience: [...this.options.expectedAudience] } : {}),
      ...(this.options.expectedIssuer ? { issuer: this.options.expectedIssuer } : {}),
      clockTolerance: this.options.clockSkewSeconds,
      requiredClaims: ['exp'],
    });
    return this.checkClaims(payload as Record<string, unknown>);
  }

  private checkClaims(claims: Record<string, unknown>): { principal: string; expiresAtMs: number } {
    if (typeof claims !== 'object' || claims === null) throw new Error('the token claims are not an object');
    const sub = claims[this.options.subClaim];
    if (typeof sub !== 'string' || sub.trim() === '') throw new Error(`the token has no "${this.options.subClaim}" claim`);
    const exp = claims.exp;
    if (typeof exp !== 'number') throw new Error('the token has no numeric "exp" claim');
    const expiresAtMs = exp * 1000;
    if (expiresAtMs + this.options.clockSkewSeconds * 1000 <= Date.now()) throw new Error('the token has expired');
    return { principal: sub, expiresAtMs };
  }
}
