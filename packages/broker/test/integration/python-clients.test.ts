/**
 * kafka-python and confluent-kafka (Debian python3-kafka / python3-confluent-kafka, run with
 * /usr/bin/python3): each script creates topics, produces keyed records with every codec,
 * consumes from the beginning, an offset and a timestamp, and runs the admin calls. kafka-python's
 * codecs are separate Python modules; confluent-kafka's librdkafka has its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pythonPath, requirePeers, type Peer } from '@sluice/test-peers';
import { run, startTestBroker } from '../helpers.js';

const PYTHON = pythonPath();
const script = (name: string) => fileURLToPath(new URL(`../../../test/clients/${name}`, import.meta.url));

for (const [name, file, marker, peers] of [
  ['kafka-python', 'kafka_python_client.py', 'kafka-python: ok', ['python3-kafka', 'python3-snappy', 'python3-lz4', 'python3-zstandard']],
  ['confluent-kafka', 'confluent_kafka_client.py', 'confluent-kafka: ok', ['python3-confluent-kafka']],
] as const satisfies ReadonlyArray<readonly [string, string, string, readonly Peer[]]>) {
  test(`${name}: admin, produce with every codec, consume from beginning/offset/timestamp`, { timeout: 180_000 }, async (t) => {
    if (!requirePeers(t, ...peers)) return;
    const tb = await startTestBroker({ 'auto.create.topics.enable': false });
    t.after(() => tb.dispose());
    const result = await run(PYTHON, [script(file), tb.bootstrap], { timeoutMs: 170_000 });
    assert.equal(result.code, 0, `${name} failed:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, new RegExp(marker));
  });
}
