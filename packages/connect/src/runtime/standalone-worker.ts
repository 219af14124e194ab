/**
 * `connect-standalone`: one worker process with its REST server, the offset file, and the
 * connectors given as properties files.
 */
import type { FastifyInstance } from 'fastify';
import { restAuthenticator } from '../rest/basic-auth.js';
import { createRestServer } from '../rest/server.js';
import { StandaloneHerder } from './herder.js';
import { OffsetStore } from './offset-store.js';
import { Plugins } from './plugins.js';
import { parseWorkerConfig, restServerTls, type WorkerConfig } from './worker-config.js';

export interface StandaloneWorkerOptions {
  workerProps: Record<string, string>;
  connectors?: Array<Record<string, string>>;
  log?: (line: string) => void;
  /** Where KAFKA_OPTS is read from (a JAAS file for BasicAuthSecurityRestExtension); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export class StandaloneWorker {
  private constructor(readonly config: WorkerConfig, readonly herder: StandaloneHerder, private readonly rest: FastifyInstance, readonly url: string) {}

  static async start(options: StandaloneWorkerOptions): Promise<StandaloneWorker> {
    const log = options.log ?? ((line: string) => console.error(line));
    const config = parseWorkerConfig(options.workerProps);
    if (!config.offsetFile) throw new Error('offset.storage.file.filename must be set for a standalone worker');
    const auth = restAuthenticator(options.workerProps, options.env ?? process.env);
    const plugins = new Plugins();
    if (config.pluginPath.length) await plugins.loadPluginPath(config.pluginPath);
    const herder = new StandaloneHerder(config, plugins, new OffsetStore(config.offsetFile), log);
    const rest = await createRestServer(herder, log, restServerTls(config), auth);
    const address = await rest.listen({ host: config.restHost || '0.0.0.0', port: config.restPort });
    const port = Number(new URL(address).port);
    const url = `${config.restScheme}://${config.restHost && config.restHost !== '0.0.0.0' ? config.restHost : 'localhost'}:${port}`;
    // With rest.port/listeners port 0 the real port is only known now.
    const effective = config.restPort === 0 ? { ...config, restPort: port, advertisedUrl: `${new URL(config.advertisedUrl).protocol}//${new URL(url).host}/` } : config;
    herder.workerId = new URL(effective.advertisedUrl).host;
    const worker = new StandaloneWorker(effective, herder, rest, url);
    try {
      for (const props of options.connectors ?? []) {
        if (!props.name) throw new Error('a connector properties file has no name=…');
        await herder.putConnectorConfig(props.name, props, false);
      }
    } catch (err) {
      await worker.close();
      throw err;
    }
    return worker;
  }

  async close(): Promise<void> {
    await this.rest.close();
    await this.herder.close();
  }
}
