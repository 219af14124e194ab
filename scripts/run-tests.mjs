#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with node's test runner.
// Node 20's --test takes no globs, so the files are listed here. Extra args are passed through,
// e.g. `node scripts/run-tests.mjs --test-name-pattern=crc` or a package name to narrow the run.
// After node's own summary it adds one line counting the tests skipped because a Debian peer
// (kcat, python3-kafka, ...) is missing, with the apt-get command that would run them.
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('-'));
const passthrough = args.filter((a) => a.startsWith('-'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  if (only.length && !only.includes(pkg)) continue;
  const dir = join(root, 'packages', pkg, 'dist', 'test');
  if (!existsSync(dir)) continue;
  // Only the compiled form of a test that still exists: tsc leaves the output of a moved or
  // deleted test in dist, which would run again (or fail) in a working copy but not in CI.
  const compiled = walk(dir, []);
  for (const f of compiled) {
    const source = join(root, 'packages', pkg, 'test', relative(dir, f)).replace(/\.js$/, '.ts');
    if (existsSync(source)) files.push(f);
    else console.error(`skipping ${relative(root, f)}: its source ${relative(root, source)} is gone (stale build output)`);
  }
}
if (files.length === 0) {
  console.error('no compiled test files found: run `npm run build` first');
  process.exit(1);
}
const concurrency = process.env.SLUICE_TEST_CONCURRENCY ?? '2';
// No --test-force-exit: with concurrency, Node's test runner can then drop verdicts that the
// children already reported (nodejs/node#64833; seen here as a run that passed with six fewer
// tests). Instead every test closes what it opens, --test-timeout bounds a single test, and a
// deadline on the whole run turns anything left hanging into a failure rather than a stuck CI.
const deadlineMin = Number(process.env.SLUICE_TEST_DEADLINE_MIN ?? '25');
// A test skipped for a missing peer appends a line here (@sluice/test-peers, requirePeers).
const peerSkipsDir = mkdtempSync(join(tmpdir(), 'sluice-peer-skips-'));
const peerSkips = join(peerSkipsDir, 'skips.jsonl');
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...passthrough, ...files], {
  stdio: 'inherit',
  detached: true,
  env: { ...process.env, SLUICE_TEST_PEER_SKIPS: peerSkips },
});

/** "skipped for missing peers: 9 tests (kcat: 7, python3-kafka: 2); to run them: apt-get install kcat python3-kafka", or nothing. */
function peerSkipSummary() {
  let lines = [];
  try {
    lines = readFileSync(peerSkips, 'utf8').split('\n').filter(Boolean);
  } catch {
    return null; // no test skipped for a peer
  } finally {
    rmSync(peerSkipsDir, { recursive: true, force: true });
  }
  const perPeer = new Map();
  for (const line of lines) for (const peer of JSON.parse(line).missing) perPeer.set(peer, (perPeer.get(peer) ?? 0) + 1);
  const peers = [...perPeer.keys()].sort();
  const counts = peers.map((peer) => `${peer}: ${perPeer.get(peer)}`).join(', ');
  return `skipped for missing peers: ${lines.length} test${lines.length === 1 ? '' : 's'} (${counts}); to run them: apt-get install ${peers.join(' ')}`;
}
const deadline = setTimeout(() => {
  console.error(`\nrun-tests: the test run passed its ${deadlineMin}-minute deadline (a test file left something running?); stopping it`);
  rmSync(peerSkipsDir, { recursive: true, force: true });
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  process.exit(1);
}, deadlineMin * 60_000);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  });
}
child.on('exit', (code, signal) => {
  clearTimeout(deadline);
  // After node's closing '# pass N' / '# fail N' lines, which stay as they are for tools that read them.
  const summary = peerSkipSummary();
  if (summary) console.log(summary);
  process.exit(code ?? (signal ? 1 : 0));
});
