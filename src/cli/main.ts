import { createInterface } from 'node:readline/promises';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import {
  createInternalTopics,
  createLogger,
  produceRecords,
  readings,
  resetApplication,
  backfillWeather,
  parseLocations,
  pollWeather,
  produceSensors,
  produceWeather,
  registerTopologySchemas,
  runSensorSource,
  runWorker,
  topologyContext,
  workerOptionsFrom,
} from '../app/index.ts';
import type { SettingGroup, Settings } from '../app/index.ts';
import { silentLogger, TributaryError } from '../core/index.ts';
import { describeJson, withAppId } from '../topology/index.ts';
import type { Topology } from '../topology/index.ts';
import { dlqCommands } from './dlq-command.ts';
import { loadTopology } from './load-topology.ts';
import { addSettingOptions, commandSettings, printableSettings } from './settings-options.ts';

/** Exit codes: 0 done, 1 failed, 2 bad usage or configuration (nothing was started). */
const usageErrors = new Set([
  'CONFIG_INVALID',
  'TOPOLOGY_FILE_INVALID',
  'TOPOLOGY_INVALID',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'TOPIC_NOT_FOUND',
]);

const runGroups: SettingGroup[] = ['kafka', 'app', 'worker', 'metrics', 'registry', 'cassandra'];

