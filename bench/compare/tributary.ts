// Tributary's implementation of the side-by-side workloads, a topology file for `tributary run`:
//
//   BENCH_WORKLOAD=w1|w2|w3 BENCH_INPUT=<topic> BENCH_OUTPUT=<topic> tributary run bench/compare/tributary.ts
//
// BENCH_TIME=key|partition (W2 only, default partition): which event time closes the windows,
// the task's (Kafka Streams' rule) or each sensor's own (workloads w2-eos-key and w2-alos-key).
//
// W1: parse, keep status "ok" and -40..85 degrees, map to {sensor, ts, temperatureF, humidity}.
// W2: per sensor, hourly tumbling windows without grace on the record timestamp: count, sum, min
// and max of the temperature, final results only.
// W3: BENCH_TABLE=<metadata topic>: each reading joined with its sensor's metadata row (a table of
// the compacted topic): temperature + calibrationOffset, plus location. Prints `FIRST_RECORD <epoch ms>` on its first
// record, as every implementation of the benchmark does.
import { json, string } from '../../src/serde/index.ts';
import { hours, summary, topology, tumbling } from '../../src/topology/index.ts';
import type { Stream } from '../../src/topology/index.ts';
import { keepW1, mapW1 } from './data.ts';
import type { Reading, W1Output, W2Output } from './data.ts';
import { enrich } from './w3-data.ts';
import type { Meta, W3Output, W3Reading } from './w3-data.ts';

const required = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench: ${name} is not set`);
  return value;
};

const workload = required('BENCH_WORKLOAD');
const time = process.env['BENCH_TIME'] || 'partition';
if (time !== 'key' && time !== 'partition')
  throw new Error(`bench: BENCH_TIME must be key or partition, got ${time}`);
let first = true;
const announce = (): void => {
  if (!first) return;
  first = false;
  process.stdout.write(`FIRST_RECORD ${Date.now()}\n`);
};

const t = topology('bench');

if (workload === 'w3') {
  // (1) the table first: the worker restores it from its topic before the task's first record.
  const meta = t.table(
    required('BENCH_TABLE'),
    { key: string(), value: json<Meta>() },
    { store: 'w3-meta' },
  );
  // (2) the readings, joined as the brief's topology reads: enrich is ({...r, temperature +
  // calibrationOffset, location}), shared with the oracle's check.
  t.stream(
    required('BENCH_INPUT'),
    { key: string(), value: json<W3Reading>() },
    { name: 'readings' },
  )
    .peek(announce, { name: 'first-record' })
    .join(meta, enrich, { name: 'w3-join' })
    .to(required('BENCH_OUTPUT'), { key: string(), value: json<W3Output>() }, { name: 'out' });
}

/** W1 and W2's input (W3 reads its own shape of reading). */
const readings = (): Stream<string, Reading> =>
  t
    .stream(
      required('BENCH_INPUT'),
      { key: string(), value: json<Reading>() },
      { name: 'readings' },
    )
    .peek(announce, { name: 'first-record' });

if (workload === 'w1') {
  readings()
    .filter((_, r) => keepW1(r), { name: 'keep' })
    .mapValues(mapW1, { name: 'fahrenheit' })
    .to(required('BENCH_OUTPUT'), { key: string(), value: json<W1Output>() }, { name: 'out' });
} else if (workload === 'w2') {
  readings()
    .groupByKey()
    .windowedBy(tumbling(hours(1)))
    .aggregate(
      summary((r: Reading) => r.temperature),
      { store: 'hourly', name: 'hourly', time },
    )
    .mapValues(
      (w): W2Output => ({
        sensor: w.key,
        start: w.start,
        end: w.end,
        count: w.value.count,
        sum: w.value.sum,
        min: w.value.min,
        max: w.value.max,
      }),
      { name: 'shape' },
    )
    .to(required('BENCH_OUTPUT'), { key: string(), value: json<W2Output>() }, { name: 'out' });
} else if (workload !== 'w3') {
  throw new Error(`bench: BENCH_WORKLOAD must be w1, w2 or w3, got ${workload}`);
}

export default t.build();
