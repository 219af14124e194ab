/**
 * The activity tracker: per-user counts of events in 10-minute tumbling windows (1 minute of
 * grace for late events), kept in the queryable window store `activity-per-user`, and an alert on
 * `activity-alerts` the moment a user's count in a window goes over the threshold.
 *
 *   node packages/streams/dist/examples/activity-tracker.js --bootstrap-server localhost:9092 \
 *     [--threshold 100] [--input user-activity] [--alerts activity-alerts]
 */
import { parseArgs } from 'node:util';
import { Consumed, Grouped, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder, TimeWindows, type Topology } from '../src/index.js';

export interface ActivityEvent {
  type: string;
  page?: string;
}

export interface ActivityAlert {
  user: string;
  windowStart: number;
  windowEnd: number;
  count: number;
}

export const WINDOW_MS = 10 * 60_000;

export function activityTrackerTopology(threshold: number, input = 'user-activity', alerts = 'activity-alerts'): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.JSON<ActivityEvent>()))
    .groupByKey(Grouped.with(Serdes.String(), Serdes.JSON<ActivityEvent>()))
    .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, 60_000))
    .count(Materialized.as<string, number>('activity-per-user').withKeySerde(Serdes.String()))
    .toStream()
    // Exactly once per window: when the count first exceeds the threshold.
    .filter((_window, count) => count === threshold + 1)
    .map((window, count) => ({ key: window.key, value: { user: window.key, windowStart: window.window.start, windowEnd: window.window.end, count } as ActivityAlert }))
    .to(alerts, Produced.with(Serdes.String(), Serdes.JSON<ActivityAlert>()));
  return builder.build();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'bootstrap-server': { type: 'string' },
      'application-id': { type: 'string', default: 'activity-tracker' },
      threshold: { type: 'string', default: '100' },
      input: { type: 'string', default: 'user-activity' },
      alerts: { type: 'string', default: 'activity-alerts' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values['bootstrap-server']) {
    console.log('usage: activity-tracker --bootstrap-server HOST:PORT [--threshold N] [--input T] [--alerts T] [--application-id ID] [--state-dir DIR]');
    process.exit(values.help ? 0 : 2);
  }
  const streams = new KafkaStreams(activityTrackerTopology(Number(values.threshold), values.input, values.alerts), {
    'application.id': values['application-id'],
    'bootstrap.servers': values['bootstrap-server'],
    ...(values['state-dir'] ? { 'state.dir': values['state-dir'] } : {}),
  });
  streams.setStateListener((next) => console.error(`state: ${next}`));
  process.on('SIGINT', () => void streams.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void streams.close().then(() => process.exit(0)));
  await streams.start();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
