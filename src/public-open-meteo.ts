/**
 * `tributary/connectors/open-meteo`: the weather source. An Open-Meteo client, a poll source that
 * publishes each (location, complete hour) once, and a backfill from the archive (docs/api.md).
 * The replay server and weather model that stand in for Open-Meteo in tests and the demo are
 * tools, not part of this.
 *
 * @example
 *   import { createOpenMeteoClient, createPollSource, kafkaPublisher, openProgressStore,
 *     parseLocations } from 'tributary/connectors/open-meteo';
 *
 *   const source = createPollSource({
 *     locations: parseLocations('berlin=52.52,13.41;lisbon=38.72,-9.14'),
 *     intervalMs: 15 * 60_000,
 *     client: createOpenMeteoClient({ baseUrl: 'https://api.open-meteo.com' }),
 *     publish: kafkaPublisher(producer, 'weather-observations', serialize),
 *     progress: await openProgressStore('/var/lib/tributary/weather-poll.json'),
 *   });
 *   source.start();
 */
// The folder is src/connectors/http until it is renamed to src/connectors/open-meteo (issue 14).
export { createOpenMeteoClient } from './connectors/http/index.ts';
export type {
  ArchiveClient,
  DayRange,
  ForecastClient,
  ForecastRange,
  OpenMeteoClient,
  OpenMeteoClientOptions,
} from './connectors/http/index.ts';
export { createPollSource } from './connectors/http/index.ts';
export type {
  PollRoundReport,
  PollSource,
  PollSourceOptions,
  PollSourceState,
  PollSourceStats,
} from './connectors/http/index.ts';
export { runBackfill } from './connectors/http/index.ts';
export type { BackfillOptions, BackfillReport, FailedChunk } from './connectors/http/index.ts';
export { kafkaPublisher } from './connectors/http/index.ts';
export type { KeyedRecordOut, RecordSender } from './connectors/http/index.ts';
export { openProgressStore } from './connectors/http/index.ts';
export type { ProgressStore } from './connectors/http/index.ts';
export { hourlyVariables, parseLocations } from './connectors/http/index.ts';
export type {
  HourlyVariable,
  Location,
  Observation,
  ObservationRecord,
  Publish,
} from './connectors/http/index.ts';
export { HttpSourceError, httpErrorCodes } from './connectors/http/index.ts';
export type { HttpErrorCode } from './connectors/http/index.ts';
