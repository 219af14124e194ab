/**
 * Kafka Connect's REST API on fastify: the same paths, status codes and JSON bodies, and errors
 * as `{"error_code": <status>, "message": "…"}`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type ServerOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigDef } from '../api/config-def.js';
import { RestError, type StandaloneHerder, type TargetState } from '../runtime/herder.js';
import type { RestAuthenticator } from './basic-auth.js';
import { CONNECT_VERSION } from '../version.js';
import { parseExactJson, stringifyExactJson } from '../data/exact-json.js';

type Params = { name: string; task: string; plugin: string };
type Query = { expand?: string | string[]; includeTasks?: string; onlyFailed?: string; forward?: string };

/** Connect accepts `"halt.on.error": false` in configs: non-string scalars become their text. */
function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RestError(400, `${what} must be a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') throw new RestError(400, `Cannot deserialize value of type \`java.lang.String\` from Object value for key "${k}"`);
    out[k] = String(v);
  }
  return out;
}

function bool(v: string | undefined): boolean {
  return v !== undefined && v.toLowerCase() === 'true';
}

function taskId(raw: string, name: string): number {
  if (!/^\d+$/.test(raw)) throw new RestError(404, `Task not found: ${name}-${raw}`);
  return Number(raw);
}

/** What the REST layer needs of a herder; distributed herders also say where to forward writes. */
export type RestHerder = Pick<
  StandaloneHerder,
  | 'plugins' | 'clusterId' | 'connectorNames' | 'status' | 'info' | 'putConnectorConfig' | 'taskConfigs' | 'taskStatus' | 'topics' | 'resetTopics'
  | 'restart' | 'restartTask' | 'pause' | 'resume' | 'stop' | 'deleteConnector' | 'getOffsets' | 'resetOffsets' | 'alterOffsets' | 'validate'
> & {
  forwardTo?(): string | null;
  /** Distributed: no generation joined yet, so there is no leader to take a write. */
  awaitingLeader?(): boolean;
  ownerUrl?(name: string, task?: number): string | null;
  ownsLocally?(name: string, task?: number): boolean;
};

