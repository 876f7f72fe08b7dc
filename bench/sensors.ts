// The sensor workload: the shipped topologies/sensors.ts on ONE worker against the real broker and
// Cassandra, its input pre-loaded, measured from outside and checked for completeness.
//
//   npm run bench:sensors [-- --sensors 1000 --minutes 66 --guarantee at_least_once]
//
// Input: `sensors` sensors reading at 1 Hz of event time for `minutes` minutes from an hour
// boundary, time-ordered as a live fleet sends, with a few duplicates, a little disorder and a few
// faulty readings (bench/sensors-data.ts), pre-loaded with kcat into a 6-partition topic; each
// sensor's metadata (offset 0, unit C: the readings keep their values, so the oracle holds; a
// location) in the compacted metadata topic the topology joins, co-partitioned with it.
// Then one `tributary run topologies/sensors.ts` worker (node --max-semi-space-size=64, as the
// command's shebang runs it; default commit interval) processes it all. Figures:
// - readings/s: input readings / (last input offset committed - the worker's `assignment` log
//   line; its stores are empty, so that is when it starts taking records); CPU seconds over the
//   same span (from /proc) and per reading; peak RSS (VmHWM);
// - changelog bytes per input reading: every record of the application's store changelog topics
//   (`<appId>-*-changelog`) read back from Kafka after the run (read_committed), key + value
//   bytes, divided by the input readings; Kafka's own record and batch overhead is not in that
//   figure, and is shown beside it as the topics' size on the broker's disk (kafka LogDirsCommand,
//   from the jar `npm run bench` builds, when present);
// - completeness: the 1-minute windows on the minutely topic and the hourly rows and predictions in
//   Cassandra against an oracle computed from the input alone (sensors-data.ts): windows close by
//   each sensor's own time (time: 'key'), so the oracle counts the windows closed by that rule
//   (a sensor's last minute and, under 65 minutes, its hour stay open); every closed window must
//   be there once with the oracle's values, each hourly row with its sensor's location; flagged
//   readings counted; dead letters must be none.
// Exits 1 when anything is missing or wrong. Writes bench/results/sensors-<guarantee>-<minutes>min.json
// (or --out FILE). --keep leaves the topics and the Cassandra keyspace; --limit-s S bounds the run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import cassandra from 'cassandra-driver';

import { stackEndpoints } from '../infra/stack/config.ts';
import { createKafkaClient } from '../src/kafka/index.ts';
import { startMeasured } from './compare/measure.ts';
import { committedTotal, machine } from './kafka-load.ts';
import { compareWindows, fleet, fleetDefaults, fleetOracle, sensorName } from './sensors-data.ts';
import type { Stats } from './sensors-data.ts';

const repo = new URL('../', import.meta.url).pathname;
const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const sensors = Number(option('sensors', String(fleetDefaults.sensors)));
const minutes = Number(option('minutes', '66'));
const guarantee = option('guarantee', 'at_least_once');
const limitMs = Number(option('limit-s', '1800')) * 1000;
const keep = argv.includes('--keep');
const partitions = 6;
const fleetOptions = { ...fleetDefaults, sensors, minutes };
const endpoints = stackEndpoints();
const brokers = endpoints.kafkaBrokers.join(',');
const appId = `bench-sensors-${Date.now().toString(36)}`;
const keyspace = appId.replaceAll('-', '_');
const topics = {
  readings: `${appId}-readings`,
  metadata: `${appId}-metadata`,
  flagged: `${appId}-flagged`,
  minutely: `${appId}-minutely`,
  dlq: `${appId}-dlq`,
};
const jar = join(repo, 'bench/kafka-streams/target/tributary-bench-kafka-streams.jar');
const model = join(repo, 'models/sensor-model.json');
const say = (text: string): void => console.error(`bench:sensors: ${text}`);

/** Sensor k's metadata: no calibration (the oracle sees the readings as sent), a location. */
const metadataOf = (k: number) => ({
  sensorId: sensorName(k),
  calibrationOffset: 0,
  location: `zone-${k % 10}`,
  unit: 'C',
});

