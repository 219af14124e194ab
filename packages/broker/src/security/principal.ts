/** Who a connection is, as Kafka names it (KafkaPrincipal): a type ("User") and a name. */
export interface KafkaPrincipal {
  readonly principalType: string;
  readonly name: string;
}

/** The principal of a connection that has not authenticated (PLAINTEXT, or TLS without a client certificate). */
export const ANONYMOUS: KafkaPrincipal = Object.freeze({ principalType: 'User', name: 'ANONYMOUS' });

/** "User:alice", the form ACLs, super.users and logs use. */
export function principalToString(principal: KafkaPrincipal): string {
  return `${principal.principalType}:${principal.name}`;
}

/** Parses "User:alice"; the type is what precedes the first colon. */
export function parsePrincipal(text: string): KafkaPrincipal {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error(`invalid principal "${text}": expected Type:name, e.g. User:alice`);
  return { principalType: text.slice(0, colon), name: text.slice(colon + 1) };
}
