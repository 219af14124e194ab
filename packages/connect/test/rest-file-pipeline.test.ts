/**
 * The notes' scenario through the REST API, curl-shaped: a FileStreamSource and a
 * FileStreamSink copy a file through a topic; then status, tasks, pause/resume, restart,
 * offsets (stop, read, alter), delete, and the error bodies Kafka Connect gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLines, rest, startEnv, waitFor } from './helpers.js';

test('FileStreamSource -> topic -> FileStreamSink through the REST API, with pause/resume/restart/offsets/delete', { timeout: 120_000 }, async (t) => {
  const env = await startEnv(t);
  const input = join(env.dir, 'input.txt');
  const output = join(env.dir, 'output.txt');
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 7)}`);
  await writeFile(input, lines.join('\n') + '\n');
  await env.admin.createTopics([{ topic: 'connect-test', numPartitions: 1, replicationFactor: 1 }]);

  const root = await rest(env.url, 'GET', '/');
  assert.equal(root.status, 200);
  assert.match((root.body as { version: string }).version, /^\d+\.\d+\.\d+$/);
  assert.equal(typeof (root.body as { kafka_cluster_id: string }).kafka_cluster_id, 'string');

  const plugins = await rest(env.url, 'GET', '/connector-plugins');
  assert.ok((plugins.body as Array<{ class: string; type: string }>).some((p) => p.class === 'org.apache.kafka.connect.file.FileStreamSourceConnector' && p.type === 'source'));

  const created = await rest(env.url, 'POST', '/connectors', {
    name: 'local-file-source',
    config: { 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic: 'connect-test' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body, {
    name: 'local-file-source',
    config: { 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic: 'connect-test', name: 'local-file-source' },
    tasks: [{ connector: 'local-file-source', task: 0 }],
    type: 'source',
  });
  const sink = await rest(env.url, 'POST', '/connectors', {
    name: 'local-file-sink',
    config: { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector', 'tasks.max': 1, file: output, topics: 'connect-test' },
  });
  assert.equal(sink.status, 201, JSON.stringify(sink.body));

  await waitFor(async () => (await fileLines(output)).length >= lines.length, 'the sink to write every line');
  assert.deepEqual(await fileLines(output), lines);

  assert.deepEqual((await rest(env.url, 'GET', '/connectors')).body, ['local-file-sink', 'local-file-source']);
  const status = await rest(env.url, 'GET', '/connectors/local-file-source/status');
  assert.equal(status.status, 200);
  const workerId = (status.body as { connector: { worker_id: string } }).connector.worker_id;
  assert.match(workerId, /^[\w.-]+:\d+$/);
  assert.deepEqual(status.body, { name: 'local-file-source', connector: { state: 'RUNNING', worker_id: workerId }, tasks: [{ id: 0, state: 'RUNNING', worker_id: workerId }], type: 'source' });
  const expanded = (await rest(env.url, 'GET', '/connectors?expand=status&expand=info')).body as Record<string, { status: { type: string }; info: { type: string } }>;
  assert.equal(expanded['local-file-sink'].status.type, 'sink');
  assert.equal(expanded['local-file-sink'].info.type, 'sink');
  const tasks = (await rest(env.url, 'GET', '/connectors/local-file-sink/tasks')).body as Array<{ id: { connector: string; task: number }; config: Record<string, string> }>;
  assert.deepEqual(tasks[0].id, { connector: 'local-file-sink', task: 0 });
  assert.equal(tasks[0].config.topics, 'connect-test');
  assert.equal(tasks[0].config['task.class'], 'FileStreamSinkTask');
  assert.deepEqual((await rest(env.url, 'GET', '/connectors/local-file-sink/tasks/0/status')).body, { id: 0, state: 'RUNNING', worker_id: workerId });

  // Pause: appended lines wait; resume: they arrive.
  assert.equal((await rest(env.url, 'PUT', '/connectors/local-file-source/pause')).status, 202);
  await waitFor(async () => ((await rest(env.url, 'GET', '/connectors/local-file-source/status')).body as { tasks: Array<{ state: string }> }).tasks[0].state === 'PAUSED', 'the task to pause');
  await appendFile(input, 'after pause\n');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await fileLines(output)).length, lines.length, 'a paused source must not read');
  assert.equal((await rest(env.url, 'PUT', '/connectors/local-file-source/resume')).status, 202);
  await waitFor(async () => (await fileLines(output)).at(-1) === 'after pause', 'the line appended while paused');

  // Restart the connector and its tasks: 202 with RESTARTING, then RUNNING; no line is read twice.
  const restart = await rest(env.url, 'POST', '/connectors/local-file-source/restart?includeTasks=true');
  assert.equal(restart.status, 202);
  assert.equal((restart.body as { connector: { state: string } }).connector.state, 'RESTARTING');
  assert.equal((restart.body as { tasks: Array<{ state: string }> }).tasks[0].state, 'RESTARTING');
  assert.equal((await rest(env.url, 'POST', '/connectors/local-file-source/restart')).status, 204);
  assert.equal((await rest(env.url, 'POST', '/connectors/local-file-source/tasks/0/restart')).status, 204);
  await appendFile(input, 'after restart\n');
  await waitFor(async () => (await fileLines(output)).at(-1) === 'after restart', 'the line appended after the restarts');
  assert.deepEqual(await fileLines(output), [...lines, 'after pause', 'after restart'], 'restarts resume from the stored position: no duplicates');

  // Offsets: source offsets as Kafka stores them, sink offsets from the connect-<name> group.
  await waitFor(async () => {
    const o = (await rest(env.url, 'GET', '/connectors/local-file-sink/offsets')).body as { offsets: Array<{ offset: { kafka_offset: number } }> };
    return o.offsets.length === 1 && o.offsets[0].offset.kafka_offset === lines.length + 2;
  }, 'the sink offsets to be committed');
  const size = (await readFile(input)).length;
  await waitFor(async () => {
    const o = (await rest(env.url, 'GET', '/connectors/local-file-source/offsets')).body as { offsets: Array<{ partition: unknown; offset: { position: number } }> };
    return o.offsets.length === 1 && o.offsets[0].offset.position === size;
  }, 'the source offset to reach the end of the file');
  assert.deepEqual((await rest(env.url, 'GET', '/connectors/local-file-source/offsets')).body, { offsets: [{ partition: { filename: input }, offset: { position: size } }] });

  const notStopped = await rest(env.url, 'DELETE', '/connectors/local-file-source/offsets');
  assert.equal(notStopped.status, 400);
  assert.match((notStopped.body as { message: string }).message, /STOPPED state/);
  assert.equal((await rest(env.url, 'PUT', '/connectors/local-file-source/stop')).status, 202);
  assert.deepEqual((await rest(env.url, 'GET', '/connectors/local-file-source/status')).body, { name: 'local-file-source', connector: { state: 'STOPPED', worker_id: workerId }, tasks: [], type: 'source' });
  // Offsets are Java longs: one beyond 2^53 goes through PATCH, the store and GET digit for digit.
  const big = '9007199254740993';
  const bigPatch = await fetch(`${env.url}/connectors/local-file-source/offsets`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: `{"offsets":[{"partition":{"filename":"elsewhere"},"offset":{"position":${big}}}]}` });
  assert.equal(bigPatch.status, 200, await bigPatch.text());
  const bigRead = await (await fetch(`${env.url}/connectors/local-file-source/offsets`)).text();
  assert.match(bigRead, new RegExp(`\\{"partition":\\{"filename":"elsewhere"\\},"offset":\\{"position":${big}\\}\\}`), bigRead);
  // Rewind the source to the first line of the "after" part: it is read once more.
  const patched = await rest(env.url, 'PATCH', '/connectors/local-file-source/offsets', { offsets: [{ partition: { filename: input }, offset: { position: size - 'after restart\n'.length } }] });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal((await rest(env.url, 'PUT', '/connectors/local-file-source/resume')).status, 202);
  await waitFor(async () => (await fileLines(output)).length === lines.length + 3, 'the rewound line');
  assert.equal((await fileLines(output)).at(-1), 'after restart');

  // Errors as Kafka Connect words them.
  assert.deepEqual(await rest(env.url, 'GET', '/connectors/nope/status'), { status: 404, body: { error_code: 404, message: 'Connector nope not found' } });
  const dup = await rest(env.url, 'POST', '/connectors', { name: 'local-file-sink', config: { 'connector.class': 'FileStreamSink', topics: 'connect-test' } });
  assert.deepEqual(dup, { status: 409, body: { error_code: 409, message: 'Connector local-file-sink already exists' } });
  const bad = await rest(env.url, 'POST', '/connectors', { name: 'bad', config: { 'connector.class': 'FileStreamSource', 'tasks.max': 'two' } });
  assert.equal(bad.status, 400);
  assert.equal((bad.body as { error_code: number }).error_code, 400);
  assert.match((bad.body as { message: string }).message, /contains the following 2 error\(s\):\ntasks.max: Invalid value two for configuration tasks.max: Not a number of type INT\ntopic: Missing required configuration "topic" which has no default value\./);

  // Delete: gone, and its tasks stop.
  assert.equal((await rest(env.url, 'DELETE', '/connectors/local-file-source')).status, 204);
  assert.equal((await rest(env.url, 'DELETE', '/connectors/local-file-sink')).status, 204);
  assert.deepEqual((await rest(env.url, 'GET', '/connectors')).body, []);
  await appendFile(input, 'after delete\n');
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal((await fileLines(output)).at(-1), 'after restart');
});

test('config validation: the validate endpoint reports per-key errors for bad configs', { timeout: 60_000 }, async (t) => {
  const env = await startEnv(t);
  const v = await rest(env.url, 'PUT', '/connector-plugins/FileStreamSinkConnector/config/validate', {
    'connector.class': 'FileStreamSinkConnector',
    name: 'x',
    'tasks.max': '0',
    'errors.tolerance': 'some',
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
  });
  assert.equal(v.status, 200);
  const body = v.body as { name: string; error_count: number; groups: string[]; configs: Array<{ definition: { name: string; required: boolean }; value: { name: string; value: string | null; errors: string[] } }> };
  assert.equal(body.name, 'org.apache.kafka.connect.file.FileStreamSinkConnector');
  const errorsOf = (name: string) => body.configs.find((c) => c.value.name === name)?.value.errors;
  assert.deepEqual(errorsOf('tasks.max'), ['Invalid value 0 for configuration tasks.max: Value must be at least 1']);
  assert.deepEqual(errorsOf('errors.tolerance'), ['Invalid value some for configuration errors.tolerance: String must be one of: none, all']);
  assert.deepEqual(errorsOf('topics'), ['Must configure one of topics or topics.regex']);
  assert.deepEqual(errorsOf('transforms.route.regex'), ['Missing required configuration "transforms.route.regex" which has no default value.']);
  assert.equal(body.error_count, 6); // tasks.max, errors.tolerance, topics, topics.regex, route.regex, route.replacement
  assert.ok(body.groups.includes('Common') && body.groups.includes('Transforms: route') && body.groups.includes('Error Handling'));
  const missing = await rest(env.url, 'PUT', '/connector-plugins/NoSuchConnector/config/validate', {});
  assert.equal(missing.status, 404);
  assert.match((missing.body as { message: string }).message, /Failed to find any class that implements Connector and which name matches NoSuchConnector/);
  const unknownClass = await rest(env.url, 'POST', '/connectors', { name: 'u', config: { 'connector.class': 'com.example.Missing' } });
  assert.equal(unknownClass.status, 500);
});
