import {
  createOpenMeteoClient,
  createPollSource,
  kafkaPublisher,
  openProgressStore,
  runBackfill,
} from '../connectors/open-meteo/index.ts';
import type { BackfillReport, Location, PollRoundReport } from '../connectors/open-meteo/index.ts';
import type { Logger } from '../core/index.ts';
import { avro } from '../serde/index.ts';
import type { Settings } from './config.ts';
import { toolClient } from './operations.ts';
import { weatherSchemaFiles } from '../connectors/open-meteo/index.ts';
import type { Observation } from '../connectors/open-meteo/index.ts';

export interface WeatherSourceOptions {
  /** Open-Meteo style API: `https://api.open-meteo.com`, or a replay server's URL. */
  baseUrl: string;
  /** The archive API for backfills (Open-Meteo: `https://archive-api.open-meteo.com`). */
  archiveBaseUrl?: string;
  locations: Location[];
  topic: string;
  /** Where progress is kept (high-water marks, completed backfill chunks). */
  progressFile: string;
  logger: Logger;
  signal?: AbortSignal;
}

/** Connects what the HTTP connector needs: the Avro serde (registered), a producer, progress. */
async function connect(
  settings: Pick<Settings, 'kafka' | 'registry'>,
  options: WeatherSourceOptions,
) {
  const serde = avro<Observation>({
    registry: settings.registry,
    schema: weatherSchemaFiles.observation,
    compatibility: 'BACKWARD',
  });
  await serde.init?.(options.topic);
  const producer = toolClient(settings.kafka, 'tributary-weather-source').recordProducer();
  await producer.connect();
  const publish = kafkaPublisher(producer, options.topic, serde.serialize);
  const progress = await openProgressStore(options.progressFile);
  const client = createOpenMeteoClient({
    baseUrl: options.baseUrl,
    ...(options.archiveBaseUrl === undefined ? {} : { archiveBaseUrl: options.archiveBaseUrl }),
  });
  return { producer, publish, progress, client };
}

/**
 * Backfill: archive observations of every location for the days [from, to], chunk by chunk
 * across all locations, each chunk merged by event time; resumable through the progress file;
 * each (location, hour) is published once.
 */
export async function backfillWeather(
  settings: Pick<Settings, 'kafka' | 'registry'>,
  options: WeatherSourceOptions & {
    from: string;
    to: string;
    chunkDays?: number;
    progressOutput?: boolean;
  },
): Promise<BackfillReport> {
  const { producer, publish, progress, client } = await connect(settings, options);
  try {
    return await runBackfill({
      from: options.from,
      to: options.to,
      locations: options.locations,
      client,
      publish,
      progress,
      logger: options.logger,
      ...(options.chunkDays === undefined ? {} : { chunkDays: options.chunkDays }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.progressOutput === false ? { output: null } : {}),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Polling: every interval, the completed hours each location has not published yet. Runs
 * `rounds` rounds (then returns their reports), or until the signal aborts when rounds is absent.
 */
export async function pollWeather(
  settings: Pick<Settings, 'kafka' | 'registry'>,
  options: WeatherSourceOptions & { intervalMs: number; rounds?: number },
): Promise<PollRoundReport[]> {
  const { producer, publish, progress, client } = await connect(settings, options);
  const source = createPollSource({
    locations: options.locations,
    intervalMs: options.intervalMs,
    client,
    publish,
    progress,
    logger: options.logger,
  });
  const reports: PollRoundReport[] = [];
  try {
    if (options.rounds !== undefined) {
      for (let i = 0; i < options.rounds && options.signal?.aborted !== true; i++)
        reports.push(await source.pollOnce());
    } else {
      source.start();
      await new Promise<void>((resolve) => {
        if (options.signal === undefined || options.signal.aborted) return resolve();
        options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  } finally {
    await source.stop();
    await producer.disconnect();
  }
  return reports;
}