function integer(name: string, min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
    return Number(value);
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function dateTime(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError('must be an ISO 8601 date-time, e.g. 2026-11-21T08:00:00Z');
  return ms;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new TributaryError(
      'CONFIG_INVALID',
      'reset asks for confirmation on a terminal; pass --yes to run it without one',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Loads a topology file, renamed to TRIBUTARY_APP_ID when that is set. */
async function loadWithAppId(file: string, settings: Settings): Promise<Topology> {
  const topology = await loadTopology(file, () => topologyContext(settings));
  return settings.appId === undefined ? topology : withAppId(topology, settings.appId);
}

/** The options every generator of `produce` takes. */
function generatorOptions(command: Command): void {
  command
    .option('--rate <n>', 'records per second (0: as fast as possible)', integer('--rate', 0), 0)
    .option(
      '--partitions <n>',
      'partitions of the topic when it is created',
      integer('--partitions', 1),
      6,
    )
    .option('--seed <n>', 'seed of the random sequence', integer('--seed', 0), 1);
}

export function program(): Command {
  const root = new Command('tributary')
    .description(
      'A Kafka-native stream processor for TypeScript: run, inspect and reset topologies.',
    )
    .showHelpAfterError()
    .exitOverride();

  const run = new Command('run')
    .description(
      'Run one worker of a topology until SIGTERM or SIGINT (then it commits and leaves the group).',
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .option('--print-config', 'print the effective configuration (secrets as ***) and exit');
  addSettingOptions(run, runGroups).action(
    async (file: string, options: Record<string, unknown>) => {
      const { raw, settings } = commandSettings(options);
      if (options['printConfig'] === true) {
        process.stdout.write(`${printableSettings(raw, runGroups)}\n`);
        return;
      }
      const topology = await loadTopology(file, () => topologyContext(settings));
      await runWorker(topology, workerOptionsFrom(settings));
    },
  );

  const describe = new Command('describe')
    .description("Print a topology's sub-topologies, operators and topics.")
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'mermaid', 'json'])
        .default('text'),
    );
  addSettingOptions(describe, ['app']).action(
    async (file: string, options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const topology = await loadWithAppId(file, settings);
      const format = options['format'];
      const out =
        format === 'json'
          ? JSON.stringify(describeJson(topology.plan), null, 2)
          : format === 'mermaid'
            ? topology.describe().mermaid
            : topology.describe().text;
      process.stdout.write(`${out}\n`);
    },
  );

  const topics = new Command('topics')
    .description(
      "Show a topology's topics; with --create, create its internal topics (repartition, dead letters, changelogs) as a worker would.",
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .option('--create', 'create the internal topics that do not exist');
  addSettingOptions(topics, ['kafka', 'app']).action(
    async (file: string, options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const topology = await loadWithAppId(file, settings);
      const { plan } = topology;
      if (options['create'] !== true) {
        process.stdout.write(
          [
            `source topics: ${plan.sourceTopics.join(', ')}`,
            `sink topics: ${plan.sinkTopics.join(', ')}`,
            ...plan.internalTopics.map((t) => `internal (${t.kind}): ${t.name}`),
          ].join('\n') + '\n',
        );
        return;
      }
      const counts = await createInternalTopics(
        topology,
        settings.kafka,
        undefined,
        silentLogger,
        settings.replicationFactor,
      );
      for (const t of plan.internalTopics)
        process.stdout.write(`${t.name} (${t.kind}): ${counts.get(t.name)} partitions\n`);
    },
  );

  const reset = new Command('reset')
    .description(
      "Reset an application as Kafka Streams' reset tool does: input offsets to the start (or a time), internal topics and local state deleted. Refuses while workers of the application are running.",
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .option(
      '--to-datetime <iso>',
      'move input offsets to the first record at or after this time',
      dateTime,
    )
    .option('--yes', 'do not ask for confirmation');
  addSettingOptions(reset, ['kafka', 'app']).action(
    async (file: string, options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const topology = await loadWithAppId(file, settings);
      const toTime = options['toDatetime'] as number | undefined;
      const target = toTime === undefined ? 'the earliest offsets' : new Date(toTime).toISOString();
      if (options['yes'] !== true) {
        const ok = await confirm(
          `Reset application ${topology.appId}: input offsets to ${target}, delete its internal topics and ${settings.stateDir}/${topology.appId}?`,
        );
        if (!ok) {
          process.stderr.write('reset: cancelled\n');
          process.exitCode = 1;
          return;
        }
      }
      const report = await resetApplication(topology, settings, {
        to: toTime === undefined ? 'earliest' : { timestamp: toTime },
      });
      for (const [topic, offsets] of report.offsets) {
        const list = [...offsets]
          .sort(([x], [y]) => x - y)
          .map(([p, o]) => `${p}:${o}`)
          .join(' ');
        process.stdout.write(`input ${topic}: offsets set to ${list}\n`);
      }
      process.stdout.write(
        `deleted topics: ${report.deletedTopics.length === 0 ? 'none' : report.deletedTopics.join(', ')}\n`,
      );
      process.stdout.write(`deleted local state: ${report.stateDir}\n`);
      process.stdout.write(`application ${report.appId} reset\n`);
    },
  );

  const schemas = new Command('schemas')
    .description(
      "Register the schemas of a topology's Avro topics (subjects <topic>-value and <topic>-key) and check their compatibility, as a worker does at start.",
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology');
  addSettingOptions(schemas, ['app', 'registry']).action(
    async (file: string, options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const topology = await loadTopology(file, () => topologyContext(settings));
      const topics = await registerTopologySchemas(topology);
      process.stdout.write(
        `schemas registered for ${topics.length === 0 ? 'no topic (no Avro serde)' : topics.join(', ')}\n`,
      );
    },
  );

  const source = new Command('source').description(
    'Run a source that publishes an external system into Kafka.',
  );
  const weatherSource = new Command('weather')
    .description(
      'Poll an Open-Meteo style API for hourly observations (or backfill a date range from its archive) and publish them, Avro-encoded and keyed by location.',
    )
    .requiredOption('--base-url <url>', 'the API, e.g. https://api.open-meteo.com')
    .option('--archive-base-url <url>', 'the archive API (default: --base-url)')
    .requiredOption('--locations <list>', "'id=lat,lon;id=lat,lon;...'")
    .option('--topic <name>', 'topic to write', 'weather-observations')
    .option('--progress-file <path>', 'where progress is kept', '.tributary-weather-progress.json')
    .option('--interval-ms <ms>', 'poll interval', integer('--interval-ms', 1000), 3_600_000)
    .option(
      '--rounds <n>',
      'stop after this many polls (default: until SIGTERM)',
      integer('--rounds', 1),
    )
    .option('--backfill-from <day>', 'backfill from this day (YYYY-MM-DD) instead of polling')
    .option('--backfill-to <day>', 'last day of the backfill (YYYY-MM-DD, before today)')
    .option(
      '--chunk-days <n>',
      'days per archive request; the backfill publishes one such chunk of all locations at a time, in event-time order',
      integer('--chunk-days', 1),
      7,
    );
  addSettingOptions(weatherSource, ['kafka', 'registry']).action(
    async (options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const abort = new AbortController();
      process.once('SIGTERM', () => abort.abort());
      process.once('SIGINT', () => abort.abort());
      const common = {
        baseUrl: options['baseUrl'] as string,
        ...(typeof options['archiveBaseUrl'] === 'string'
          ? { archiveBaseUrl: options['archiveBaseUrl'] }
          : {}),
        locations: parseLocations(options['locations'] as string, '--locations'),
        topic: options['topic'] as string,
        progressFile: options['progressFile'] as string,
        logger: createLogger({
          app: 'tributary-source',
          worker: 'weather',
          level: settings.logLevel,
        }),
        signal: abort.signal,
      };
      const from = options['backfillFrom'] as string | undefined;
      const to = options['backfillTo'] as string | undefined;
      if (from !== undefined || to !== undefined) {
        if (from === undefined || to === undefined)
          throw new TributaryError(
            'CONFIG_INVALID',
            '--backfill-from and --backfill-to go together',
          );
        const report = await backfillWeather(settings, {
          ...common,
          from,
          to,
          chunkDays: options['chunkDays'] as number,
        });
        process.stdout.write(
          `backfill: ${report.completed} chunks done, ${report.skipped} skipped, ${report.failed.length} failed, ${report.records} records\n`,
        );
        if (report.failed.length > 0 || report.notStarted > 0) process.exitCode = 1;
        return;
      }
      const rounds = options['rounds'] as number | undefined;
      const reports = await pollWeather(settings, {
        ...common,
        intervalMs: options['intervalMs'] as number,
        ...(rounds === undefined ? {} : { rounds }),
      });
      process.stdout.write(`poll: ${reports.length} rounds\n`);
    },
  );
  source.addCommand(weatherSource);

  const sensorSource = new Command('sensors')
    .description(
      'Bridge MQTT sensor readings into Kafka: QoS 1, each message acknowledged to the broker only after Kafka acknowledged it; malformed payloads to the dead-letter topic. Runs until SIGTERM.',
    )
    .option('--filter <filter...>', 'MQTT topic filters (the + level is the key)', [
      'sensors/+/data',
    ])
    .option('--topic <name>', 'Kafka topic to write', 'sensor-readings')
    .option('--dead-letter-topic <name>', 'Kafka topic for malformed payloads', 'sensors-dlq')
    .option(
      '--client-id <id>',
      'fixed MQTT client id (keeps the session)',
      'tributary-sensor-source',
    );
  addSettingOptions(sensorSource, ['kafka', 'mqtt']).action(
    async (options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const abort = new AbortController();
      process.once('SIGTERM', () => abort.abort());
      process.once('SIGINT', () => abort.abort());
      await runSensorSource(settings, {
        filters: options['filter'] as string[],
        topic: options['topic'] as string,
        deadLetterTopic: options['deadLetterTopic'] as string,
        clientId: options['clientId'] as string,
        logger: createLogger({
          app: 'tributary-source',
          worker: 'sensors',
          level: settings.logLevel,
        }),
        signal: abort.signal,
      });
    },
  );
  source.addCommand(sensorSource);

  const produce = new Command('produce').description(
    'Generate realistic input and publish it to Kafka.',
  );
  const produceReadings = new Command('readings')
    .description('Sensor readings as topologies/readings.ts reads them, keyed by sensor.')
    .option('--topic <name>', 'topic to write (created when missing)', 'readings')
    .option('--count <n>', 'number of records', integer('--count', 1), 10_000)
    .option('--sensors <n>', 'number of sensors', integer('--sensors', 1), 100)
    .option(
      '--interval-ms <ms>',
      "event time between one sensor's readings",
      integer('--interval-ms', 1),
      60_000,
    )
    .option(
      '--start <iso>',
      'event time of the first reading (default: so the last is now)',
      dateTime,
    )
    .option('--malformed <fraction>', 'share of malformed records', fraction, 0);
  generatorOptions(produceReadings);
  addSettingOptions(produceReadings, ['kafka']).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options);
    const count = options['count'] as number;
    const sensors = options['sensors'] as number;
    const intervalMs = options['intervalMs'] as number;
    const startMs =
      (options['start'] as number | undefined) ??
      Date.now() - Math.ceil(count / sensors) * intervalMs;
    const sent = await produceRecords(
      settings.kafka,
      readings({
        count,
        sensors,
        intervalMs,
        startMs,
        malformed: options['malformed'] as number,
        seed: options['seed'] as number,
      }),
      {
        topic: options['topic'] as string,
        rate: options['rate'] as number,
        partitions: options['partitions'] as number,
        logger: createLogger({ app: 'tributary-produce', worker: 'cli', level: 'warn' }),
      },
    );
    process.stdout.write(`produced ${sent} records to ${String(options['topic'])}\n`);
  });
  produce.addCommand(produceReadings);

  const weatherCommand = new Command('weather')
    .description(
      'Weather observations as topologies/weather.ts reads them (Avro, registered in the schema registry), keyed by location.',
    )
    .option('--topic <name>', 'topic to write (created when missing)', 'weather-observations')
    .option('--locations <n>', 'number of locations', integer('--locations', 1), 50)
    .option('--days <n>', 'days of observations', integer('--days', 1), 30)
    .option(
      '--interval-minutes <n>',
      'minutes between observations of a location',
      integer('--interval-minutes', 1),
      15,
    )
    .option(
      '--start <iso>',
      'time of the first observation (default: midnight UTC, --days days ago)',
      dateTime,
    )
    .option('--out-of-order <fraction>', 'share of observations delivered late', fraction, 0.02)
    .option('--malformed <fraction>', 'share of records that are garbage bytes', fraction, 0.001)
    .addOption(
      new Option(
        '--order <order>',
        'time: locations interleaved, time going forward; location: location after location, as an archive backfill is read',
      )
        .choices(['time', 'location'])
        .default('time'),
    );
  generatorOptions(weatherCommand);
  addSettingOptions(weatherCommand, ['kafka', 'registry']).action(
    async (options: Record<string, unknown>) => {
      const { settings } = commandSettings(options);
      const topic = options['topic'] as string;
      const days = options['days'] as number;
      const dayMs = 86_400_000;
      const startMs =
        (options['start'] as number | undefined) ??
        Math.floor(Date.now() / dayMs) * dayMs - days * dayMs;
      const { sent } = await produceWeather(settings, {
        topic,
        startMs,
        days,
        locations: options['locations'] as number,
        intervalMs: (options['intervalMinutes'] as number) * 60_000,
        outOfOrder: options['outOfOrder'] as number,
        malformed: options['malformed'] as number,
        seed: options['seed'] as number,
        rate: options['rate'] as number,
        partitions: options['partitions'] as number,
        order: options['order'] as 'time' | 'location',
      });
      process.stdout.write(`produced ${sent} records to ${topic}\n`);
    },
  );
  produce.addCommand(weatherCommand);

  const sensorsCommand = new Command('sensors')
    .description(
      'Simulated sensors publishing readings to the MQTT broker (some bad payloads, spikes, duplicates).',
    )
    .option('--sensors <n>', 'number of sensors', integer('--sensors', 1), 100)
    .option('--rate <n>', 'messages per second (live mode)', integer('--rate', 1), 50)
    .option(
      '--duration <seconds>',
      'how long (live: wall clock; with --history-start: simulated)',
      integer('--duration', 1),
    )
    .option('--count <n>', 'number of reading slots', integer('--count', 1))
    .option(
      '--history-start <iso>',
      'historical mode: time of the first reading (sent as fast as the broker takes them)',
      dateTime,
    )
    .option(
      '--interval-ms <ms>',
      "historical mode: time between one sensor's readings",
      integer('--interval-ms', 1),
      60_000,
    )
    .option('--bad-share <fraction>', 'share of bad payloads', fraction, 0.01)
    .option('--seed <n>', 'seed of the random sequence', integer('--seed', 0), 1);
  addSettingOptions(sensorsCommand, ['mqtt']).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options);
    const start = options['historyStart'] as number | undefined;
    const report = await produceSensors(settings, {
      sensors: options['sensors'] as number,
      ratePerSecond: options['rate'] as number,
      ...(options['duration'] === undefined
        ? {}
        : { durationSeconds: options['duration'] as number }),
      ...(options['count'] === undefined ? {} : { count: options['count'] as number }),
      ...(start === undefined
        ? {}
        : { history: { start, intervalMs: options['intervalMs'] as number } }),
      badShare: options['badShare'] as number,
      seed: options['seed'] as number,
      logger: createLogger({ app: 'tributary-produce', worker: 'sensors', level: 'warn' }),
    });
    process.stdout.write(
      `published ${report.sent} messages, ${report.acknowledged} acknowledged by the broker, ${report.unacknowledged} not\n`,
    );
    if (report.unacknowledged > 0) process.exitCode = 1;
  });
  produce.addCommand(sensorsCommand);

  const dlq = dlqCommands(loadWithAppId);

  for (const command of [run, describe, topics, schemas, reset, produce, source, dlq.dlq])
    root.addCommand(command);
  for (const command of [
    run,
    describe,
    topics,
    schemas,
    reset,
    produce,
    produceReadings,
    weatherCommand,
    source,
    weatherSource,
    sensorSource,
    sensorsCommand,
    ...dlq.all,
  ])
    command.exitOverride().showHelpAfterError();
  return root;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tributary: ${message}\n`);
    return error instanceof TributaryError && usageErrors.has(error.code) ? 2 : 1;
  }
}

const code = await main(process.argv);
// `run` keeps the process alive (its worker); every other command ends here.
if (code !== 0 || process.argv[2] !== 'run') process.exit(code);
