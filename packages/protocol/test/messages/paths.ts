import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this (compiled) file that holds packages/protocol. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'packages', 'protocol', 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export const protocolDir = (): string => join(repoRoot(), 'packages', 'protocol');
export const referenceSchemaDir = (): string => join(repoRoot(), '..', 'shared', 'reference', 'kafka-message-schemas');
