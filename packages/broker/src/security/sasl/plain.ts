/**
 * SASL/PLAIN (RFC 4616) against the users of the listener's JAAS config (`user_<name>="password"`
 * options of PlainLoginModule), as Kafka's PlainServerCallbackHandler does.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { SaslAuthenticationError, type SaslServer, type SaslStep } from './mechanism.js';

export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN';
  private done = false;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  evaluate(token: Buffer): SaslStep {
    if (this.done) throw new SaslAuthenticationError('PLAIN takes one token');
    this.done = true;
    // authzid NUL authcid NUL passwd
    const first = token.indexOf(0);
    const second = first < 0 ? -1 : token.indexOf(0, first + 1);
    if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: expected 3 tokens');
    const authzid = token.subarray(0, first).toString('utf8');
    const username = token.subarray(first + 1, second).toString('utf8');
    const password = token.subarray(second + 1);
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password.length === 0) throw new SaslAuthenticationError('Authentication failed: password not specified', username);
    const expected = this.users.get(username);
    // Compare digests so the time taken says nothing about the stored password.
    const ok = expected !== undefined && timingSafeEqual(digest(Buffer.from(expected, 'utf8')), digest(password));
    if (!ok) throw new SaslAuthenticationError('Authentication failed: Invalid username or password', username);
    if (authzid !== '' && authzid !== username) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username', username);
    return { challenge: Buffer.alloc(0), principal: { principalType: 'User', name: username } };
  }
}

function digest(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest();
}
