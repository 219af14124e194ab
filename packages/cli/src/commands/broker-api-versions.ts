/**
 * `sluice broker-api-versions` (kafka-broker-api-versions.sh): every live broker's advertised
 * version range per API, and the version this client would use with it.
 */
import { apiInfo } from '@sluice/protocol';
import type { OptionSpec, ParsedArgs } from '../tool/args.js';
import { bootstrapOption, commandConfigOption, helpOption, jsonOption, type Tool } from '../tool/command.js';
import { withAdmin } from '../tool/connect.js';
import { ExitCode } from '../tool/errors.js';
import type { ToolIo } from '../tool/io.js';
import { toJson } from '../tool/table.js';

const options: OptionSpec[] = [bootstrapOption, commandConfigOption, jsonOption, helpOption];

export const brokerApiVersionsTool: Tool = {
  name: 'broker-api-versions',
  summary: 'the API versions each broker supports (kafka-broker-api-versions.sh)',
  usage: 'sluice broker-api-versions --bootstrap-server <host:port>',
  description: 'Asks every live broker for its API versions and prints, per API, the range the broker supports and the version this client would use ("usable"), in the format of kafka-broker-api-versions.sh.',
  options,
  run: runBrokerApiVersions,
};

/** Kafka's wording: the version both sides speak, or which side is too new for the other. */
function usability(a: { apiKey: number; min: number; usable: number }): string {
  if (a.usable >= 0) return `usable: ${a.usable}`;
  const ours = apiInfo.get(a.apiKey);
  return ours !== undefined && ours.maxVersion < a.min ? 'unusable: node too new' : 'unusable: node too old';
}

async function runBrokerApiVersions(args: ParsedArgs, io: ToolIo): Promise<number> {
  return withAdmin(args, io, async (admin) => {
    const brokers = await admin.brokerApiVersions();
    if (args.has('json')) {
      io.stdout(toJson(brokers.map(({ broker, apis }) => ({ id: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack, apis }))));
      return ExitCode.ok;
    }
    for (const { broker, apis } of brokers) {
      io.stdout(`${broker.host}:${broker.port} (id: ${broker.nodeId} rack: ${broker.rack ?? 'null'}) -> (\n`);
      io.stdout(apis.map((a) => `\t${a.name}(${a.apiKey}): ${a.min === a.max ? a.min : `${a.min} to ${a.max}`} [${usability(a)}]`).join(',\n') + '\n)\n');
    }
    return ExitCode.ok;
  });
}
