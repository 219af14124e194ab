/** One server-side SASL exchange: tokens in, challenges out, until it completes with a principal or fails. */
import type { KafkaPrincipal } from '../principal.js';

export interface SaslStep {
  /** The bytes sent back to the client (may be empty). */
  challenge: Buffer;
  /** Set once authentication succeeded. */
  principal?: KafkaPrincipal;
  /** For OAUTHBEARER: when the credential expires (ms since the epoch); the session may not outlive it. */
  credentialExpiresAtMs?: number;
}

export interface SaslServer {
  readonly mechanism: string;
  /** The next step; throws SaslAuthenticationError when the client is refused. */
  evaluate(token: Buffer): SaslStep | Promise<SaslStep>;
}

/** The client gave wrong credentials or a malformed token: SASL_AUTHENTICATION_FAILED and the connection closes. */
export class SaslAuthenticationError extends Error {
  constructor(
    message: string,
    /** Who the client claimed to be, for the log (never a secret). */
    readonly claimedUser: string | null = null,
    /** For OAUTHBEARER: the error JSON sent back to the client before it closes. */
    readonly challenge: Buffer | null = null,
  ) {
    super(message);
    this.name = 'SaslAuthenticationError';
  }
}
