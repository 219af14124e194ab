import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, type OptionSpec } from '../src/tool/args.js';
import { UsageError } from '../src/tool/errors.js';
import { parseConfigList, parseKeyValues } from '../src/tool/properties.js';
import { renderTable } from '../src/tool/table.js';

const specs: OptionSpec[] = [
  { name: 'bootstrap-server', kind: 'value', help: '', aliases: ['broker-list'] },
  { name: 'topic', kind: 'value', help: '' },
  { name: 'topics-with-overrides', kind: 'flag', help: '' },
  { name: 'property', kind: 'list', help: '' },
  { name: 'list', kind: 'flag', help: '' },
];

test('Kafka-style flags: --k v, --k=v, repeats, aliases and unambiguous prefixes', () => {
  const a = parseArgs(['--bootstrap', 'h:1', '--topic=t', '--property', 'a=1', '--property=b=2', '--list'], specs);
  assert.equal(a.value('bootstrap-server'), 'h:1');
  assert.equal(a.value('topic'), 't');
  assert.deepEqual(a.list('property'), ['a=1', 'b=2']);
  assert.ok(a.has('list'));
  assert.equal(parseArgs(['--broker-list', 'x:2'], specs).value('bootstrap-server'), 'x:2');
  // "--topic" is exact even though "--topics-with-overrides" shares the prefix.
  assert.equal(parseArgs(['--topic', 'a'], specs).value('topic'), 'a');
  assert.throws(() => parseArgs(['--top', 'a'], specs), (e: unknown) => e instanceof UsageError && /ambiguous/.test(e.message));
  assert.throws(() => parseArgs(['--topic'], specs), /--topic needs a value/);
  assert.throws(() => parseArgs(['--topic', 'a', '--topic', 'b'], specs), /given twice/);
  assert.throws(() => parseArgs(['stray'], specs), /unexpected argument "stray"/);
  assert.throws(() => parseArgs(['--lst'], specs), (e: unknown) => e instanceof UsageError && e.hint === 'did you mean --list?');
});

test('--add-config lists keep bracketed commas and key=value lists reject bare keys', () => {
  assert.deepEqual(parseConfigList('retention.ms=1000,cleanup.policy=[compact,delete],a=b'), [
    ['retention.ms', '1000'],
    ['cleanup.policy', 'compact,delete'],
    ['a', 'b'],
  ]);
  assert.deepEqual(parseConfigList('SCRAM-SHA-256=[iterations=8192,password=pw]'), [['SCRAM-SHA-256', 'iterations=8192,password=pw']]);
  assert.throws(() => parseConfigList('novalue'), /has no "="/);
  assert.deepEqual([...parseKeyValues(['parse.key=true', 'key.separator=:'], 'property')], [
    ['parse.key', 'true'],
    ['key.separator', ':'],
  ]);
  assert.throws(() => parseKeyValues(['parse.key'], 'property'), /--property takes key=value/);
});

test('tables align columns and show missing cells as -', () => {
  assert.equal(renderTable(['GROUP', 'LAG'], [['g', 10n], ['longer-group', null]]), 'GROUP         LAG\ng             10\nlonger-group  -\n');
});

test('progress redraws one line on a terminal and prints sparse lines otherwise', async () => {
  const { Progress } = await import('../src/tool/progress.js');
  const { Readable } = await import('node:stream');
  let now = 0;
  const make = (tty: boolean): { out: string[]; progress: InstanceType<typeof Progress> } => {
    const out: string[] = [];
    const io = { stdout: () => undefined, stderr: (t: string) => void out.push(t), stdin: Readable.from([]), stderrIsTTY: tty, env: {}, interrupted: () => new Promise<void>(() => {}) };
    return { out, progress: new Progress(io, 5000, () => now) };
  };
  const log = make(false);
  now = 0;
  log.progress.update('a');
  now = 1000;
  log.progress.update('b');
  now = 6000;
  log.progress.update('c');
  log.progress.done();
  assert.deepEqual(log.out, ['c\n']);
  const tty = make(true);
  now = 10_000;
  tty.progress.update('x');
  now = 10_050;
  tty.progress.update('skipped: redraws are throttled');
  now = 10_200;
  tty.progress.update('y');
  tty.progress.done();
  assert.deepEqual(tty.out, ['\r\x1b[Kx', '\r\x1b[Ky', '\r\x1b[K']);
});

test('SCRAM credentials from the notes’ syntax are salted with PBKDF2 of the mechanism’s hash', async () => {
  const { scramUpsertion } = await import('../src/commands/configs.js');
  const { pbkdf2Sync } = await import('node:crypto');
  const [[mechanism, spec]] = parseConfigList('SCRAM-SHA-256=[iterations=8192, password=admin-password]');
  const u = await scramUpsertion('admin', mechanism, spec);
  assert.equal(u.name, 'admin');
  assert.equal(u.mechanism, 1);
  assert.equal(u.iterations, 8192);
  assert.equal(u.saltedPassword.length, 32);
  assert.deepEqual(u.saltedPassword, pbkdf2Sync('admin-password', u.salt, 8192, 32, 'sha256'));
  const sha512 = await scramUpsertion('alice', 'SCRAM-SHA-512', 'password=alice-password');
  assert.equal(sha512.mechanism, 2);
  assert.equal(sha512.iterations, 4096);
  assert.deepEqual(sha512.saltedPassword, pbkdf2Sync('alice-password', sha512.salt, 4096, 64, 'sha512'));
  await assert.rejects(scramUpsertion('a', 'SCRAM-SHA-256', 'iterations=100,password=x'), /iterations must be an integer of at least 4096/);
  await assert.rejects(scramUpsertion('a', 'SCRAM-SHA-256', 'iterations=8192'), /needs password=<secret>/);
});
