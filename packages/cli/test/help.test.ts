import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operatorTools } from '../src/operator.js';
import { run } from './helpers.js';

test('every tool has --help, and every tool that reads has --json', async () => {
  const writesOnly = new Set(['console-producer']);
  for (const tool of operatorTools) {
    const r = await run(tool.name, ['--help']);
    assert.equal(r.code, 0, tool.name);
    assert.match(r.stdout, new RegExp(`^usage: sluice ${tool.name} `), tool.name);
    assert.match(r.stdout, /\nOptions:\n/, tool.name);
    if (!writesOnly.has(tool.name)) assert.ok(tool.options.some((o) => o.name === 'json'), `${tool.name} lacks --json`);
    const wrong = await run(tool.name, ['--no-such-flag']);
    assert.equal(wrong.code, 2, tool.name);
    assert.match(wrong.stderr, new RegExp(`^sluice ${tool.name}: unknown option --no-such-flag\\n`), tool.name);
  }
});

test('SLUICE_BOOTSTRAP_SERVER stands in for --bootstrap-server; a malformed address is a usage error', async () => {
  const r = await run('topics', ['--list'], { env: { SLUICE_BOOTSTRAP_SERVER: '127.0.0.1:1' } });
  assert.equal(r.code, 3);
  const bad = await run('topics', ['--list', '--bootstrap-server', 'localhost']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--bootstrap-server entry "localhost" is not host:port/);
});

test('--command-config problems are reported before anything is sent', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-props-'));
  try {
    const missing = await run('topics', ['--list', '--bootstrap-server', '127.0.0.1:1', '--command-config', join(dir, 'nope.properties')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read command-config file .*nope\.properties: no such file/);
    const bad = join(dir, 'bad.properties');
    await writeFile(bad, 'client.id=ops\nrequest.timeout.ms=soon\n');
    const invalid = await run('topics', ['--list', '--bootstrap-server', '127.0.0.1:1', '--command-config', bad]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /client property request\.timeout\.ms must be a non-negative integer, not "soon"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every network tool exits 3 with a hint when no broker answers', async () => {
  const nobody = ['--bootstrap-server', '127.0.0.1:1'];
  const cases: Array<[string, string[]]> = [
    ['topics', ['--list']],
    ['configs', ['--entity-type', 'topics', '--describe']],
    ['consumer-groups', ['--list']],
    ['get-offsets', []],
    ['console-producer', ['--topic', 't']],
    ['console-consumer', ['--topic', 't']],
    ['producer-perf-test', ['--topic', 't', '--num-records', '1', '--record-size', '1', '--throughput', '-1']],
    ['consumer-perf-test', ['--topic', 't', '--messages', '1']],
  ];
  for (const [tool, args] of cases) {
    const r = await run(tool, [...args, ...nobody], { stdin: '' });
    assert.equal(r.code, 3, `${tool}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^sluice ${tool}: cannot reach the broker at 127\\.0\\.0\\.1:1`), tool);
    assert.match(r.stderr, /hint: is the broker running/, tool);
  }
});
