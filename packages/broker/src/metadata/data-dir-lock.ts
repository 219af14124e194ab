/**
 * One broker per data directory. Two brokers appending to the same segments would corrupt them,
 * so start-up takes `<dataDir>/.lock` (Kafka's name) holding the owner's pid. A lock whose pid is
 * no longer alive (a crashed broker) is taken over; one held by a live process, or by another
 * broker in this process, is refused.
 */
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCK_FILE = '.lock';
const heldInThisProcess = new Set<string>();

export class DataDirectoryInUseError extends Error {
  constructor(dir: string, owner: string) {
    super(`data directory ${dir} is in use by ${owner}; stop that broker or use another --data-dir`);
    this.name = 'DataDirectoryInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock; returns the function that releases it. */
export function lockDataDirectory(dir: string): () => void {
  const absolute = resolve(dir);
  if (heldInThisProcess.has(absolute)) throw new DataDirectoryInUseError(absolute, 'another broker in this process');
  mkdirSync(absolute, { recursive: true });
  const path = join(absolute, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw new DataDirectoryInUseError(absolute, `process ${owner}`);
      // Stale: left by a broker that died (or by this process before a crash and pid reuse).
      unlinkSync(path);
    }
  }
  heldInThisProcess.add(absolute);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldInThisProcess.delete(absolute);
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}
