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
export { createOpenMeteoClient } from './connectors/open-meteo/index.ts';
export type {
  ArchiveClient,
  DayRange,
  ForecastClient,
  ForecastRange,
  OpenMeteoClient,
  OpenMeteoClientOptions,
} from './connectors/open-meteo/index.ts';
export { createPollSource } from './connectors/open-meteo/index.ts';
export type {
  PollRoundReport,
  PollSource,
  PollSourceOptions,
  PollSourceState,
  PollSourceStats,
} from './connectors/open-meteo/index.ts';
export { runBackfill } from './connectors/open-meteo/index.ts';
export type {
  BackfillOptions,
  BackfillReport,
  FailedChunk,
} from './connectors/open-meteo/index.ts';
export { kafkaPublisher } from './connectors/open-meteo/index.ts';
export type { KeyedRecordOut, RecordSender } from './connectors/open-meteo/index.ts';
export { openProgressStore } from './connectors/open-meteo/index.ts';
export type { ProgressStore } from './connectors/open-meteo/index.ts';
export { hourlyVariables, parseLocations } from './connectors/open-meteo/index.ts';
export type {
  HourlyVariable,
  Location,
  Observation,
  ObservationRecord,
  Publish,
} from './connectors/open-meteo/index.ts';
export { HttpSourceError, httpErrorCodes } from './connectors/open-meteo/index.ts';
// The Avro schemas of the observations this source publishes (schemas/ ships in the package) and
// of the hourly and daily aggregates the weather pipeline derives from them.
export { weatherSchemaFiles } from './connectors/open-meteo/index.ts';
export type {
  WeatherAggregate,
  WeatherDaily,
  WeatherHourly,
} from './connectors/open-meteo/index.ts';
export type { HttpErrorCode } from './connectors/open-meteo/index.ts';
