import { Command } from 'commander';

import {
  backfillWeather,
  createLogger,
  kafkaSettings,
  logSettings,
  parseLocations,
  pollWeather,
  registrySettings,
} from '../../app/index.ts';
import { TributaryError } from '../../core/index.ts';
import { integer } from '../parsers.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

const groups = [kafkaSettings, registrySettings, logSettings];

/** `tributary source weather`. */
export function sourceWeatherCommand(): Command {
  const command = new Command('weather')
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
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
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
        throw new TributaryError('CONFIG_INVALID', '--backfill-from and --backfill-to go together');
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
  });
}
