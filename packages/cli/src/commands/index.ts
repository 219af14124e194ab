/** The operator tools, by subcommand name. */
import type { Tool } from '../tool/command.js';
import { dumpLogTool } from './dump-log.js';
import { topicsTool } from './topics.js';

export const operatorTools: readonly Tool[] = [topicsTool, dumpLogTool];
