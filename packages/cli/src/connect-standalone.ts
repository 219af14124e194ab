/**
 * `sluice connect-standalone worker.properties [connector.properties …]`: Kafka's
 * connect-standalone.sh. Thin on purpose: reads the properties files and runs a
 * StandaloneWorker from @sluice/connect until SIGINT/SIGTERM.
 */
import { StandaloneWorker } from '@sluice/connect';
import { loadPropertiesFile } from './tool/properties.js';
import { ToolError } from './tool/errors.js';

const HELP = `usage: sluice connect-standalone [-h] worker.properties [connector1.properties connector2.properties ...]

Runs a Kafka Connect worker in standalone mode: its REST API (Kafka Connect's paths and JSON)
on listeners= (default http://:8083), source offsets in offset.storage.file.filename, and the
connectors given as properties files (name=, connector.class=, tasks.max=, ...).

Worker settings use Kafka Connect's names: bootstrap.servers, key.converter, value.converter,
header.converter, offset.storage.file.filename, offset.flush.interval.ms, listeners (or
rest.port/rest.host.name), rest.advertised.host.name/port, plugin.path.

  -h, --help    this help`;

export async function runConnectStandalone(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown) {
    console.error(`sluice connect-standalone: unknown option ${unknown}\n\n${HELP}`);
    return 2;
  }
  if (args.length < 1) {
    console.error(`sluice connect-standalone: a worker properties file is required\n\n${HELP}`);
    return 2;
  }
  let worker: StandaloneWorker;
  try {
    const workerProps = Object.fromEntries(await loadPropertiesFile(args[0], 'worker.properties'));
    const connectors = [];
    for (const file of args.slice(1)) connectors.push(Object.fromEntries(await loadPropertiesFile(file, 'connector properties')));
    worker = await StandaloneWorker.start({ workerProps, connectors, log: (line) => console.error(line) });
  } catch (err) {
    console.error(`sluice connect-standalone: ${err instanceof ToolError || err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return runUntilSignalled(worker, 'standalone');
}

/** Runs a started worker until SIGINT or SIGTERM, then closes it (exit code 0). */
export async function runUntilSignalled(worker: { url: string; close(): Promise<void> }, mode: 'standalone' | 'distributed'): Promise<number> {
  console.error(`Kafka Connect ${mode} worker started; REST API at ${worker.url}`);
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  console.error('Kafka Connect stopping');
  // As Kafka's herder stop, bounded: a part that does not stop in time is reported, and the
  // process ends anyway rather than hang a service manager's stop.
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([worker.close().then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SHUTDOWN_DEADLINE_MS)))]);
  clearTimeout(timer);
  if (!stopped) {
    console.error(`Kafka Connect did not stop within ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting without waiting further`);
    process.exit(0);
  }
  return 0;
}

/** How long a signalled worker may take to stop its tasks, leave its group and close its clients. */
const SHUTDOWN_DEADLINE_MS = 30_000;
