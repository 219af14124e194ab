/** Requests that race for the same topic get Kafka's answers, never UNKNOWN_SERVER_ERROR. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { RawClient, startTestBroker } from '../helpers.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

test('two clients deleting one topic at once: one succeeds, the other gets UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
  const b = await startTestBroker();
  t.after(() => b.dispose());
  const [first, second, third] = await Promise.all([1, 2, 3].map(() => RawClient.connect(b.broker.port)));
  t.after(() => {
    for (const c of [first, second, third]) c.close();
  });
  let raced = 0;
  for (let round = 0; round < 20; round++) {
    const name = `contested-${round}`;
    const created = await first.send(ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
    const request = { topics: [{ name, topicId: ZERO_UUID }], timeoutMs: 5000 };
    // A config change sent just before keeps the metadata store busy writing, so both deletes pass
    // the handler's existence check and queue behind it, as under load.
    const alter = third.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 2, resourceName: name, configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] }], validateOnly: false });
    const answers = await Promise.all([first.send(ApiKey.DeleteTopics, 6, request), second.send(ApiKey.DeleteTopics, 6, request)]);
    await alter;
    const codes = answers.map((a) => a.responses[0].errorCode).sort((x, y) => x - y);
    assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], `round ${round}: ${JSON.stringify(answers.map((a) => a.responses[0]))}`);
    // Both got past the handler's existence check: the loser was refused by the metadata store.
    if (answers.every((a) => a.responses[0].topicId !== ZERO_UUID)) raced++;
  }
  t.diagnostic(`${raced} of 20 rounds raced inside the metadata store`);
  assert.ok(raced > 0, 'the two deletes never overlapped; the test did not exercise the race');
});
