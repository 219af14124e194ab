/** The operator tools, by subcommand name. */
import type { Tool } from '../tool/command.js';
import { dumpLogTool } from './dump-log.js';

export const operatorTools: readonly Tool[] = [dumpLogTool];
