import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryInUseError, LOCK_FILE, lockDataDirectory } from '../../src/metadata/data-dir-lock.js';

test('a data directory is locked once per process, and released', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const release = lockDataDirectory(dir);
  assert.ok(existsSync(join(dir, LOCK_FILE)));
  assert.throws(() => lockDataDirectory(dir), DataDirectoryInUseError);
  release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  lockDataDirectory(dir)();
});

test('a lock held by a live process is refused; a dead owner\'s lock is taken over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => {
    holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, LOCK_FILE), `${holder.pid}\n`);
  assert.throws(() => lockDataDirectory(dir), (err: unknown) => err instanceof DataDirectoryInUseError && err.message.includes(String(holder.pid)));
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  const release = lockDataDirectory(dir);
  release();
});
