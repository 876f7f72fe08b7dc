// Type tests of the Processor API, compiled by `npm run typecheck`: each line marked as an
// expected error must be one, and every other line must compile. Nothing here runs.
import type {
  KeyValueStore,
  Processor,
  ProcessorContext,
  Timer,
  WindowedEntry,
  WindowStore,
} from '../../src/core/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { keyValueStore, topology, windowStore } from '../../src/topology/index.ts';
import type { Stream } from '../../src/topology/index.ts';

interface Reading {
  device: string;
  celsius: number;
}
interface Stats {
  count: number;
  sum: number;
}

const stats = keyValueStore('stats', { key: string(), value: json<Stats>() });
const minutes = windowStore('minutes', { key: string(), value: json<number>() });

const t = topology('types-processor');
const readings = t.stream('readings', { key: string(), value: json<Reading>() });

const averaged: Stream<string, number> = readings.process<string, number>(
  () => ({
    process(record, context) {
      // Store handles are typed by their definitions.
      const kv: KeyValueStore<string, Stats> = context.getStore(stats);
      const windows: WindowStore<string, number> = context.getStore(minutes);
      const current: Stats | undefined = kv.get(record.key);
      const next = {
        count: (current?.count ?? 0) + 1,
        sum: (current?.sum ?? 0) + record.value.celsius,
      };
      kv.put(record.key, next);
      windows.put(record.key, record.timestamp, next.count);
      for (const { key, value } of kv.range('a', 'z')) {
        const k: string = key;
        const v: Stats = value;
        void k;
        void v;
      }
      for (const entry of windows.fetch(record.key, 0, record.timestamp)) {
        const e: WindowedEntry<string, number> = entry;
        void e;
      }
      context.timers.schedule('event', record.timestamp + 60_000, record.key);
      context.timers.schedule('wall', context.clock.now() + 1000);
      context.forward({ ...record, value: next.sum / next.count });

      // @ts-expect-error the store holds Stats, not numbers
      kv.put(record.key, 42);
      // @ts-expect-error keys are strings
      kv.get(7);
      // @ts-expect-error a window store's value is a number
      windows.put(record.key, 0, { count: 1 });
      // @ts-expect-error a window store is read by key and window start
      windows.get(record.key);
      // @ts-expect-error a timer is 'event' or 'wall'
      context.timers.schedule('processing', 1);
      // @ts-expect-error timer keys are strings
      context.timers.schedule('event', 1, 3);
      // @ts-expect-error the processor forwards numbers
      context.forward({ ...record, value: 'x' });
    },
    onTimer(timer: Timer, context: ProcessorContext<string, number>) {
      const key: string = timer.key;
      const kind: 'event' | 'wall' = timer.kind;
      context.forward({ key, value: timer.time, timestamp: timer.time, headers: {} });
      void kind;
    },
  }),
  { name: 'averages', stores: [stats, minutes], timers: 'averages-timers' },
);
void averaged;

// A processor typed on its own, as a library would ship it.
const typed: Processor<string, Reading, string, Reading> = {
  process(record, context) {
    // By name the caller says what the store is (as in Kafka Streams).
    const byName = context.getStore<KeyValueStore<string, Stats>>('stats');
    byName.delete(record.key);
    context.forward(record);
  },
};
readings.process(() => typed, { name: 'typed', stores: [stats] });

// @ts-expect-error stores are declared with keyValueStore() or windowStore()
readings.process(() => typed, { name: 'bad-store', stores: ['stats'] });
// @ts-expect-error the timer store is named by a string
readings.process(() => typed, { name: 'bad-timers', timers: true });
// @ts-expect-error a store's serdes must match its declared types
keyValueStore<string, number>('wrong', { key: string(), value: json<Stats>() });

export const built = t.build();
