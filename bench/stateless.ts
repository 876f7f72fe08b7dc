// Stateless pipeline benchmark: JSON parse, filter, map, produce, over 1,000,000 pre-loaded
// 200-byte records on 12 partitions, one worker. Needs the local stack (npm run stack -- up).
//
//   npm run bench:stateless [-- --records N]
//
// Writes bench/results/stateless.json: records per second from the worker's first assignment
// until its committed offsets reach the end of every input partition, and peak RSS.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackEndpoints } from '../infra/stack/config.ts';
import { startWorker } from '../src/app/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { json, string } from '../src/serde/index.ts';
import { topology } from '../src/topology/index.ts';
import { committedTotal, machine, preloadWithKcat } from './kafka-load.ts';

interface Reading {
  sensor: string;
  seq: number;
  celsius: number;
  pad: string;
}

const argIndex = process.argv.indexOf('--records');
const total = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 1_000_000;
const partitions = 12;
const recordBytes = 200;
const { kafkaBrokers } = stackEndpoints();
const run = `bench-stateless-${Date.now().toString(36)}`;
const input = `${run}-in`;
const output = `${run}-out`;
const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'tributary-bench' });

function value(seq: number): string {
  const base = {
    sensor: `sensor-${String(seq % 1000).padStart(4, '0')}`,
    seq,
    celsius: (seq % 600) / 10 - 20,
    pad: '',
  };
  const length = JSON.stringify(base).length;
  return JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, recordBytes - length)) });
}

/** Pre-loads the input with kcat (librdkafka), which is not what is measured. */
function preload(): Promise<void> {
  return preloadWithKcat(
    kafkaBrokers,
    input,
    total,
    (seq) => `sensor-${seq % 1000}\t${value(seq)}`,
  );
}

async function endOffsets(admin: ReturnType<typeof client.admin>): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(input);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

function committed(admin: ReturnType<typeof client.admin>, groupId: string): Promise<number> {
  return committedTotal(admin, groupId, input);
}

async function main(): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: partitions },
      { topic: output, numPartitions: partitions },
    ],
  });
  const loadStart = Date.now();
  await preload();
  const loaded = await endOffsets(admin);
  console.log(`pre-loaded ${loaded} records in ${((Date.now() - loadStart) / 1000).toFixed(1)}s`);
  if (loaded !== total) throw new Error(`expected ${total} records, the topic has ${loaded}`);

  const t = topology(run);
  t.stream(input, { key: string(), value: json<Reading>() }, { name: 'readings' })
    .filter((_key, r) => r.seq % 10 !== 0, { name: 'drop-tenth' })
    .mapValues((r) => ({ sensor: r.sensor, seq: r.seq, fahrenheit: r.celsius * 1.8 + 32 }), {
      name: 'to-fahrenheit',
    })
    .to(output, {
      key: string(),
      value: json<{ sensor: string; seq: number; fahrenheit: number }>(),
    });

  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const worker = await startWorker(t.build(), {
    brokers: kafkaBrokers,
    workerId: 'bench',
    logger: silentLogger,
  });
  await worker.runtime.assigned;
  const assignedAt = Date.now();
  let peakRss = process.memoryUsage().rss;
  let done = 0;
  while (done < total) {
    await sleep(250);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    done = await committed(admin, run);
    if (Date.now() - assignedAt > 15 * 60_000)
      throw new Error(`only ${done} of ${total} committed after 15 minutes`);
  }
  const finishedAt = Date.now();
  const stats = worker.runtime.stats().totals;
  await worker.stop();
  await admin.deleteTopics({ topics: [input, output, `${run}-dlq`] });
  await admin.disconnect();

  const seconds = (finishedAt - assignedAt) / 1000;
  const result = {
    benchmark: 'stateless pipeline: JSON parse, filter (drops 10%), mapValues, produce JSON',
    date: new Date().toISOString(),
    machine: machine(),
    setup: {
      records: total,
      recordBytes,
      partitions,
      workers: 1,
      concurrency: 3,
      guarantee: 'at_least_once',
      commit: 'after every fetched batch, after its outputs are acknowledged',
    },
    results: {
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(total / seconds),
      processed: stats.processed,
      produced: stats.produced,
      startToAssignedSeconds: Number(((assignedAt - started) / 1000).toFixed(2)),
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
  };
  writeFileSync(
    new URL('./results/stateless.json', import.meta.url),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(JSON.stringify(result.results, null, 2));
}

await main();
process.exit(0);
