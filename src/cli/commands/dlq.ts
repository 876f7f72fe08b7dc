import { Command, InvalidArgumentError } from 'commander';

import {
  appIdRow,
  appSettings,
  deadLetterTopicOf,
  formatReplayReport,
  formatSummary,
  inspectDeadLetters,
  kafkaSettings,
  replayDeadLetters,
} from '../../app/index.ts';
import type { DeadLetterFilter } from '../../app/index.ts';
import { TributaryError } from '../../core/index.ts';
import type { SettingsSource } from '../../core/index.ts';
import { commandTopology } from '../load-topology.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

/** Kafka, and the application whose dead-letter topic it is. */
const groups = [kafkaSettings, appSettings];

/** `--code A --code B,C`: every value, in order, without blanks. */
function collect(value: string, previous: string[] | undefined): string[] {
  const values = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length === 0) throw new InvalidArgumentError('must not be empty');
  return [...(previous ?? []), ...values];
}

/** An ISO 8601 date-time or milliseconds since the epoch. */
export function timeBound(value: string): number {
  const trimmed = value.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(
      'must be an ISO 8601 date-time (2026-03-01T00:00:00Z) or milliseconds since the epoch',
    );
  return ms;
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be an integer of at least 0');
  return Number(value);
}

/** The filters of the command line. */
export function filterFrom(options: Record<string, unknown>): DeadLetterFilter {
  const list = (name: string): string[] | undefined => options[name] as string[] | undefined;
  const filter: DeadLetterFilter = {};
  const codes = list('code');
  const operators = list('operator');
  const reasons = list('reason');
  const sourceTopics = list('sourceTopic');
  if (codes !== undefined) filter.codes = codes;
  if (operators !== undefined) filter.operators = operators;
  if (reasons !== undefined) filter.reasons = reasons;
  if (sourceTopics !== undefined) filter.sourceTopics = sourceTopics;
  const from = options['from'] as number | undefined;
  const to = options['to'] as number | undefined;
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (from !== undefined && to !== undefined && from >= to)
    throw new TributaryError('CONFIG_INVALID', '--from must be before --to');
  return filter;
}

/** The arguments and options `inspect` and `replay` share. */
function common(command: Command): Command {
  command
    .argument(
      '[topology-file]',
      'a topology file: its application id names the dead-letter topic (TRIBUTARY_APP_ID overrides it)',
    )
    .option('--dlq-topic <name>', 'the dead-letter topic itself (default: <appId>-dlq)')
    .option('--code <codes>', 'only these error codes (repeat it, or separate by commas)', collect)
    .option('--operator <names>', 'only letters from these operators', collect)
    .option('--reason <reasons>', 'only these reasons: late, invalid, failed, refused', collect)
    .option('--source-topic <topics>', 'only letters read from these topics', collect)
    .option(
      '--from <time>',
      'only letters whose source timestamp is at or after this (ISO 8601 or ms)',
      timeBound,
    )
    .option('--to <time>', 'only letters whose source timestamp is before this', timeBound);
  command.option(
    '--app-id <value>',
    `the application; its dead-letter topic is <appId>-dlq [env ${appIdRow.env}]`,
  );
  return addSettingOptions(command, [kafkaSettings]);
}

async function deadLetterTopic(
  file: string | undefined,
  options: Record<string, unknown>,
  source: SettingsSource,
): Promise<string> {
  const named = options['dlqTopic'];
  if (typeof named === 'string' && named !== '') return named;
  if (file !== undefined) {
    const topology = await commandTopology(file, source);
    const dlq = topology.plan.internalTopics.find((t) => t.kind === 'dlq');
    return dlq?.name ?? deadLetterTopicOf(topology.appId);
  }
  const { appId } = source.read(appSettings);
  if (appId !== undefined) return deadLetterTopicOf(appId);
  throw new TributaryError(
    'CONFIG_INVALID',
    'dlq needs the application: --app-id <id> (or TRIBUTARY_APP_ID), a topology file, or --dlq-topic <name>',
  );
}

/** `tributary dlq inspect` and `tributary dlq replay`; returns every command to configure. */
export function dlqCommand(): Command {
  const dlq = new Command('dlq').description(
    "See and recover an application's dead letters (the topic <appId>-dlq).",
  );

  const inspect = common(
    new Command('inspect')
      .description(
        'Read the whole dead-letter topic (up to its end at the start) and print counts by error code, operator, reason and source topic, the time ranges, and samples per code.',
      )
      .option('--json', 'print one JSON document')
      .option('--samples <n>', 'samples per error code', count, 3),
  );
  inspect.action(
    async (file: string | undefined, options: Record<string, unknown>): Promise<void> => {
      const { source, settings } = commandSettings(options, groups);
      const filter = filterFrom(options);
      const topic = await deadLetterTopic(file, options, source);
      const summary = await inspectDeadLetters(settings.kafka, {
        topic,
        filter,
        samples: options['samples'] as number,
      });
      process.stdout.write(
        options['json'] === true ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary),
      );
    },
  );

  const replay = common(
    new Command('replay')
      .description(
        'Republish the selected dead letters to their source topic (or --to-topic) with their original key, value, headers and timestamp. Idempotent: a ledger topic <dlq>-replayed, written in the same transaction, makes every later replay skip what was republished.',
      )
      .option('--to-topic <topic>', 'republish to this topic instead (it must exist)')
      .option('--dry-run', 'read and count only; write nothing'),
  );
  replay.action(
    async (file: string | undefined, options: Record<string, unknown>): Promise<void> => {
      const { source, settings } = commandSettings(options, groups);
      const filter = filterFrom(options);
      const topic = await deadLetterTopic(file, options, source);
      const toTopic = options['toTopic'] as string | undefined;
      const report = await replayDeadLetters(settings.kafka, {
        topic,
        filter,
        dryRun: options['dryRun'] === true,
        ...(toTopic === undefined ? {} : { toTopic }),
      });
      process.stdout.write(formatReplayReport(report));
      const missingTargets = Object.values(report.targetMissing).reduce((a, b) => a + b, 0);
      if (report.notReplayable + missingTargets > 0) {
        process.stderr.write(
          `tributary: ${report.notReplayable + missingTargets} selected dead letters cannot be replayed (see above)\n`,
        );
        process.exitCode = 1;
      }
    },
  );

  dlq.addCommand(inspect);
  dlq.addCommand(replay);
  return dlq;
}
