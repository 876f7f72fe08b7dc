import { createInterface } from 'node:readline/promises';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import {
  createInternalTopics,
  createLogger,
  produceRecords,
  readings,
  resetApplication,
  runWorker,
  workerOptionsFrom,
} from '../app/index.ts';
import type { SettingGroup } from '../app/index.ts';
import { silentLogger, TributaryError } from '../core/index.ts';
import { describeJson, withAppId } from '../topology/index.ts';
import { loadTopology } from './load-topology.ts';
import { addSettingOptions, commandSettings, printableSettings } from './settings-options.ts';

/** Exit codes: 0 done, 1 failed, 2 bad usage or configuration (nothing was started). */
const usageErrors = new Set(['CONFIG_INVALID', 'TOPOLOGY_FILE_INVALID', 'TOPOLOGY_INVALID']);

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
      const topology = await loadTopology(file);
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
      let topology = await loadTopology(file);
      if (settings.appId !== undefined) topology = withAppId(topology, settings.appId);
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
      let topology = await loadTopology(file);
      if (settings.appId !== undefined) topology = withAppId(topology, settings.appId);
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
      const counts = await createInternalTopics(topology, settings.kafka, undefined, silentLogger);
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
      let topology = await loadTopology(file);
      if (settings.appId !== undefined) topology = withAppId(topology, settings.appId);
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
    .option('--rate <n>', 'records per second (0: as fast as possible)', integer('--rate', 0), 0)
    .option(
      '--partitions <n>',
      'partitions of the topic when it is created',
      integer('--partitions', 1),
      6,
    )
    .option('--malformed <fraction>', 'share of malformed records', fraction, 0)
    .option('--seed <n>', 'seed of the random sequence', integer('--seed', 0), 1);
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

  for (const command of [run, describe, topics, reset, produce]) root.addCommand(command);
  for (const command of [run, describe, topics, reset, produce, produceReadings])
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
