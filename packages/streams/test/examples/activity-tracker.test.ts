import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Serdes, TopologyTestDriver } from '../../src/index.js';
import { activityTrackerTopology, WINDOW_MS, type ActivityAlert, type ActivityEvent } from '../../examples/activity-tracker.js';

test('activity tracker: per-user 10-minute counts and one alert per window over the threshold', () => {
  const driver = new TopologyTestDriver(activityTrackerTopology(3), { 'default.dsl.store': 'in_memory' }, 0);
  try {
    const input = driver.createInputTopic('user-activity', Serdes.String(), Serdes.JSON<ActivityEvent>());
    const alerts = driver.createOutputTopic('activity-alerts', Serdes.String(), Serdes.JSON<ActivityAlert>());
    const at = (minute: number) => minute * 60_000;
    for (const m of [1, 2, 3]) input.pipeInput('ann', { type: 'click' }, at(m));
    input.pipeInput('bob', { type: 'view' }, at(4));
    assert.ok(alerts.isEmpty());
    input.pipeInput('ann', { type: 'click' }, at(5)); // 4th in [0, 10): over the threshold
    input.pipeInput('ann', { type: 'click' }, at(6)); // 5th: already alerted for this window
    input.pipeInput('ann', { type: 'click' }, at(10.5)); // next window; [0, 10) stays open until 11 (grace)
    input.pipeInput('ann', { type: 'click' }, at(9)); // late but within grace: 6th of [0, 10)
    assert.deepEqual(alerts.readValuesToList(), [{ user: 'ann', windowStart: 0, windowEnd: WINDOW_MS, count: 4 }]);
    const store = driver.getWindowStore<string, number>('activity-per-user')!;
    assert.equal(store.fetch('ann', 0), 6);
    assert.equal(store.fetch('ann', WINDOW_MS), 1);
    assert.equal(store.fetch('bob', 0), 1);
  } finally {
    driver.close();
  }
});
