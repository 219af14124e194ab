#!/usr/bin/env node
/**
 * The `sluice` command. Subcommands are looked up in a table so later ones (topic admin, …)
 * slot in beside `start`.
 */
import { runStart } from './start.js';
import { operatorSubcommands } from './operator.js';
import { runConnectStandalone } from './connect-standalone.js';
import { runConnectDistributed } from './connect-distributed.js';

interface Subcommand {
  summary: string;
  run(args: string[]): Promise<number>;
}

const subcommands: Record<string, Subcommand> = {
  start: { summary: 'run a broker in the foreground', run: runStart },
  'connect-standalone': { summary: 'run a Kafka Connect worker in standalone mode', run: runConnectStandalone },
  'connect-distributed': { summary: 'run a Kafka Connect worker in distributed mode', run: runConnectDistributed },
  ...operatorSubcommands(),
};

function usage(): string {
  const lines = ['usage: sluice <command> [options]', '', 'commands:'];
  for (const [name, cmd] of Object.entries(subcommands)) lines.push(`  ${name.padEnd(20)} ${cmd.summary}`);
  lines.push('', 'Run `sluice <command> --help` for the options of a command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = subcommands[name];
  if (!cmd) {
    console.error(`sluice: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`sluice: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
