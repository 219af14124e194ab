/**
 * Certificates for TLS tests, made with the openssl peer in a temp dir: a CA, a server's
 * certificate for localhost/127.0.0.1 (PEM with key, certificate and CA; and PKCS12), a client's,
 * and an untrusted client's signed by another CA. Callers check `requirePeers(t, 'openssl')` first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opensslPath } from './index.js';

export interface TestCertificates {
  dir: string;
  caCert: string;
  /** PEM keystore: the broker's key and certificate in one file. */
  brokerPem: string;
  /** PKCS12 keystore of the broker, password "changeit". */
  brokerP12: string;
  brokerKey: string;
  brokerCert: string;
  clientKey: string;
  clientCert: string;
  /** Signed by a CA the broker does not trust. */
  untrustedKey: string;
  untrustedCert: string;
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-certs-'));
  const openssl = (...args: string[]) => execFileSync(opensslPath(), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const p = (f: string) => join(dir, f);
  const ca = (name: string) => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
  };
  const leaf = (name: string, subject: string, caName: string, san: string | null) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subject);
    const ext = p(`${name}.ext`);
    writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
    openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.crt`), '-CAkey', p(`${caName}.key`), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '2', '-extfile', ext);
  };
  ca('test-ca');
  ca('other-ca');
  leaf('broker', '/CN=localhost/O=Sluice', 'test-ca', 'DNS:localhost,IP:127.0.0.1');
  leaf('client', '/C=US/O=Acme/OU=Eng/CN=alice', 'test-ca', null);
  leaf('untrusted', '/CN=mallory', 'other-ca', null);
  writeFileSync(p('broker.pem'), Buffer.concat([readFileSync(p('broker.key')), readFileSync(p('broker.crt')), readFileSync(p('test-ca.crt'))]));
  openssl('pkcs12', '-export', '-in', p('broker.crt'), '-inkey', p('broker.key'), '-certfile', p('test-ca.crt'), '-out', p('broker.p12'), '-passout', 'pass:changeit');
  return {
    dir,
    caCert: p('test-ca.crt'),
    brokerPem: p('broker.pem'),
    brokerP12: p('broker.p12'),
    brokerKey: p('broker.key'),
    brokerCert: p('broker.crt'),
    clientKey: p('client.key'),
    clientCert: p('client.crt'),
    untrustedKey: p('untrusted.key'),
    untrustedCert: p('untrusted.crt'),
  };
}