/** One request to another worker (a forwarded write), over http or https with the worker's REST TLS settings. */
function forwardRequest(target: URL, method: string, body: string | undefined, tls: ConnectionOptions | undefined, authorization: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json', ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}), ...(authorization ? { Authorization: authorization } : {}) };
    const options = { method, headers };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = target.protocol === 'https:' ? httpsRequest(target, { ...options, ...tls }, onResponse) : httpRequest(target, options, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

/** https: serve TLS with these options (an https listener); forwardTls: trust and identity for requests to other workers' https listeners. */
export interface RestServerTls {
  https?: ServerOptions;
  forwardTls?: ConnectionOptions;
}

export async function createRestServer(herder: RestHerder, log: (line: string) => void, tls: RestServerTls = {}, auth: RestAuthenticator | null = null): Promise<FastifyInstance> {
  // An https listener (listeners=https://…) serves the same routes; fastify types the two server kinds apart.
  const app = (tls.https ? Fastify({ logger: false, https: tls.https }) : Fastify({ logger: false })) as unknown as FastifyInstance;

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof RestError) return reply.status(err.status).send({ error_code: err.status, message: err.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log(`REST request failed: ${err.stack ?? err.message}`);
    return reply.status(status).send({ error_code: status, message: err.message });
  });
  // BasicAuthSecurityRestExtension: nothing is answered without listed credentials.
  if (auth) {
    app.addHook('onRequest', async (req, reply) => {
      if (auth.authenticate(req.headers.authorization)) return;
      return reply.status(401).header('WWW-Authenticate', 'Basic realm="KafkaConnect"').send({ error_code: 401, message: 'User cannot access the resource.' });
    });
  }
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error_code: 404, message: 'HTTP 404 Not Found' }));
  // Offsets are Java longs: answers write bigints as exact JSON numbers.
  app.setReplySerializer((payload) => stringifyExactJson(payload));
  // Kafka answers body-less PUTs (pause, resume, stop) with or without a JSON content type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, parseExactJson(text));
    } catch (err) {
      done(new RestError(400, `Unexpected character in JSON body: ${(err as Error).message}`), undefined);
    }
  });

  // Distributed mode: writes go to the leader, plain restarts to the worker running the connector,
  // as Kafka Connect forwards them; `forward=false` marks a forwarded request so it is not sent on.
  app.addHook('preHandler', async (req, reply) => {
    if (!herder.forwardTo || req.method === 'GET') return;
    const url = new URL(req.url, 'http://worker');
    if (url.searchParams.get('forward') === 'false' || url.pathname.startsWith('/connector-plugins')) return;
    if (herder.awaitingLeader?.()) {
      return reply.status(409).send({ error_code: 409, message: 'Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.' });
    }
    const restart = /^\/connectors\/([^/]+)\/(restart|tasks\/(\d+)\/restart)$/.exec(url.pathname);
    // KIP-745: a restart with includeTasks or onlyFailed is the leader's (a config-topic record).
    const planned = restart !== null && restart[2] === 'restart' && (bool(url.searchParams.get('includeTasks') ?? undefined) || bool(url.searchParams.get('onlyFailed') ?? undefined));
    let target: string | null;
    if (restart && !planned) {
      const name = decodeURIComponent(restart[1]);
      // A task restart goes to the worker running that task, a connector restart to its instance's.
      const task = restart[3] === undefined ? undefined : Number(restart[3]);
      if (herder.ownsLocally?.(name, task)) return;
      target = herder.ownerUrl?.(name, task) ?? null;
      if (!target) return;
    } else {
      target = herder.forwardTo();
    }
    if (!target) return;
    url.searchParams.set('forward', 'false');
    // The caller's credentials go along: the other worker checks them too.
    const res = await forwardRequest(new URL(url.pathname + url.search, target), req.method, req.body === undefined ? undefined : stringifyExactJson(req.body), tls.forwardTls, req.headers.authorization);
    const text = res.text;
    reply.status(res.status);
    if (text) reply.header('Content-Type', 'application/json');
    return reply.send(text || undefined);
  });

  app.get('/', async () => ({ version: CONNECT_VERSION, commit: 'sluice', kafka_cluster_id: await herder.clusterId() }));

  app.get('/connectors', async (req: FastifyRequest<{ Querystring: Query }>) => {
    const expand = ([] as string[]).concat(req.query.expand ?? []);
    const names = herder.connectorNames();
    if (!expand.length) return names;
    const out: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      out[name] = {};
      if (expand.includes('status')) out[name].status = herder.status(name);
      if (expand.includes('info')) out[name].info = herder.info(name);
    }
    return out;
  });

  app.post('/connectors', async (req: FastifyRequest<{ Body: unknown }>, reply: FastifyReply) => {
    const body = req.body as { name?: unknown; config?: unknown; initial_state?: unknown } | undefined;
    if (!body || typeof body !== 'object') throw new RestError(400, 'Request body must be a JSON object with "name" and "config"');
    const config = stringMap(body.config ?? {}, 'config');
    const name = typeof body.name === 'string' ? body.name.trim() : config.name;
    if (!name) throw new RestError(400, 'Connector name may not be empty');
    if (config.name !== undefined && config.name !== name) throw new RestError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`);
    config.name = name;
    let initial: TargetState = 'STARTED';
    if (body.initial_state !== undefined) {
      const s = String(body.initial_state).toUpperCase();
      if (s === 'RUNNING') initial = 'STARTED';
      else if (s === 'PAUSED' || s === 'STOPPED') initial = s;
      else throw new RestError(400, `Invalid initial state ${String(body.initial_state)}: must be RUNNING, PAUSED or STOPPED`);
    }
    const { info } = await herder.putConnectorConfig(name, config, false, initial);
    return reply.status(201).header('Location', `/connectors/${encodeURIComponent(name)}`).send(info);
  });

  app.get('/connectors/:name', async (req: FastifyRequest<{ Params: Params }>) => herder.info(req.params.name));
  app.get('/connectors/:name/config', async (req: FastifyRequest<{ Params: Params }>) => herder.info(req.params.name).config);

  app.put('/connectors/:name/config', async (req: FastifyRequest<{ Params: Params; Body: unknown }>, reply: FastifyReply) => {
    const { name } = req.params;
    const config = stringMap(req.body, 'config');
    if (config.name !== undefined && config.name !== name) throw new RestError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`);
    config.name = name;
    const { created, info } = await herder.putConnectorConfig(name, config, true);
    if (created) reply.header('Location', `/connectors/${encodeURIComponent(name)}`);
    return reply.status(created ? 201 : 200).send(info);
  });

  app.patch('/connectors/:name/config', async (req: FastifyRequest<{ Params: Params; Body: unknown }>) => {
    const { name } = req.params;
    const current = herder.info(name).config;
    const patch = req.body as Record<string, unknown> | null;
    if (!patch || typeof patch !== 'object') throw new RestError(400, 'config must be a JSON object');
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete current[k];
      else current[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    if (current.name !== name) throw new RestError(400, `Connector name configuration (${current.name}) doesn't match connector name in the URL (${name})`);
    return (await herder.putConnectorConfig(name, current, true)).info;
  });

  app.get('/connectors/:name/status', async (req: FastifyRequest<{ Params: Params }>) => herder.status(req.params.name));
  app.get('/connectors/:name/tasks', async (req: FastifyRequest<{ Params: Params }>) => herder.taskConfigs(req.params.name));
  app.get('/connectors/:name/tasks/:task/status', async (req: FastifyRequest<{ Params: Params }>) => herder.taskStatus(req.params.name, taskId(req.params.task, req.params.name)));
  app.get('/connectors/:name/topics', async (req: FastifyRequest<{ Params: Params }>) => herder.topics(req.params.name));
  app.put('/connectors/:name/topics/reset', async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    herder.resetTopics(req.params.name);
    return reply.status(202).send();
  });

  app.post('/connectors/:name/restart', async (req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
    const answer = await herder.restart(req.params.name, bool(req.query.includeTasks), bool(req.query.onlyFailed));
    return answer ? reply.status(202).send(answer) : reply.status(204).send();
  });
  app.post('/connectors/:name/tasks/:task/restart', async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    await herder.restartTask(req.params.name, taskId(req.params.task, req.params.name));
    return reply.status(204).send();
  });

  for (const action of ['pause', 'resume', 'stop'] as const) {
    app.put(`/connectors/:name/${action}`, async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      await herder[action](req.params.name);
      return reply.status(202).send();
    });
  }

  app.delete('/connectors/:name', async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    await herder.deleteConnector(req.params.name);
    return reply.status(204).send();
  });

  app.get('/connectors/:name/offsets', async (req: FastifyRequest<{ Params: Params }>) => herder.getOffsets(req.params.name));
  app.delete('/connectors/:name/offsets', async (req: FastifyRequest<{ Params: Params }>) => herder.resetOffsets(req.params.name));
  app.patch('/connectors/:name/offsets', async (req: FastifyRequest<{ Params: Params; Body: unknown }>) => herder.alterOffsets(req.params.name, req.body));

  app.get('/connector-plugins', async (req: FastifyRequest<{ Querystring: { connectorsOnly?: string } }>) => {
    void req;
    return herder.plugins.connectorPlugins().map((p) => ({ class: p.className, type: p.type, version: p.version }));
  });

  app.get('/connector-plugins/:plugin/config', async (req: FastifyRequest<{ Params: Params }>) => {
    const plugin = herder.plugins.connector(req.params.plugin);
    if (!plugin) throw new RestError(404, `Unknown plugin ${req.params.plugin}.`);
    // The connector's own keys, as Kafka answers this endpoint (the framework's are not listed).
    return [...new plugin.ctor().config().keys.values()].map((k, i) => ConfigDef.definitionJson(k, i + 1));
  });

  app.put('/connector-plugins/:plugin/config/validate', async (req: FastifyRequest<{ Params: Params; Body: unknown }>) => {
    const config = stringMap(req.body ?? {}, 'config');
    const plugin = herder.plugins.connector(req.params.plugin);
    if (config['connector.class'] !== undefined && plugin && herder.plugins.connector(config['connector.class']) !== plugin) {
      throw new RestError(400, `Connector class ${config['connector.class']} in the config does not match ${req.params.plugin} in the URL`);
    }
    return herder.validate(req.params.plugin, { 'connector.class': req.params.plugin, ...config });
  });

  return app;
}
