import { createInterface } from 'node:readline/promises';

import { Command } from 'commander';

import { appSettings, kafkaSettings, resetApplication } from '../../app/index.ts';
import { TributaryError } from '../../core/index.ts';
import { commandTopology } from '../load-topology.ts';
import { dateTime } from '../parsers.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

const groups = [kafkaSettings, appSettings];

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

/** `tributary reset <topology-file>`. */
export function resetCommand(): Command {
  const command = new Command('reset')
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
  return addSettingOptions(command, groups).action(
    async (file: string, options: Record<string, unknown>) => {
      const { source, settings } = commandSettings(options, groups);
      const topology = await commandTopology(file, source);
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
}
