/**
 * `sluice start`: a broker in the foreground, logging to stderr; SIGTERM/SIGINT stop it cleanly
 * (in-flight requests finished, logs flushed, clean-shutdown marker written).
 */
import { parseArgs } from 'node:util';
import { ConfigError, startBroker, type StartBrokerOptions } from '@sluice/broker';

const HELP = `usage: sluice start [options]

  --host <host>           listen host (default 127.0.0.1; localhost = 127.0.0.1 and ::1)
  --port <port>           listen port (default 9092; 0 picks a free port)
  --data-dir <dir>        data directory (default ./data)
  --node-id <id>          this broker's node id (node.id; default 1)
  --etcd <urls>           join a cluster whose metadata lives in etcd (etcd.endpoints,
                          comma-separated, e.g. http://127.0.0.1:2379); without it the broker
                          is a cluster of one with its metadata in the data directory
  --metrics-port <port>   serve Prometheus /metrics and Burrow-style consumer lag
                          (/v3/kafka/...) over HTTP on this port (metrics.port; 0 picks
                          a free port; default off)
  --metrics-host <host>   address of the metrics endpoint (metrics.bind.address;
                          default: the listener's host)
  --log-format <fmt>      text (default) or json: one JSON object per line with the
                          fields time, level, logger, node_id, msg
  --config <file>         a Kafka-style server.properties
  --override key=value    set any broker config by its Kafka name (repeatable)
  -h, --help              this help`;

export async function runStart(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'node-id': { type: 'string' },
        etcd: { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'log-format': { type: 'string' },
        config: { type: 'string' },
        override: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    console.error(`sluice start: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const options: StartBrokerOptions = { logSink: (line) => process.stderr.write(line + '\n') };
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) {
      console.error(`sluice start: --port must be a number from 0 to 65535, not "${values.port}"`);
      return 2;
    }
    options.port = Number(values.port);
  }
  if (values['data-dir'] !== undefined) options.dataDir = values['data-dir'];
  if (values['node-id'] !== undefined) {
    if (!/^\d+$/.test(values['node-id'])) {
      console.error(`sluice start: --node-id must be a non-negative integer, not "${values['node-id']}"`);
      return 2;
    }
    options.nodeId = Number(values['node-id']);
  }
  if (values.etcd !== undefined) options['etcd.endpoints'] = values.etcd;
  if (values['metrics-port'] !== undefined) {
    if (!/^\d+$/.test(values['metrics-port']) || Number(values['metrics-port']) > 65535) {
      console.error(`sluice start: --metrics-port must be a number from 0 to 65535, not "${values['metrics-port']}"`);
      return 2;
    }
    options['metrics.port'] = Number(values['metrics-port']);
  }
  if (values['metrics-host'] !== undefined) options['metrics.bind.address'] = values['metrics-host'];
  if (values['log-format'] !== undefined) {
    if (values['log-format'] !== 'text' && values['log-format'] !== 'json') {
      console.error(`sluice start: --log-format is text or json, not "${values['log-format']}"`);
      return 2;
    }
    options.logFormat = values['log-format'];
  }
  if (values.config !== undefined) options.configFile = values.config;
  for (const o of values.override ?? []) {
    const eq = o.indexOf('=');
    if (eq <= 0) {
      console.error(`sluice start: --override takes key=value, not "${o}"`);
      return 2;
    }
    options[o.slice(0, eq).trim()] = o.slice(eq + 1);
  }
  // Handlers go in before the broker starts: a SIGTERM that arrives as soon as "listening" is
  // logged (or during start-up) must still give a clean shutdown. After the first signal they are
  // removed, so a second Ctrl-C kills a shutdown that hangs.
  let signalled = false;
  let wake: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`received ${signal}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    signalled = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let broker;
  try {
    broker = await startBroker(options);
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (err instanceof ConfigError) {
      console.error(`sluice start: invalid configuration:\n  ${err.problems.join('\n  ')}`);
      return 2;
    }
    throw err;
  }
  if (!signalled) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  await broker.stop();
  return 0;
}
