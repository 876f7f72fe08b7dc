/**
 * connectors/open-meteo: the weather source. An Open-Meteo client, a poll source that publishes
 * each (location, complete hour) once per progress file, and a backfill from the archive that
 * goes chunk by chunk across all locations (the replay server standing in for Open-Meteo in tests
 * and the demo is a tool: tools/open-meteo-replay). Both sources publish what they fetched together merged by
 * event time, so a partition carrying several locations receives a non-decreasing event time.
 *
 * @example
 *   const producer = createKafkaClient({ brokers, clientId }).recordProducer();
 *   await producer.connect();
 *   const source = createPollSource({
 *     locations: parseLocations('berlin=52.52,13.41;lisbon=38.72,-9.14'),
 *     intervalMs: 15 * 60_000,
 *     client: createOpenMeteoClient({ baseUrl: 'https://api.open-meteo.com' }),
 *     // serialize: Observation => Buffer, e.g. the Avro serde of schemas/observation.avsc
 *     publish: kafkaPublisher(producer, 'weather-observations', serialize),
 *     progress: await openProgressStore('/var/lib/tributary/weather-poll.json'),
 *   });
 *   source.start();
 *   // on SIGTERM: await source.stop(); await producer.disconnect();
 *
 *   // Tests and the demo: a deterministic Open-Meteo on loopback.
 *   const server = await startReplayServer(); // server.url, server.faults, server.close()
 */
export { backfillChunks, runBackfill } from './backfill.ts';
export type { BackfillOptions, BackfillReport, FailedChunk } from './backfill.ts';
export { HttpSourceError, httpErrorCodes, isRetriable } from './errors.ts';
export type { HttpErrorCode } from './errors.ts';
export { addDays, hoursToPublish, isCompleteHour, parseDay, utcDay } from './hours.ts';
export { kafkaPublisher } from './kafka-publisher.ts';
export type { KeyedRecordOut, RecordSender } from './kafka-publisher.ts';
export { hourlyVariables, parseLocations, validateLocations } from './observation.ts';
export type {
  HourlyVariable,
  Location,
  Observation,
  ObservationRecord,
  Publish,
} from './observation.ts';
export { createOpenMeteoClient } from './open-meteo-client.ts';
export type {
  ArchiveClient,
  DayRange,
  ForecastClient,
  ForecastRange,
  OpenMeteoClient,
  OpenMeteoClientOptions,
} from './open-meteo-client.ts';
export { observationsFrom, openMeteoResponseSchema } from './open-meteo-response.ts';
export type { OpenMeteoResponse } from './open-meteo-response.ts';
export { createPollSource } from './poll-source.ts';
export type {
  PollRoundReport,
  PollSource,
  PollSourceOptions,
  PollSourceState,
  PollSourceStats,
} from './poll-source.ts';
export { createProgressReporter, formatProgress } from './progress-reporter.ts';
export type { ProgressOutput, ProgressReporter } from './progress-reporter.ts';
export { chunkKey, openProgressStore } from './progress-store.ts';
export type { CompletedChunk, ProgressData, ProgressStore } from './progress-store.ts';
export { backoffDelay, defaultRetryPolicy, withRetries } from './retry.ts';
export type { RetryPolicy, Sleep } from './retry.ts';
export { weatherSchemaFiles } from './weather-types.ts';
export type { WeatherAggregate, WeatherDaily, WeatherHourly } from './weather-types.ts';
