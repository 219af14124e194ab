/**
 * Peer detection and the skip/fail rule, each case in a child process: detection is cached per
 * process and reads its overrides (SLUICE_TEST_KCAT, SLUICE_TEST_PYTHON) from the environment,
 * and these cases must not depend on what this machine has installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEERS, SKIP_LOG_ENV } from '../src/index.js';

const INDEX = new URL('../src/index.js', import.meta.url).href;
const CI_RUN = new URL('../../../../.ci/run', import.meta.url);

/** A scratch directory with an interpreter stand-in that reports only `kafka` as importable. */
function scratch(t: { after(fn: () => void): void }): { dir: string; python: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-peers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const python = join(dir, 'python3');
  writeFileSync(python, `#!/bin/sh\necho '["kafka"]'\n`);
  chmodSync(python, 0o755);
  return { dir, python };
}

/**
 * The environment of a child: nothing inherited that would change the rule (CI), the peers found,
 * or (NODE_TEST_CONTEXT, set by the runner running this file) how a nested `node --test` reports.
 */
function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...overrides };
  for (const key of ['CI', SKIP_LOG_ENV, 'SLUICE_TEST_KCAT', 'SLUICE_TEST_ETCD', 'SLUICE_TEST_JAVAC', 'SLUICE_TEST_PYTHON', 'NODE_TEST_CONTEXT']) if (!(key in overrides)) delete env[key];
  return env;
}

function evaluate(expression: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const p = await import(${JSON.stringify(INDEX)}); console.log(${expression});`], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the peers are the Debian packages .ci/run installs', () => {
  const list = /^DEBIAN_PACKAGES=\(([^)]*)\)/m.exec(readFileSync(CI_RUN, 'utf8'));
  assert.ok(list, '.ci/run declares DEBIAN_PACKAGES=(...)');
  assert.deepEqual([...PEERS].sort(), list[1].trim().split(/\s+/).sort());
});

test('a missing peer is named with the package to install, and the interpreter that lacks it', (t) => {
  const { dir, python } = scratch(t);
  const env = childEnv({ PATH: dir, SLUICE_TEST_PYTHON: python });
  assert.equal(evaluate(`p.missingReason(p.missingPeers(['kcat']))`, env), 'kcat not installed (apt-get install kcat)');
  assert.equal(evaluate(`p.missingPeers(['python3-kafka']).length`, env), '0');
  // etcd-server is found by its program's name, etcd.
  const etcd = join(dir, 'etcd');
  writeFileSync(etcd, '#!/bin/sh\n');
  chmodSync(etcd, 0o755);
  assert.equal(evaluate(`p.missingPeers(['etcd-server']).length + ' ' + p.etcdPath()`, env), `0 ${etcd}`);
  rmSync(etcd);
  assert.equal(
    evaluate(`p.missingReason(p.missingPeers(p.PEERS))`, env),
    `kcat, openssl, etcd-server, prometheus, openjdk-17-jdk-headless, python3-confluent-kafka, python3-snappy, python3-lz4, python3-zstandard not installed: ${python} cannot import confluent_kafka, snappy, lz4.frame, zstandard ` +
      '(apt-get install kcat openssl etcd-server prometheus openjdk-17-jdk-headless python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard)',
  );
  const absent = join(dir, 'absent');
  assert.equal(
    evaluate(`p.missingReason(p.missingPeers(['kcat', 'python3-kafka']))`, childEnv({ SLUICE_TEST_KCAT: absent, SLUICE_TEST_PYTHON: absent })),
    `kcat, python3-kafka not installed: SLUICE_TEST_KCAT=${absent} is not an executable file; ${absent} did not run (ENOENT) (apt-get install kcat python3-kafka)`,
  );
});

test('a test whose peer is missing is skipped and logged for the summary; under CI it fails with the same line', (t) => {
  const { dir } = scratch(t);
  const file = join(dir, 'uses-kcat.test.mjs');
  writeFileSync(
    file,
    `import { test } from 'node:test';\nimport { requirePeers } from ${JSON.stringify(INDEX)};\n` +
      `test('drives kcat', (t) => {\n  if (!requirePeers(t, 'kcat')) return;\n  throw new Error('ran without kcat');\n});\n`,
  );
  const log = join(dir, 'skips.jsonl');
  const reason = `kcat not installed: SLUICE_TEST_KCAT=${join(dir, 'absent')} is not an executable file (apt-get install kcat)`;
  const runTest = (extra: Record<string, string>) =>
    spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { env: childEnv({ SLUICE_TEST_KCAT: join(dir, 'absent'), [SKIP_LOG_ENV]: log, ...extra }), encoding: 'utf8' });

  const local = runTest({});
  assert.equal(local.status, 0, local.stdout);
  assert.ok(local.stdout.includes(`# SKIP ${reason}`), local.stdout);
  assert.match(local.stdout, /^# skipped 1$/m);
  assert.deepEqual(JSON.parse(readFileSync(log, 'utf8')), { test: 'drives kcat', missing: ['kcat'] });

  rmSync(log);
  const ci = runTest({ CI: 'true' });
  assert.equal(ci.status, 1, ci.stdout);
  assert.ok(ci.stdout.includes(reason), ci.stdout);
  assert.match(ci.stdout, /^# fail 1$/m);
  assert.doesNotMatch(ci.stdout, /ran without kcat/);
  assert.throws(() => readFileSync(log), { code: 'ENOENT' }, 'a failure is not counted as a skip');
});
