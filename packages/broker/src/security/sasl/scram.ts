/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) with node:crypto. Credentials are kept as
 * Kafka keeps them — salt, iterations, StoredKey and ServerKey — never the password; their text
 * form is Kafka's (`salt=…,stored_key=…,server_key=…,iterations=4096`).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError, type SaslServer, type SaslStep } from './mechanism.js';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
/** The ScramMechanism type codes of Describe/AlterUserScramCredentials. */
export const SCRAM_TYPE: Readonly<Record<ScramMechanism, number>> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
export const scramMechanismOfType = (type: number): ScramMechanism | undefined => SCRAM_MECHANISMS.find((m) => SCRAM_TYPE[m] === type);
/** Kafka's bounds on iterations (ScramMechanism.minIterations/maxIterations). */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 16384;

export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

const hashOf = (m: ScramMechanism) => (m === 'SCRAM-SHA-256' ? 'sha256' : 'sha512');
const hashLength = (m: ScramMechanism) => (m === 'SCRAM-SHA-256' ? 32 : 64);
const hmac = (m: ScramMechanism, key: Buffer, data: Buffer | string) => createHmac(hashOf(m), key).update(data).digest();
const hash = (m: ScramMechanism, data: Buffer) => createHash(hashOf(m)).update(data).digest();

export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, hashLength(mechanism), hashOf(mechanism));
}

/** The stored credential for a salted password (what AlterUserScramCredentials carries). */
export function credentialFromSaltedPassword(mechanism: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return { salt, storedKey: hash(mechanism, clientKey), serverKey: hmac(mechanism, salted, 'Server Key'), iterations };
}

export function credentialFromPassword(mechanism: ScramMechanism, password: string, iterations: number, salt: Buffer = randomBytes(32)): ScramCredential {
  return credentialFromSaltedPassword(mechanism, saltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

export function formatCredential(c: ScramCredential): string {
  return `salt=${c.salt.toString('base64')},stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=${c.iterations}`;
}

export function parseCredential(text: string): ScramCredential | null {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const salt = fields.get('salt');
  const storedKey = fields.get('stored_key');
  const serverKey = fields.get('server_key');
  const iterations = Number(fields.get('iterations'));
  if (!salt || !storedKey || !serverKey || !Number.isInteger(iterations)) return null;
  return { salt: Buffer.from(salt, 'base64'), storedKey: Buffer.from(storedKey, 'base64'), serverKey: Buffer.from(serverKey, 'base64'), iterations };
}

/** RFC 5802 saslname: "=2C" is ",", "=3D" is "="; any other "=" is malformed. */
function decodeSaslName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new SaslAuthenticationError('Invalid SCRAM username encoding');
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw new SaslAuthenticationError(`Invalid SCRAM message: bad attribute "${part.slice(0, 16)}"`);
    out.set(part[0], part.slice(2));
  }
  return out;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export class ScramServer implements SaslServer {
  private state: 'first' | 'final' | 'done' = 'first';
  private username = '';
  private credential: ScramCredential | null = null;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string, mechanism: ScramMechanism) => ScramCredential | null,
  ) {}

  evaluate(token: Buffer): SaslStep {
    const text = token.toString('utf8');
    if (this.state === 'first') return this.first(text);
    if (this.state === 'final') return this.final(text);
    throw new SaslAuthenticationError('SCRAM exchange already complete', this.username || null);
  }

  private first(text: string): SaslStep {
    this.state = 'final';
    // gs2-header: "n,," or "y,,"; channel binding ("p=") is not offered, so it is refused.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
    if (!m) throw new SaslAuthenticationError('Invalid SCRAM client first message (channel binding is not supported)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    const user = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (user === undefined || clientNonce === undefined || !PRINTABLE_NONCE.test(clientNonce)) throw new SaslAuthenticationError('Invalid SCRAM client first message');
    this.username = decodeSaslName(user);
    if (m[2] && decodeSaslName(m[2].slice(2)) !== this.username) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username', this.username);
    this.credential = this.lookup(this.username, this.mechanism);
    if (!this.credential) throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`, this.username);
    // Alphanumeric, as Kafka's (librdkafka mangles '+' and '/' in nonces).
    this.nonce = clientNonce + randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    return { challenge: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(text: string): SaslStep {
    this.state = 'done';
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw new SaslAuthenticationError('Invalid SCRAM client final message', this.username);
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) throw new SaslAuthenticationError('Invalid SCRAM client final message: channel binding does not match', this.username);
    // Kafka checks that the client's nonce ends with ours (ScramSaslServer): librdkafka before 1.9
    // sends its own nonce again in front of the server's.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) throw new SaslAuthenticationError('Invalid SCRAM client final message: nonce does not match', this.username);
    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`, this.username);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!timingSafeEqual(hash(this.mechanism, clientKey), credential.storedKey)) {
      throw new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`, this.username);
    }
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { challenge: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), principal: { principalType: 'User', name: this.username } };
  }
}
