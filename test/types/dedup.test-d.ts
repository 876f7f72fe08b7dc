// Type tests of the dedup step, compiled by `npm run typecheck`: each line marked as an
// expected error must be one, and every other line must compile. Nothing here runs.
import type { DedupSpec } from '../../src/operators/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { hours, minutes, topology, tumbling } from '../../src/topology/index.ts';
import type { DedupNode, DedupOptions, Stream } from '../../src/topology/index.ts';

interface Reading {
  station: string;
  celsius: number;
  time: number;
  messageId: string;
}

const t = topology('types-dedup');
const readings = t.stream(
  'readings',
  { key: string(), value: json<Reading>() },
  { timestamp: 'time' },
);

// dedup keeps the key and value types, so grouping and windows follow as on any stream.
const once: Stream<string, Reading> = readings.dedup({
  store: 'seen',
  retentionMs: hours(1) + minutes(5),
});
once
  .groupByKey()
  .windowedBy(tumbling(hours(1), { grace: minutes(5) }))
  .count({ store: 'hourly-counts' })
  .to('hourly-counts', { key: string(), value: json() });
// An id of its own: a string or a number from the value (and key).
readings.dedup({ store: 'seen-ids', retentionMs: 60_000, id: (r) => r.messageId });
readings.dedup({ store: 'seen-keyed', retentionMs: 60_000, id: (r, key) => `${key}:${r.time}` });
readings.dedup({ store: 'seen-numbers', name: 'by-time', retentionMs: 1, id: (r) => r.time });
const options: DedupOptions<string, Reading> = { store: 'seen-typed', retentionMs: 1000 };
readings.dedup(options);

// @ts-expect-error the store name is required: it names the changelog topic
readings.dedup({ retentionMs: 1000 });
// @ts-expect-error the retention is required: the store must forget
readings.dedup({ store: 'no-retention' });
// @ts-expect-error an id is a string or a number
readings.dedup({ store: 'object-id', retentionMs: 1000, id: (r) => r });
// @ts-expect-error the id function gets the value first
readings.dedup({ store: 'wrong-order', retentionMs: 1000, id: (key: number) => key });
// @ts-expect-error dedup keeps the value type
const wrong: Stream<string, number> = readings.dedup({ store: 'kept', retentionMs: 1000 });
void wrong;

// The runtime passes the plan's dedup node to the operator: it must fit the operator's spec.
declare const node: DedupNode;
const spec: DedupSpec = node;
void spec;

export const built = t.build();
