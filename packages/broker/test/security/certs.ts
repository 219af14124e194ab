/** Test certificates (made by @sluice/test-peers) and tokens for the broker's security tests. */
export { makeTestCertificates as makeCerts, type TestCertificates as TestCerts } from '@sluice/test-peers';

/** An unsecured JWS (alg none), as Kafka's default OAUTHBEARER handler accepts. */
export function unsecuredJwt(sub: string, expSeconds: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ sub, iat: Math.floor(Date.now() / 1000), exp: expSeconds })}.`;
}
