import * as declarations from './index.js';
import type { MessageDecl } from './types.js';

/** Every declared message, in a stable order. */
export const allDeclarations: readonly MessageDecl[] = Object.values(declarations as Record<string, unknown>)
  .filter((d): d is MessageDecl => typeof d === 'object' && d !== null && 'fields' in d && 'kind' in d)
  .sort((a, b) => a.name.localeCompare(b.name));
