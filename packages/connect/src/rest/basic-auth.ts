/**
 * Kafka Connect's BasicAuthSecurityRestExtension: with `rest.extension.classes` naming it, every
 * REST request needs HTTP Basic credentials listed by the `KafkaConnect` entry of the JAAS file —
 * its PropertyFileLoginModule's `file` of `user: password` lines. The JAAS file is found as Kafka's
 * scripts pass it, `-Djava.security.auth.login.config=<path>` in KAFKA_OPTS, so an existing setup
 * works unchanged.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseJaasFile } from '@sluice/client';
import { ConfigException } from '../api/config-def.js';

export const BASIC_AUTH_EXTENSION = 'org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension';
const PROPERTY_FILE_LOGIN_MODULE = 'org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule';

export interface RestAuthenticator {
  /** True when the Authorization header carries listed credentials. */
  authenticate(authorization: string | undefined): boolean;
}

/** `user: password` or `user=password` lines of a Java properties file (comments with # or !). */
function credentialsFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigException('rest.extension.classes', `BasicAuthSecurityRestExtension: the credentials file ${path}: ${(err as Error).message}`);
  }
  const users = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) users.set(m[1], m[2]);
  }
  return users;
}

/** The authenticator the worker's settings ask for, or null when no REST extension is configured. */
export function restAuthenticator(raw: Record<string, string>, env: NodeJS.ProcessEnv): RestAuthenticator | null {
  const classes = (raw['rest.extension.classes'] ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  if (classes.length === 0) return null;
  for (const c of classes) if (c !== BASIC_AUTH_EXTENSION) throw new ConfigException('rest.extension.classes', `REST extension ${c} is not available; the available one is ${BASIC_AUTH_EXTENSION}`);
  const jaasPath = /-Djava\.security\.auth\.login\.config=("([^"]*)"|(\S+))/.exec(env.KAFKA_OPTS ?? '');
  const path = jaasPath?.[2] ?? jaasPath?.[3];
  if (!path) throw new ConfigException('rest.extension.classes', 'BasicAuthSecurityRestExtension needs a JAAS file with a KafkaConnect entry: set KAFKA_OPTS=-Djava.security.auth.login.config=<path>');
  let entry;
  try {
    entry = parseJaasFile(readFileSync(path, 'utf8')).get('KafkaConnect');
  } catch (err) {
    throw new ConfigException('rest.extension.classes', `JAAS file ${path}: ${(err as Error).message}`);
  }
  const module = entry?.find((m) => m.loginModule === PROPERTY_FILE_LOGIN_MODULE || m.loginModule.endsWith('.PropertyFileLoginModule'));
  const file = module?.options.get('file');
  if (!file) throw new ConfigException('rest.extension.classes', `JAAS file ${path}: needs a KafkaConnect entry with ${PROPERTY_FILE_LOGIN_MODULE} required file="<credentials file>"`);
  const users = credentialsFile(file);
  return {
    authenticate(authorization) {
      const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
      if (!m) return false;
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const expected = users.get(decoded.slice(0, colon));
      if (expected === undefined) return false;
      const given = Buffer.from(decoded.slice(colon + 1));
      const want = Buffer.from(expected);
      return given.length === want.length && timingSafeEqual(given, want);
    },
  };
}
