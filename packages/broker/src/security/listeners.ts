/**
 * Listeners as Kafka configures them: `listeners` (NAME://host:port, several), each listener's
 * security protocol from `listener.security.protocol.map`, `advertised.listeners`, and the
 * listener other brokers use (`inter.broker.listener.name`, else the one whose protocol is
 * `security.inter.broker.protocol`).
 */
import { hostname } from 'node:os';
import { ConfigError, parseListener, type BrokerConfig, type Listener } from '../config/broker-config.js';
import type { ListenerEndpoint } from '../metadata/metadata-store.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export interface ListenerSpec extends Listener {
  securityProtocol: SecurityProtocol;
}

export const usesTls = (p: SecurityProtocol): boolean => p === 'SSL' || p === 'SASL_SSL';
export const usesSasl = (p: SecurityProtocol): boolean => p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';

/** listener.security.protocol.map as name → protocol; a listener named after a protocol uses it. */
export function securityProtocolMap(config: BrokerConfig): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  const problems: string[] = [];
  for (const entry of (config.string('listener.security.protocol.map') ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [name, protocol] = entry.split(':').map((s) => s.trim().toUpperCase());
    if (!name || !PROTOCOLS.includes(protocol as SecurityProtocol)) problems.push(`listener.security.protocol.map: "${entry}" is not NAME:PROTOCOL with PROTOCOL one of ${PROTOCOLS.join(', ')}`);
    else map.set(name, protocol as SecurityProtocol);
  }
  if (problems.length) throw new ConfigError(problems);
  return map;
}

/**
 * The listeners to open. `host`/`port` (startBroker options, `sluice start --port`) override the
 * primary listener's: the one named PLAINTEXT, else the first.
 */
export function configuredListeners(config: BrokerConfig, override: { host?: string; port?: number } = {}): ListenerSpec[] {
  const map = securityProtocolMap(config);
  const controllerNames = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const parsed = config.list('listeners').map(parseListener).filter((l) => !controllerNames.has(l.name));
  if (parsed.length === 0) parsed.push({ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 });
  const names = new Set<string>();
  const problems: string[] = [];
  const specs = parsed.map((l): ListenerSpec => {
    if (names.has(l.name)) problems.push(`listeners: the listener name ${l.name} is used twice`);
    names.add(l.name);
    const securityProtocol = map.get(l.name) ?? (PROTOCOLS.includes(l.name as SecurityProtocol) ? (l.name as SecurityProtocol) : null);
    if (securityProtocol === null) problems.push(`listeners: ${l.name} has no security protocol in listener.security.protocol.map`);
    return { ...l, securityProtocol: securityProtocol ?? 'PLAINTEXT' };
  });
  if (problems.length) throw new ConfigError(problems);
  const primary = specs.find((l) => l.name === 'PLAINTEXT') ?? specs[0];
  if (override.host !== undefined) primary.host = override.host;
  if (override.port !== undefined) primary.port = override.port;
  // Two listeners asking for port 0 on one host are fine; the same fixed port twice is not.
  const seen = new Set<string>();
  for (const l of specs) {
    const key = `${l.host}:${l.port}`;
    if (l.port !== 0 && seen.has(key)) throw new ConfigError([`listeners: ${l.name} uses ${key} like another listener`]);
    seen.add(key);
  }
  // Primary first, so RunningBroker.port stays the single-port default's.
  return [primary, ...specs.filter((l) => l !== primary)];
}

/** The listener other brokers connect to. */
export function interBrokerListener(config: BrokerConfig, listeners: readonly ListenerSpec[]): ListenerSpec {
  const named = config.string('inter.broker.listener.name');
  if (named) {
    const l = listeners.find((x) => x.name === named.toUpperCase());
    if (!l) throw new ConfigError([`inter.broker.listener.name: ${named} is not one of the listeners (${listeners.map((x) => x.name).join(', ')})`]);
    return l;
  }
  if (config.isStaticallySet('security.inter.broker.protocol')) {
    const protocol = config.string('security.inter.broker.protocol');
    const l = listeners.find((x) => x.securityProtocol === protocol);
    if (!l) throw new ConfigError([`security.inter.broker.protocol: no listener uses ${protocol}`]);
    return l;
  }
  return listeners.find((l) => l.name === 'PLAINTEXT') ?? listeners[0];
}

/** What clients of `listener` are told (advertised.listeners, else the bound address; port 0 there means the bound port). */
export function advertisedEndpointOf(config: BrokerConfig, listener: ListenerSpec, boundPort: number): ListenerEndpoint {
  const advertised = config.list('advertised.listeners').map(parseListener).find((l) => l.name === listener.name);
  if (advertised && advertised.host !== '') {
    return { name: listener.name, host: advertised.host, port: advertised.port === 0 ? boundPort : advertised.port, securityProtocol: listener.securityProtocol };
  }
  const host = listener.host === '' || listener.host === '0.0.0.0' || listener.host === '::' ? hostname() : listener.host;
  return { name: listener.name, host, port: boundPort, securityProtocol: listener.securityProtocol };
}
