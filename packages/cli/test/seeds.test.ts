/**
 * The operator commands from the user's notes (../shared/seeds), with `sluice <tool>` in place
 * of `bin/kafka-<tool>.sh`, against a running broker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startTestBroker, type TestBroker } from './helpers.js';

let tb: TestBroker;
let scratch: string;
before(async () => {
  tb = await startTestBroker();
  scratch = await mkdtemp(join(tmpdir(), 'sluice-cli-seeds-'));
});
after(async () => {
  await tb.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('notes: create, describe, list, add partitions, delete a topic', async () => {
  const bs = tb.bootstrap;
  // bin/kafka-topics --create --topic my-topic --bootstrap-server localhost:9092 --replication-factor 3 --partitions 1
  const rf3 = await run('topics', ['--create', '--topic', 'my-topic', '--bootstrap-server', bs, '--replication-factor', '3', '--partitions', '1']);
  assert.equal(rf3.code, 1, 'a one-broker cluster cannot hold 3 replicas');
  assert.match(rf3.stderr, /Replication factor: 3 larger than available brokers: 1\.\n {2}hint: use --replication-factor 1 or less/);
  assert.equal((await run('topics', ['--create', '--topic', 'my-topic', '--bootstrap-server', bs, '--replication-factor', '1', '--partitions', '1'])).code, 0);
  // bin/kafka-topics --bootstrap-server localhost:9092 --describe --topic my-topic
  const d = await run('topics', ['--bootstrap-server', bs, '--describe', '--topic', 'my-topic']);
  assert.match(d.stdout, /^Topic: my-topic\tTopicId: \S+\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n\tTopic: my-topic\tPartition: 0\tLeader: \d+\tReplicas: \d+\tIsr: \d+\n$/);
  // bin/kafka-topics.sh --list --bootstrap-server localhost:9092
  assert.match((await run('topics', ['--list', '--bootstrap-server', bs])).stdout, /^my-topic$/m);
  // bin/kafka-topics.sh --alter --topic <topic-name> --partitions 4 --bootstrap-server localhost:9092 (no records yet: allowed)
  const grown = await run('topics', ['--alter', '--topic', 'my-topic', '--partitions', '4', '--bootstrap-server', bs]);
  assert.equal(grown.code, 0, grown.stderr);
  assert.match(grown.stdout, /no records to sample/);
  // bin/kafka-topics.sh --bootstrap-server localhost:9002 --delete --topic my-topic
  assert.equal((await run('topics', ['--bootstrap-server', bs, '--delete', '--topic', 'my-topic'])).code, 0);
});

test('notes: produce and consume from the console, list and describe the group', async () => {
  const bs = tb.bootstrap;
  assert.equal((await run('topics', ['--create', '--topic', 'source-topic', '--bootstrap-server', bs])).code, 0);
  // bin/kafka-console-producer --bootstrap-server localhost:9092 --topic my-topic
  assert.equal((await run('console-producer', ['--bootstrap-server', bs, '--topic', 'source-topic'], { stdin: 'hello\nworld\n' })).code, 0);
  // kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic source-topic --from-beginning
  const consumed = await run('console-consumer', ['--bootstrap-server', bs, '--topic', 'source-topic', '--from-beginning', '--max-messages', '2', '--group', 'my-consumer']);
  assert.equal(consumed.stdout, 'hello\nworld\n');
  // bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list
  assert.match((await run('consumer-groups', ['--bootstrap-server', bs, '--list'])).stdout, /^my-consumer$/m);
  // bin/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group my-consumer
  const described = await run('consumer-groups', ['--bootstrap-server', bs, '--describe', '--group', 'my-consumer']);
  assert.match(described.stdout, /my-consumer +source-topic +0 +2 +2 +0 /);
});

test('notes: ZooKeeper-era commands fail with what to do instead; the SCRAM and SASL ones work against a SASL listener', async () => {
  // bin/kafka-configs.sh --zookeeper localhost:2181 --alter --add-config 'SCRAM-SHA-256=[iterations=8192, password=admin-password]' --entity-type users --entity-name admin
  const zk = await run('configs', ['--zookeeper', 'localhost:2181', '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192, password=admin-password]', '--entity-type', 'users', '--entity-name', 'admin']);
  assert.equal(zk.code, 2);
  assert.match(zk.stderr, /--zookeeper is not supported.*\n {2}hint: use --bootstrap-server <broker host:port> instead of --zookeeper localhost:2181/);
  const secured = await startTestBroker({ listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256' });
  try {
    const scram = await run('configs', ['--bootstrap-server', secured.bootstrap, '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192, password=alice-password]', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(scram.code, 0, scram.stderr);
    assert.equal((await run('topics', ['--create', '--topic', 'topic5', '--bootstrap-server', secured.bootstrap, '--partitions', '1'])).code, 0);
    // bin/kafka-console-producer.sh --topic topic5 --bootstrap-server localhost:9092 --producer.config ./producer.properties
    const props = join(scratch, 'producer.properties');
    await writeFile(props, "security.protocol = SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config= org.apache.kafka.common.security.scram.ScramLoginModule required \\\n  username='alice' password='alice-password';\n");
    const saslPort = secured.broker.listeners.find((l) => l.name === 'SASL_PLAINTEXT')!.port;
    const sasl = await run('console-producer', ['--topic', 'topic5', '--bootstrap-server', `127.0.0.1:${saslPort}`, '--producer.config', props], { stdin: 'x\n' });
    assert.equal(sasl.code, 0, sasl.stderr);
    // The same properties against the PLAINTEXT listener: the broker refuses the SASL handshake there.
    const wrongListener = await run('console-producer', ['--topic', 'topic5', '--bootstrap-server', secured.bootstrap, '--producer.config', props], { stdin: 'x\n' });
    assert.notEqual(wrongListener.code, 0);
  } finally {
    await secured.stop();
  }
});