/** Runs a command to its end and returns its stdout. */
async function capture(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every committed record of a topic, formatted by kcat's -f. */
async function readTopic(topic: string, format: string): Promise<string[]> {
  const out = await capture('kcat', [
    ...['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format],
    ...['-X', 'isolation.level=read_committed'],
  ]);
  return out.split('\n').filter((l) => l.length > 0);
}

/** Pre-loads the fleet's readings, keyed by sensor, with kcat (Java's partitioner). */
async function preload(): Promise<void> {
  const args = ['-b', brokers, '-P', '-t', topics.readings, '-K', '\t', '-z', 'none'];
  for (const s of ['partitioner=murmur2_random', 'linger.ms=20', 'batch.num.messages=10000'])
    args.push('-X', s);
  const kcat = spawn('kcat', args, { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise<number | null>((resolveExit) => kcat.on('exit', resolveExit));
  let text = '';
  let lines = 0;
  for (const r of fleet(fleetOptions)) {
    text += `${r.sensorId}\t${JSON.stringify(r)}\n`;
    if (++lines % 10_000 !== 0) continue;
    if (!kcat.stdin.write(text)) await new Promise((r2) => kcat.stdin.once('drain', r2));
    text = '';
  }
  kcat.stdin.end(text);
  if ((await done) !== 0) throw new Error(`kcat failed to pre-load ${topics.readings}`);
}

/** The topics' size on the broker's disk (Kafka's record format), or undefined without the jar. */
async function diskBytes(names: string[]): Promise<number | undefined> {
  if (!existsSync(jar) || names.length === 0) return undefined;
  const out = await capture('java', [
    ...['-cp', jar, 'org.apache.kafka.tools.LogDirsCommand', '--bootstrap-server', brokers],
    ...['--describe', '--topic-list', names.join(',')],
  ]);
  const json = out.split('\n').find((l) => l.startsWith('{'));
  if (json === undefined) return undefined;
  const parsed = JSON.parse(json) as {
    brokers: { logDirs: { partitions: { partition: string; size: number }[] }[] }[];
  };
  return parsed.brokers
    .flatMap((b) => b.logDirs.flatMap((d) => d.partitions))
    .reduce((n, p) => n + p.size, 0);
}

interface ChangelogFigures {
  topic: string;
  records: number;
  tombstones: number;
  keyBytes: number;
  valueBytes: number;
}

async function changelog(topic: string): Promise<ChangelogFigures> {
  const figures = { topic, records: 0, tombstones: 0, keyBytes: 0, valueBytes: 0 };
  // %K and %S: key and value length in bytes (-1 for none: a tombstone's value).
  for (const line of await readTopic(topic, '%K %S\\n')) {
    const [k, v] = line.split(' ').map(Number) as [number, number];
    figures.records++;
    figures.keyBytes += Math.max(0, k);
    if (v < 0) figures.tombstones++;
    else figures.valueBytes += v;
  }
  return figures;
}

/** A minutely output record's value: Windowed<string, SensorStats>. */
interface MinutelyValue {
  key: string;
  start: number;
  value: Stats;
}

async function main(): Promise<void> {
  if (!existsSync(model)) {
    console.error(
      `bench:sensors: no model at ${model}; make one with: npm run train-model -- --kind logistic --out models/sensor-model.json`,
    );
    process.exit(2);
  }
  const began = Date.now();
  say(`computing the oracle of ${sensors} sensors x ${minutes} min at 1 Hz`);
  const expected = fleetOracle(fleet(fleetOptions));
  const total = expected.readings;
  const client = createKafkaClient({ brokers: endpoints.kafkaBrokers, clientId: appId });
  const admin = client.admin();
  await admin.connect();
  const cql = new cassandra.Client({
    contactPoints: [endpoints.cassandraContactPoint],
    localDataCenter: endpoints.cassandraDataCenter,
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-sensors-'));
  let exitCode: number;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [topics.readings, topics.flagged, topics.minutely].map((topic) => ({
        topic,
        numPartitions: partitions,
      })),
    });
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: topics.metadata,
          numPartitions: partitions,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    });
    const producer = client.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: topics.metadata,
      messages: [...Array(sensors).keys()].map((k) => ({
        key: sensorName(k),
        value: JSON.stringify(metadataOf(k)),
      })),
    });
    await producer.disconnect();
    say(`pre-loading ${total} readings into ${topics.readings}`);
    const loadStart = Date.now();
    await preload();
    say(`pre-loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);

    const worker = startMeasured(
      process.execPath,
      ['--max-semi-space-size=64', join(repo, 'bin/tributary.js'), 'run', 'topologies/sensors.ts'],
      {
        cwd: repo,
        env: {
          TRIBUTARY_BROKERS: brokers,
          TRIBUTARY_APP_ID: appId,
          TRIBUTARY_GUARANTEE: guarantee,
          TRIBUTARY_STATE_DIR: stateDir,
          TRIBUTARY_METRICS_PORT: '0',
          TRIBUTARY_LOG_LEVEL: 'info',
          TRIBUTARY_CASSANDRA_CONTACT_POINTS: endpoints.cassandraContactPoint,
          TRIBUTARY_CASSANDRA_LOCAL_DC: endpoints.cassandraDataCenter,
          SENSORS_READINGS_TOPIC: topics.readings,
          SENSORS_METADATA_TOPIC: topics.metadata,
          SENSORS_FLAGGED_TOPIC: topics.flagged,
          SENSORS_MINUTELY_TOPIC: topics.minutely,
          SENSORS_KEYSPACE: keyspace,
        },
        // The moment it owns its partitions (empty stores: nothing to restore).
        firstRecord: (line) => {
          if (!line.includes('"msg":"assignment"')) return undefined;
          const { time } = JSON.parse(line) as { time: string };
          return Date.parse(time);
        },
      },
    );
    const failedEarly = worker.exited.then((code) => {
      throw new Error(`the worker exited ${code} before the end:\n${worker.output().slice(-3000)}`);
    });
    failedEarly.catch(() => undefined);
    const deadline = Date.now() + limitMs;
    const assignedAt = await Promise.race([worker.firstRecord, failedEarly]);
    let done = 0;
    let lastSaid = Date.now();
    while (done < total) {
      if (Date.now() > deadline) throw new Error(`only ${done} of ${total} committed in time`);
      await Promise.race([sleep(200), failedEarly]);
      done = await committedTotal(admin, appId, topics.readings);
      if (Date.now() - lastSaid > 30_000) {
        lastSaid = Date.now();
        say(`${done} of ${total} committed`);
      }
    }
    const doneAt = Date.now();
    const figures = worker.figures();
    const workerExit = await worker.stop();
    const seconds = (doneAt - assignedAt) / 1000;
    const cpuSeconds = figures.cpuSeconds - (worker.cpuAtFirstRecord() ?? 0);
    say(`processed in ${seconds.toFixed(1)} s; checking the output`);

    // Completeness: minutely windows (Kafka) and hourly rows and predictions (Cassandra).
    const minutely = (await readTopic(topics.minutely, '%s\\n')).map((l) => {
      const w = JSON.parse(l) as MinutelyValue;
      return [`${w.key}@${w.start}`, w.value] as [string, Stats];
    });
    const hourlyRows = (
      await cql.execute(`SELECT * FROM ${keyspace}.sensor_hourly`, [], { fetchSize: 100_000 })
    ).rows;
    const wrongLocations = hourlyRows.filter((row) => {
      const id = row.get('sensor_id') as string;
      return row.get('location') !== metadataOf(Number(id.slice('sensor-'.length))).location;
    }).length;
    const hourly = hourlyRows.map((row): [string, Stats] => [
      `${row.get('sensor_id') as string}@${(row.get('window_start') as Date).getTime()}`,
      {
        count: row.get('count') as number,
        temperature: {
          mean: row.get('temperature_mean') as number,
          min: row.get('temperature_min') as number,
          max: row.get('temperature_max') as number,
        },
        humidity: {
          mean: row.get('humidity_mean') as number,
          min: row.get('humidity_min') as number,
          max: row.get('humidity_max') as number,
        },
      },
    ]);
    const predictions = (
      await cql.execute(`SELECT sensor_id, window_start FROM ${keyspace}.sensor_predictions`, [], {
        fetchSize: 100_000,
      })
    ).rows.map(
      (row) => `${row.get('sensor_id') as string}@${(row.get('window_start') as Date).getTime()}`,
    );
    const expectedHourly = expected.closed['hourly'] ?? new Map<string, Stats>();
    const expectedMinutely = expected.closed['minutely'] ?? new Map<string, Stats>();
    const predictionProblems = compareWindows(
      predictions.map((id) => [id, expectedHourly.get(id) as Stats]),
      expectedHourly,
    );
    const flagged = (await readTopic(topics.flagged, '%o\\n')).length;
    const existing = await admin.listTopics();
    const deadLetters = existing.includes(topics.dlq)
      ? (await readTopic(topics.dlq, '%o\\n')).length
      : 0;
    const checks = {
      minutely: {
        expected: expectedMinutely.size,
        emitted: minutely.length,
        problems: compareWindows(minutely, expectedMinutely),
      },
      hourly: {
        expected: expectedHourly.size,
        rows: hourly.length,
        problems: compareWindows(hourly, expectedHourly),
        wrongLocations,
      },
      predictions: {
        expected: expectedHourly.size,
        rows: predictions.length,
        problems: predictionProblems,
      },
      flagged: { expected: expected.flagged, records: flagged },
      deadLetters: { expected: 0, records: deadLetters },
    };
    const complete =
      checks.minutely.problems.length === 0 &&
      checks.hourly.problems.length === 0 &&
      wrongLocations === 0 &&
      checks.predictions.problems.length === 0 &&
      flagged === expected.flagged &&
      deadLetters === 0;

    // Changelog bytes: every record of the store changelogs, read back.
    const changelogTopics = existing
      .filter((t) => t.startsWith(`${appId}-`) && t.endsWith('-changelog'))
      .sort();
    const changelogs = await Promise.all(changelogTopics.map(changelog));
    const changelogBytes = changelogs.reduce((n, c) => n + c.keyBytes + c.valueBytes, 0);
    const onDisk = await diskBytes(changelogTopics);

    const report = {
      benchmark: 'sensor workload: topologies/sensors.ts, one worker (bench/sensors.ts)',
      date: new Date().toISOString(),
      commit: (await capture('git', ['rev-parse', '--short', 'HEAD'])).trim(),
      machine: machine(),
      setup: {
        sensors,
        minutes,
        guarantee,
        partitions,
        input: {
          readings: total,
          duplicates: expected.duplicates,
          flagged: expected.flagged,
          late: expected.late,
        },
        worker:
          'node --max-semi-space-size=64 bin/tributary.js run topologies/sensors.ts (default commit interval, 100 ms)',
        throughput: "readings / (last input offset committed - the worker's assignment)",
      },
      readingsPerSecond: Math.round(total / seconds),
      seconds: Math.round(seconds * 100) / 100,
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      cpuMicrosecondsPerReading: Math.round((cpuSeconds * 1e6) / total),
      peakRssMiB: figures.peakRssMiB,
      workerExit,
      changelog: {
        topics: changelogs,
        keyPlusValueBytes: changelogBytes,
        bytesPerReading: Math.round((changelogBytes / total) * 10) / 10,
        onDiskBytes: onDisk,
        onDiskBytesPerReading:
          onDisk === undefined ? undefined : Math.round((onDisk / total) * 10) / 10,
      },
      complete,
      checks,
      minutesOfTheWholeRun: Math.round((Date.now() - began) / 600) / 100,
    };
    const file = resolve(
      repo,
      option('out', `bench/results/sensors-${guarantee}-${minutes}min.json`),
    );
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      [
        `${total} readings (${sensors} sensors x ${minutes} min, ${expected.duplicates} duplicates), ${guarantee}, one worker:`,
        `  ${report.readingsPerSecond} readings/s, ${report.cpuSeconds} CPU s (${report.cpuMicrosecondsPerReading} us per reading), peak RSS ${report.peakRssMiB} MiB`,
        `  changelog: ${report.changelog.bytesPerReading} bytes per reading (key + value; ${changelogs.map((c) => `${c.topic.slice(appId.length + 1)} ${c.records} records`).join(', ')})${onDisk === undefined ? '' : `; on disk ${report.changelog.onDiskBytesPerReading}`}`,
        `  minutely windows ${minutely.length} of ${expectedMinutely.size} expected${problemsOf(checks.minutely.problems)}`,
        `  hourly rows ${hourly.length} of ${expectedHourly.size} expected${problemsOf(checks.hourly.problems)}${wrongLocations === 0 ? '' : `; ${wrongLocations} with a wrong location`}`,
        `  predictions ${predictions.length} of ${expectedHourly.size} expected${problemsOf(predictionProblems)}`,
        `  flagged ${flagged} of ${expected.flagged} expected; dead letters ${deadLetters} (expected 0)`,
        complete ? '  complete: every closed window once, equal to the oracle' : '  INCOMPLETE',
        `figures in ${file}`,
      ].join('\n'),
    );
    exitCode = complete ? 0 : 1;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    if (!keep) {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(appId));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 60_000 });
      await cql.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await cql.shutdown();
    await admin.disconnect();
  }
  process.exit(exitCode);
}

const problemsOf = (problems: string[]): string =>
  problems.length === 0 ? ', equal to the oracle' : `: ${problems.join('; ')}`;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
