/**
 * Kafka's client security properties from --command-config and the tools' property files, as
 * @sluice/client connection options (the mapping itself is the client's
 * `securityFromProperties`); a bad value is a usage error naming the property.
 */
import { ClientConfigError, SECURITY_PROPERTY_KEYS, securityFromProperties, type SecurityOptions } from '@sluice/client';
import { UsageError } from './errors.js';
import type { Properties } from './properties.js';

export const SECURITY_KEYS: ReadonlySet<string> = SECURITY_PROPERTY_KEYS;

export function securityOptions(props: Properties): SecurityOptions {
  try {
    return securityFromProperties(props);
  } catch (err) {
    if (err instanceof ClientConfigError) throw new UsageError(err.message);
    throw err;
  }
}
