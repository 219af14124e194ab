/**
 * How this broker connects to the others (replica fetchers): over the inter-broker listener's
 * security protocol, with this broker's own credentials as Kafka takes them — TLS trust and
 * client certificate from the listener's ssl.* settings, the SASL mechanism from
 * `sasl.mechanism.inter.broker.protocol`, the username and password from the listener's JAAS
 * config (`username="…" password="…"` of the mechanism's login module).
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { parseJaasConfig, saslAuthenticator, type SaslAuthenticator } from '@sluice/client';
import { ConfigError, type BrokerConfig } from '../config/broker-config.js';
import { usesSasl, usesTls, type ListenerSpec } from './listeners.js';
import { listenerTls } from './tls.js';

export interface InterBrokerConnectionOptions {
  tls?: TlsOptions;
  sasl?: SaslAuthenticator;
}

export function interBrokerClientOptions(config: BrokerConfig, listener: ListenerSpec): InterBrokerConnectionOptions {
  const out: InterBrokerConnectionOptions = {};
  if (usesTls(listener.securityProtocol)) {
    const server = listenerTls(config, listener.name);
    const { pfx, passphrase, key, cert, ca } = server.options;
    // Brokers present their own certificate (for ssl.client.auth) and trust the listener's truststore.
    out.tls = {
      ...(pfx ? { pfx, passphrase } : { key, cert, passphrase }),
      ...(ca ? { ca } : {}),
      // Brokers' certificates name the advertised host; the listener may be on an address.
      checkServerIdentity: () => undefined,
    };
  }
  if (usesSasl(listener.securityProtocol)) {
    const mechanism = (config.string('sasl.mechanism.inter.broker.protocol') ?? 'GSSAPI').toUpperCase();
    if (mechanism === 'OAUTHBEARER' || mechanism === 'GSSAPI') {
      throw new ConfigError([`sasl.mechanism.inter.broker.protocol=${mechanism} is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`]);
    }
    const jaas = config.listenerValue(listener.name, 'sasl.jaas.config', mechanism);
    let username: string | undefined;
    let password: string | undefined;
    if (jaas) {
      for (const m of parseJaasConfig(jaas)) {
        username ??= m.options.get('username');
        password ??= m.options.get('password');
      }
    }
    if (username === undefined || password === undefined) {
      throw new ConfigError([`listener ${listener.name}: inter-broker SASL needs username="…" password="…" in listener.name.${listener.name.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`]);
    }
    out.sasl = saslAuthenticator({ mechanism: mechanism as 'PLAIN', username, password });
  }
  return out;
}

