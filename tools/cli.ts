// The tools' command line, apart from the product's `tributary` command: load generators for
// demos, tests and benchmarks. Run it as `npm run produce -- readings|weather|sensors ...`
// (or `node --import tsx tools/cli.ts produce ...`).
import { Command, Option } from 'commander';

import { createLogger, kafkaSettings, mqttSettings, registrySettings } from '../src/app/index.ts';
import { runProgram, withUsageErrors } from '../src/cli/exit.ts';
import { dateTime, fraction, integer } from '../src/cli/parsers.ts';
import { addSettingOptions, commandSettings } from '../src/cli/settings-options.ts';
import { produceRecords, produceWeather, readings } from './generators/index.ts';
import { produceSensors, recalibrated, sensorMetadata } from './mqtt-sensors/index.ts';

/** The options every Kafka generator of `produce` takes. */
function generatorOptions(command: Command): Command {
  return command
    .option('--rate <n>', 'records per second (0: as fast as possible)', integer('--rate', 0), 0)
    .option(
      '--partitions <n>',
      'partitions of the topic when it is created',
      integer('--partitions', 1),
      6,
    )
    .option('--seed <n>', 'seed of the random sequence', integer('--seed', 0), 1);
}

function produceReadingsCommand(): Command {
  const groups = [kafkaSettings];
  const command = new Command('readings')
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
  generatorOptions(command);
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
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
}

function produceWeatherCommand(): Command {
  const groups = [kafkaSettings, registrySettings];
  const command = new Command('weather')
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
  generatorOptions(command);
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
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
  });
}

function produceSensorsCommand(): Command {
  const groups = [mqttSettings];
  const command = new Command('sensors')
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
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
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
}

function produceSensorMetadataCommand(): Command {
  const groups = [kafkaSettings];
  const command = new Command('sensor-metadata')
    .description(
      "The sensors' metadata (calibration offset, location, unit) to the compacted topic topologies/sensors.ts joins; --recalibrate publishes a new offset for every third sensor.",
    )
    .option('--topic <name>', 'topic to write (created compacted when missing)', 'sensor-metadata')
    .option('--sensors <n>', 'number of sensors', integer('--sensors', 1), 100)
    .option('--recalibrate', 'publish a recalibration of every third sensor', false);
  generatorOptions(command);
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
    const initial = sensorMetadata(options['sensors'] as number, options['seed'] as number);
    const metadata = options['recalibrate'] === true ? recalibrated(initial) : initial;
    const topic = options['topic'] as string;
    const now = Date.now();
    const sent = await produceRecords(
      settings.kafka,
      metadata.map((m) => ({ key: m.sensorId, value: JSON.stringify(m), timestamp: now })),
      {
        topic,
        rate: options['rate'] as number,
        partitions: options['partitions'] as number,
        config: { 'cleanup.policy': 'compact' },
        logger: createLogger({ app: 'tributary-produce', worker: 'cli', level: 'warn' }),
      },
    );
    process.stdout.write(`produced ${sent} sensor metadata records to ${topic}\n`);
  });
}

export function toolsProgram(): Command {
  const produce = new Command('produce')
    .description('Generate realistic input and publish it to Kafka (or, for sensors, MQTT).')
    .addCommand(produceReadingsCommand())
    .addCommand(produceWeatherCommand())
    .addCommand(produceSensorsCommand())
    .addCommand(produceSensorMetadataCommand());
  const root = new Command('tributary-tools')
    .description("Tributary's demo and test tools (not part of the package).")
    .addCommand(produce);
  return withUsageErrors(root);
}

process.exit(await runProgram(toolsProgram(), process.argv));
