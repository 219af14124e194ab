/** `connect-distributed`: a worker that joins its Connect group and serves the REST API. */
import type { FastifyInstance } from 'fastify';
import { createRestServer } from '../rest/server.js';
import { DistributedHerder, distributedSettings } from './distributed/distributed-herder.js';
import { Plugins } from './plugins.js';
import { parseWorkerConfig, type WorkerConfig } from './worker-config.js';

export class DistributedWorker {
  private constructor(readonly config: WorkerConfig, readonly herder: DistributedHerder, private readonly rest: FastifyInstance, readonly url: string) {}

  static async start(options: { workerProps: Record<string, string>; log?: (line: string) => void }): Promise<DistributedWorker> {
    const log = options.log ?? ((line: string) => console.error(line));
    let config = parseWorkerConfig(options.workerProps);
    const settings = distributedSettings(options.workerProps);
    const plugins = new Plugins();
    if (config.pluginPath.length) await plugins.loadPluginPath(config.pluginPath);
    // The REST server listens first: the URL goes into the group metadata for forwarding.
    let herder: DistributedHerder | null = null;
    const rest = await createRestServer(new Proxy({} as DistributedHerder, {
      get: (_t, prop) => {
        if (!herder) throw new Error('worker starting');
        const v = (herder as unknown as Record<string | symbol, unknown>)[prop];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(herder) : v;
      },
    }), log);
    const address = await rest.listen({ host: config.restHost || '0.0.0.0', port: config.restPort });
    const port = Number(new URL(address).port);
    const host = config.restHost && config.restHost !== '0.0.0.0' ? config.restHost : 'localhost';
    if (config.restPort === 0) config = { ...config, restPort: port, advertisedUrl: `http://${new URL(config.advertisedUrl).hostname}:${port}/` };
    herder = new DistributedHerder(config, settings, plugins, log);
    herder.workerId = new URL(config.advertisedUrl).host;
    try {
      await herder.start();
    } catch (err) {
      await rest.close();
      throw err;
    }
    return new DistributedWorker(config, herder, rest, `http://${host}:${port}`);
  }

  async close(): Promise<void> {
    await this.rest.close();
    await this.herder.close();
  }
}
