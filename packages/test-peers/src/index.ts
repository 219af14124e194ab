/**
 * The third-party Kafka clients ("peers") that Sluice's tests drive and that come from Debian
 * rather than npm: finding them, and what a test does when one is missing. A developer without
 * them gets the test skipped with the package to install; under CI the test fails with the same
 * message, so CI keeps proving every peer.
 *
 *     test('kcat reads it back', async (t) => {
 *       if (!requirePeers(t, 'kcat')) return;
 *       await run(kcatPath(), [...]);
 *     });
 */
import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

/** A peer is named by the Debian package that provides it: the names `.ci/run` installs. */
export type Peer = BinaryPeer | PythonPeer;
/**
 * Programs run by name: kcat (librdkafka's CLI), openssl (makes the TLS tests' certificates),
 * etcd-server (the `etcd` the cluster metadata store's tests run), prometheus (its `promtool`
 * checks the broker's /metrics page), openjdk-17-jdk-headless (its `java` runs Java programs from
 * source: Kafka's own serialization for files Kafka Connect writes).
 */
type BinaryPeer = 'kcat' | 'openssl' | 'etcd-server' | 'prometheus' | 'openjdk-17-jdk-headless';
type PythonPeer = 'python3-kafka' | 'python3-confluent-kafka' | 'python3-snappy' | 'python3-lz4' | 'python3-zstandard';

/** The module whose import proves each Python peer present (kafka-python's lz4 codec imports lz4.frame). */
const PYTHON_MODULES: Readonly<Record<PythonPeer, string>> = {
  'python3-kafka': 'kafka',
  'python3-confluent-kafka': 'confluent_kafka',
  'python3-snappy': 'snappy',
  'python3-lz4': 'lz4.frame',
  'python3-zstandard': 'zstandard',
};

/** Each binary's override variable: SLUICE_TEST_KCAT, SLUICE_TEST_OPENSSL, SLUICE_TEST_ETCD. */
const BINARY_OVERRIDE: Readonly<Record<BinaryPeer, string>> = {
  kcat: 'SLUICE_TEST_KCAT',
  openssl: 'SLUICE_TEST_OPENSSL',
  'etcd-server': 'SLUICE_TEST_ETCD',
  prometheus: 'SLUICE_TEST_PROMTOOL',
  'openjdk-17-jdk-headless': 'SLUICE_TEST_JAVAC',
};
/** The program each binary peer installs, where it is not named like its package. */
const BINARY_NAME: Readonly<Record<BinaryPeer, string>> = { kcat: 'kcat', openssl: 'openssl', 'etcd-server': 'etcd', prometheus: 'promtool', 'openjdk-17-jdk-headless': 'javac' };

export const PEERS: readonly Peer[] = [...(Object.keys(BINARY_OVERRIDE) as BinaryPeer[]), ...(Object.keys(PYTHON_MODULES) as PythonPeer[])];

/** Where a test that skipped for a missing peer records it, for scripts/run-tests.mjs's summary. */
export const SKIP_LOG_ENV = 'SLUICE_TEST_PEER_SKIPS';

const isPythonPeer = (p: Peer): p is PythonPeer => p in PYTHON_MODULES;

/**
 * The interpreter the Python peers run under: Debian installs python3-kafka and friends for
 * /usr/bin/python3, and a `python3` found earlier on PATH (pyenv, a virtualenv) would lack them.
 * SLUICE_TEST_PYTHON names another interpreter that has the modules.
 */
export function pythonPath(): string {
  return process.env.SLUICE_TEST_PYTHON || '/usr/bin/python3';
}

const binaries = new Map<BinaryPeer, string | null>();
/** The override variable's program (e.g. SLUICE_TEST_KCAT), else the first executable of that name on PATH; null when there is none. */
function findBinary(peer: BinaryPeer): string | null {
  const known = binaries.get(peer);
  if (known !== undefined) return known;
  const override = process.env[BINARY_OVERRIDE[peer]];
  const candidates = override ? [override] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, BINARY_NAME[peer]));
  const found = candidates.find(isExecutableFile) ?? null;
  binaries.set(peer, found);
  return found;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The kcat to run (call `requirePeers(t, 'kcat')` first; without one this is the bare name, which fails to spawn). */
