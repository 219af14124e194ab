/** `connect-distributed`: a worker that joins its Connect group and serves the REST API. */
import type { FastifyInstance } from 'fastify';
import { restAuthenticator } from '../rest/basic-auth.js';
import { createRestServer } from '../rest/server.js';
import { DistributedHerder, distributedSettings } from './distributed/distributed-herder.js';
import { Plugins } from './plugins.js';
import { parseWorkerConfig, restServerTls, type WorkerConfig } from './worker-config.js';

export class DistributedWorker {
  private constructor(readonly config: WorkerConfig, readonly herder: DistributedHerder, private readonly rest: FastifyInstance, readonly url: string) {}

  /** env: where KAFKA_OPTS is read from (a JAAS file for BasicAuthSecurityRestExtension); process.env by default. */
  static async start(options: { workerProps: Record<string, string>; log?: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<DistributedWorker> {
    const log = options.log ?? ((line: string) => console.error(line));
    let config = parseWorkerConfig(options.workerProps);
    const settings = distributedSettings(options.workerProps);
    const auth = restAuthenticator(options.workerProps, options.env ?? process.env);
    const plugins = new Plugins();
    if (config.pluginPath.length) await plugins.loadPluginPath(config.pluginPath);
    const herder = new DistributedHerder(config, settings, plugins, log);
    const rest = await createRestServer(herder, log, restServerTls(config), auth);
    const address = await rest.listen({ host: config.restHost || '0.0.0.0', port: config.restPort });
    const port = Number(new URL(address).port);
    const host = config.restHost && config.restHost !== '0.0.0.0' ? config.restHost : 'localhost';
    // With port 0 the real port is only known now; it goes into the group metadata for forwarding.
    if (config.restPort === 0) config = { ...config, restPort: port, advertisedUrl: `${new URL(config.advertisedUrl).protocol}//${new URL(config.advertisedUrl).hostname}:${port}/` };
    herder.advertise(config.advertisedUrl);
    try {
      await herder.start();
    } catch (err) {
      await rest.close();
      throw err;
    }
    return new DistributedWorker(config, herder, rest, `${config.restScheme}://${host}:${port}`);
  }

  async close(): Promise<void> {
    await this.rest.close();
    await this.herder.close();
  }
}
