/**
 * Produce throughput over TLS and over SASL_SSL (SCRAM-SHA-256) against PLAINTEXT, same broker,
 * same run: kcat (librdkafka) produces SLUICE_BENCH_SECURITY_MB (64) of 1 KiB records at acks=1
 * to each listener in turn, three interleaved rounds; medians in MB/s and as ratios to PLAINTEXT.
 * The broker runs in its own process (`sluice start`), so its TLS work is not shared with the
 * benchmark's event loop.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ApiKey } from '@sluice/protocol';
import { Connection } from '@sluice/client';

const MB = Number(process.env.SLUICE_BENCH_SECURITY_MB ?? 64);
const ROUNDS = 3;
const SLUICE = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`]).toString().trim() || null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const kcat = which('kcat');
  const openssl = which('openssl');
  if (!kcat || !openssl) {
    console.log('security: skipped (needs kcat and openssl)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-security-'));
  const sh = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  sh('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench-ca');
  sh('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'b.key', '-out', 'b.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  sh('x509', '-req', '-in', 'b.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'b.crt', '-days', '2', '-extfile', 'san.ext');
  writeFileSync(join(dir, 'b.pem'), Buffer.concat([readFileSync(join(dir, 'b.key')), readFileSync(join(dir, 'b.crt'))]));
  const ports = { PLAINTEXT: 19192 + Math.floor(Math.random() * 500), SSL: 0, SASL_SSL: 0 };
  ports.SSL = ports.PLAINTEXT + 1;
  ports.SASL_SSL = ports.PLAINTEXT + 2;
  writeFileSync(
    join(dir, 'server.properties'),
    [
      `listeners=PLAINTEXT://127.0.0.1:${ports.PLAINTEXT},SSL://127.0.0.1:${ports.SSL},SASL_SSL://127.0.0.1:${ports.SASL_SSL}`,
      `log.dirs=${join(dir, 'data')}`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${join(dir, 'b.pem')}`,
      'sasl.enabled.mechanisms=SCRAM-SHA-256',
      '',
    ].join('\n'),
  );
  const broker = spawn(process.execPath, [SLUICE, 'start', '--config', join(dir, 'server.properties')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  broker.stderr.on('data', (b: Buffer) => (log += b.toString()));
  try {
    for (let i = 0; i < 100 && !log.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
    if (!log.includes('listening on')) throw new Error(`broker did not start:\n${log}`);
    const admin = new Connection({ host: '127.0.0.1', port: ports.PLAINTEXT, clientId: 'bench' });
    await admin.connect();
    const salt = randomBytes(16);
    await admin.request(ApiKey.AlterUserScramCredentials, { deletions: [], upsertions: [{ name: 'bench', mechanism: 1, iterations: 4096, salt, saltedPassword: pbkdf2Sync('bench-secret', salt, 4096, 32, 'sha256') }] });
    admin.close();
    const input = join(dir, 'records');
    const line = 'x'.repeat(1023) + '\n';
    writeFileSync(input, line.repeat(MB * 1024));
    const modes: [keyof typeof ports, string[]][] = [
      ['PLAINTEXT', []],
      ['SSL', ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${join(dir, 'ca.crt')}`]],
      ['SASL_SSL', ['-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${join(dir, 'ca.crt')}`, '-X', 'sasl.mechanism=SCRAM-SHA-256', '-X', 'sasl.username=bench', '-X', 'sasl.password=bench-secret']],
    ];
    const results = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [mode, extra] of modes) {
        const topic = `bench-${mode.toLowerCase()}-${round}`;
        const started = performance.now();
        execFileSync(kcat, ['-b', `127.0.0.1:${ports[mode]}`, ...extra, '-X', 'acks=1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-P', '-t', topic, '-l', input], { stdio: ['ignore', 'ignore', 'pipe'] });
        const seconds = (performance.now() - started) / 1000;
        results.set(mode, [...(results.get(mode) ?? []), MB / seconds]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = median(results.get('PLAINTEXT')!);
    console.log(`produce ${MB} MB of 1 KiB records with kcat, acks=1, medians of ${ROUNDS} interleaved rounds:`);
    for (const [mode] of modes) {
      const m = median(results.get(mode)!);
      console.log(`  ${mode.padEnd(10)} ${m.toFixed(1).padStart(7)} MB/s   ${(m / base).toFixed(2)} × PLAINTEXT`);
    }
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