export function kcatPath(): string {
  return findBinary('kcat') ?? 'kcat';
}

/** The openssl to run (call `requirePeers(t, 'openssl')` first). */
export function opensslPath(): string {
  return findBinary('openssl') ?? 'openssl';
}

/** The promtool to run (call `requirePeers(t, 'prometheus')` first). */
export function promtoolPath(): string {
  return findBinary('prometheus') ?? 'promtool';
}

/**
 * The `java` of the JDK (call `requirePeers(t, 'openjdk-17-jdk-headless')` first): found through
 * its `javac`, since running a program from source needs the compiler a bare JRE lacks.
 */
export function javaPath(): string {
  const javac = findBinary('openjdk-17-jdk-headless');
  return javac ? join(dirname(realpathSync(javac)), 'java') : 'java';
}

/** The etcd to run (call `requirePeers(t, 'etcd-server')` first). */
export function etcdPath(): string {
  return findBinary('etcd-server') ?? 'etcd';
}

interface PythonProbe {
  importable: ReadonlySet<string>;
  /** Why nothing could be imported, when the interpreter itself did not run. */
  failure?: string;
}

// Imports (rather than locates) each module, since a module can be found yet fail to load.
const PROBE = `import importlib, json, sys
ok = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        ok.append(name)
    except Exception:
        pass
print(json.dumps(ok))`;

let python: PythonProbe | undefined;
/** One interpreter run per process, checking every Python peer at once (~0.4 s). */
function probePython(): PythonProbe {
  if (python) return python;
  const interpreter = pythonPath();
  const r = spawnSync(interpreter, ['-c', PROBE, ...Object.values(PYTHON_MODULES)], { encoding: 'utf8', timeout: 30_000 });
  let importable: unknown;
  try {
    importable = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop() ?? '') : undefined;
  } catch {
    importable = undefined;
  }
  if (Array.isArray(importable) && importable.every((m): m is string => typeof m === 'string')) {
    python = { importable: new Set(importable) };
  } else {
    const why = r.error ? (errorCode(r.error) ?? r.error.message) : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    python = { importable: new Set(), failure: `${interpreter} did not run (${why})` };
  }
  return python;
}

function errorCode(err: Error): string | undefined {
  const code: unknown = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : undefined;
}

/** Those of `peers` that are not installed. */
export function missingPeers(peers: readonly Peer[]): Peer[] {
  return peers.filter((p) => (isPythonPeer(p) ? !probePython().importable.has(PYTHON_MODULES[p]) : findBinary(p) === null));
}

/**
 * One line naming what is missing and the apt-get command that installs it, e.g.
 * "kcat not installed (apt-get install kcat)".
 */
export function missingReason(missing: readonly Peer[]): string {
  const details: string[] = [];
  for (const p of missing) {
    if (isPythonPeer(p)) continue;
    const variable = BINARY_OVERRIDE[p];
    if (process.env[variable]) details.push(`${variable}=${process.env[variable]} is not an executable file`);
  }
  const modules = missing.filter(isPythonPeer).map((p) => PYTHON_MODULES[p]);
  if (modules.length > 0) details.push(probePython().failure ?? `${pythonPath()} cannot import ${modules.join(', ')}`);
  return `${missing.join(', ')} not installed${details.length > 0 ? `: ${details.join('; ')}` : ''} (apt-get install ${missing.join(' ')})`;
}

/** CI services set CI=true (.ci/run sets it too); an empty, "0" or "false" value means not CI. */
export function underCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * True when every one of `peers` is installed. Otherwise the test is skipped with the reason and
 * false is returned (the test should return at once), or, under CI, the test fails with the reason.
 */
export function requirePeers(t: TestContext, ...peers: Peer[]): boolean {
  const missing = missingPeers(peers);
  if (missing.length === 0) return true;
  const reason = missingReason(missing);
  if (underCi()) throw new Error(reason);
  t.skip(reason);
  const log = process.env[SKIP_LOG_ENV];
  // One short line per write, so concurrent test processes appending to the same file never interleave.
  if (log) appendFileSync(log, JSON.stringify({ test: t.name, missing }) + '\n');
  return false;
}
export { startBrokerProcess, type BrokerProcess } from './broker-process.js';

export { makeTestCertificates, type TestCertificates } from './certificates.js';
