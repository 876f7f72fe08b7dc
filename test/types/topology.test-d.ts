// Type tests of the topology DSL: compiled by `npm run typecheck`; each @ts-expect-error must be
// an error and every other line must compile. Nothing here runs.
import type { Processor, ProcessorSupplier } from '../../src/core/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import type { Stream } from '../../src/topology/index.ts';

interface Reading {
  station: string;
  ok: boolean;
  celsius: number;
}
interface Celsius {
  unit: 'C';
  degrees: number;
}
interface Fahrenheit {
  unit: 'F';
  degrees: number;
}
type Temperature = Celsius | Fahrenheit;

const isCelsius = (_key: string, value: Temperature): value is Celsius => value.unit === 'C';

const t = topology('types');
const readings: Stream<string, Reading> = t.stream('readings', {
  key: string(),
  value: json<Reading>(),
});
const temperatures = t.stream('temperatures', { key: string(), value: json<Temperature>() });

// Types flow end to end.
readings
  .filter((_key, value) => value.ok, { name: 'only-ok', onError: 'skip' })
  .mapValues((value) => value.celsius)
  .to('celsius', { key: string(), value: json<number>() });

// A sink whose value serde does not match the stream.
// @ts-expect-error the stream carries Reading, not number
readings.to('wrong-value', { key: string(), value: json<number>() });

// A sink whose key serde no longer matches after map changed the key type.
const byCelsius = readings.map((_key, value) => [value.celsius, value.station]);
byCelsius.to('by-celsius', { key: json<number>(), value: string() });
// @ts-expect-error map made the key a number
byCelsius.to('by-celsius-wrong', { key: string(), value: string() });

// @ts-expect-error map must return a [key, value] tuple
readings.map((key, value) => ({ key, value }));

// mapValues' result type is what flows downstream.
const celsius = readings.mapValues((value) => value.celsius);
celsius.filter((_key, value) => value > 0);
// @ts-expect-error the value is a number now, it has no station
celsius.mapValues((value) => value.station);
// @ts-expect-error a Stream<string, number> is not a Stream<string, Reading>
const notReadings: Stream<string, Reading> = celsius;
void notReadings;

// A type guard narrows filter's output.
const onlyCelsius = temperatures.filter(isCelsius);
onlyCelsius.to('celsius-only', { key: string(), value: json<Celsius>() });
onlyCelsius.mapValues((value) => value.unit satisfies 'C');
// @ts-expect-error a plain predicate does not narrow
temperatures.filter(() => true).to('not-narrowed', { key: string(), value: json<Celsius>() });

// branch narrows each branch by its own guard; a plain predicate keeps the type.
const [c, rest] = temperatures.branch([isCelsius, () => true], { name: 'split' });
c.to('branch-celsius', { key: string(), value: json<Celsius>() });
rest.to('branch-rest', { key: string(), value: json<Temperature>() });
// @ts-expect-error the default branch is not narrowed to Celsius
rest.to('branch-rest-wrong', { key: string(), value: json<Celsius>() });
const [inline] = temperatures.branch([(_key, value): value is Fahrenheit => value.unit === 'F']);
inline.mapValues((value) => value.unit satisfies 'F');
// @ts-expect-error a branch predicate gets the stream's key and value types
temperatures.branch([(_key: number, _value: Temperature) => true]);

// keyBy needs a key serde of the new key type.
const byStation = readings.keyBy((_key, value) => value.celsius, {
  name: 'by-celsius',
  key: json<number>(),
  value: json<Reading>(),
});
byStation.to('by-station', { key: json<number>(), value: json<Reading>() });
// @ts-expect-error the new key is a number, so a string key serde does not fit
readings.keyBy((_key, value) => value.celsius, { key: string(), value: json<Reading>() });
// @ts-expect-error keyBy keeps the value type, so its value serde must match it
readings.selectKey((_key, value) => value.station, { key: string(), value: json<number>() });
// @ts-expect-error keyBy repartitions, so the serdes are required
readings.keyBy((_key, value) => value.station);

// process: the supplier's output types flow on.
const lengths: ProcessorSupplier<string, Reading, string, number> = () => ({
  process(record, context) {
    context.forward({ ...record, value: record.value.station.length });
  },
});
const processed = readings.process(lengths);
processed.to('lengths', { key: string(), value: json<number>() });
// @ts-expect-error process made the value a number
processed.to('lengths-wrong', { key: string(), value: json<Reading>() });
const explicit = readings.process<number, string>(
  (): Processor<string, Reading, number, string> => ({
    process(record, context) {
      context.forward({ ...record, key: record.value.celsius, value: record.key });
    },
  }),
);
explicit.to('explicit', { key: json<number>(), value: string() });

// flatMap, peek and merge keep their types.
readings
  .flatMap((key, value) => [[key, value.celsius] as const])
  .peek((_key, value) => value satisfies number)
  .merge(celsius)
  .to('merged', { key: string(), value: json<number>() });
// @ts-expect-error merge needs the same key and value types
readings.merge(celsius);

// @ts-expect-error onError is one of fail | dlq | skip
readings.peek(() => undefined, { onError: 'retry' });

export const built = t.build();
