/**
 * app: wiring. Turns a topology and settings into a running worker: Kafka client, runtime,
 * logger; handles signals.
 *
 * @example
 *   await runWorker(topology, { brokers: ['127.0.0.1:9092'] });
 */
export { createLogger } from './logger.ts';
export type { LoggerOptions } from './logger.ts';
export { runWorker, startWorker } from './worker.ts';
export type { Worker, WorkerOptions } from './worker.ts';
export {
  allSettingGroups,
  appIdRow,
  appSettings,
  kafkaSettings,
  loadSettings,
  logSettings,
  metricsSettings,
  secretsOf,
  workerSettings,
} from './config.ts';
export type {
  AppSettings,
  CassandraSettings,
  KafkaSettings,
  LogLevel,
  MqttSettings,
  RegistrySettings,
  Settings,
  WorkerSettings,
} from './config.ts';
// The connectors' own groups, so the CLI (which imports app, not connectors) can list them.
export { cassandraSettings } from '../connectors/cassandra/index.ts';
export { mqttSettings } from '../connectors/mqtt/index.ts';
export { registrySettings } from '../serde/index.ts';
export {
  createInternalTopics,
  registerTopologySchemas,
  resetApplication,
  toolClient,
  workerOptionsFrom,
} from './operations.ts';
export type { ResetOptions, ResetReport } from './operations.ts';
export { topologyContext } from './topology-context.ts';
export type { TopologyContext } from './topology-context.ts';
export { backfillWeather, pollWeather } from './weather-source.ts';
export type { WeatherSourceOptions } from './weather-source.ts';
export { parseLocations } from '../connectors/open-meteo/index.ts';
export { runSensorSource } from './sensor-source.ts';
export type { SensorSourceOptions } from './sensor-source.ts';
export { deadLetterTopicOf, inspectDeadLetters } from './dlq-inspect.ts';
export type { InspectOptions } from './dlq-inspect.ts';
export { describeFilter, formatReplayReport, formatSummary } from './dlq-format.ts';
export { matches, readDeadLetter, replayHeader, replayRecord } from './dlq-letter.ts';
export type { DeadLetter, DeadLetterFilter } from './dlq-letter.ts';
export { ledgerTopicOf, replayDeadLetters } from './dlq-replay.ts';
export type { ReplayOptions, ReplayReport } from './dlq-replay.ts';
export { preview, SummaryBuilder } from './dlq-summary.ts';
export type { DeadLetterSample, DeadLetterSummary } from './dlq-summary.ts';
