/**
 * `sluice connect-distributed worker.properties`: Kafka's connect-distributed.sh. Thin: reads
 * the properties file and runs a DistributedWorker from @sluice/connect until SIGINT/SIGTERM.
 */
import { DistributedWorker } from '@sluice/connect';
import { loadPropertiesFile } from './tool/properties.js';
import { runUntilSignalled } from './connect-standalone.js';

const HELP = `usage: sluice connect-distributed [-h] worker.properties

Runs a Kafka Connect worker in distributed mode: workers with the same group.id form a group
(protocol type "connect"), keep connector configs, statuses and source offsets in the compacted
topics config.storage.topic, status.storage.topic and offset.storage.topic (Kafka Connect's
record formats), and share the connectors; REST writes sent to any worker reach the leader.

Required: bootstrap.servers, group.id, config.storage.topic, offset.storage.topic,
status.storage.topic, key.converter, value.converter. Also: *.storage.replication.factor
(default 3), offset.storage.partitions (25), status.storage.partitions (5), listeners,
rest.advertised.host.name/port, session.timeout.ms, heartbeat.interval.ms, plugin.path.

  -h, --help    this help`;

export async function runConnectDistributed(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  if (args.length !== 1 || args[0].startsWith('-')) {
    console.error(`sluice connect-distributed: exactly one worker properties file is required\n\n${HELP}`);
    return 2;
  }
  let worker: DistributedWorker;
  try {
    const workerProps = Object.fromEntries(await loadPropertiesFile(args[0], 'worker.properties'));
    worker = await DistributedWorker.start({ workerProps, log: (line) => console.error(line) });
  } catch (err) {
    console.error(`sluice connect-distributed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return runUntilSignalled(worker, 'distributed');
}
