import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { cassandraSettings } from '../connectors/cassandra/index.ts';
import type { CassandraConnection } from '../connectors/cassandra/index.ts';
import { mqttSettings } from '../connectors/mqtt/index.ts';
import type { MqttConnection } from '../connectors/mqtt/index.ts';
import { rawSettings, resolveSettings } from '../core/index.ts';
import type { SettingGroup } from '../core/index.ts';
import type { Guarantee, ReplicationSetting } from '../runtime/index.ts';
import { registrySettings } from '../serde/index.ts';
import type { SchemaRegistrySettings } from '../serde/index.ts';
import { kafkaSettings } from './kafka-settings.ts';
import type { KafkaSettings } from './kafka-settings.ts';

/**
 * The settings groups of a worker and the tools, each validated on its own at start (core's
 * settings.ts): the Kafka, application, worker, log and metrics rows are the app's; the
 * registry, Cassandra and MQTT rows belong to serde and the connectors that use them. A command
 * lists the groups it uses (src/cli/commands/): only their rows become flags, appear in
 * `--help` and `--print-config`, and are read, so a malformed TRIBUTARY_MQTT_URL stops
 * `tributary source sensors` and nothing else.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type CassandraSettings = CassandraConnection;
export type RegistrySettings = SchemaRegistrySettings;
export type MqttSettings = MqttConnection;

const appRows = {
  appId: {
    env: 'TRIBUTARY_APP_ID',
    expects: "1 to 249 of the characters a-z A-Z 0-9 '.' '_' '-' (unset: the topology's own)",
  },
  stateDir: {
    env: 'TRIBUTARY_STATE_DIR',
    expects: 'a directory path',
    fallback: () => join(tmpdir(), 'tributary'),
  },
  replicationFactor: {
    env: 'TRIBUTARY_REPLICATION_FACTOR',
    expects:
      'auto (min(3, brokers in the cluster)) or an integer from 1 to 32767 (replicas of the internal topics created)',
    fallback: () => 'auto',
  },
};

/** TRIBUTARY_APP_ID, for commands that take it alone (`dlq`'s `--app-id`). */
export const appIdRow = appRows.appId;

export interface AppSettings {
  /** Overrides the topology's application id (group id and internal topic prefix). */
  appId: string | undefined;
  stateDir: string;
  /** Replicas of the internal topics created: a number, or 'auto' (min(3, brokers)). */
  replicationFactor: ReplicationSetting;
}

/** What names an application and where its state and internal topics go. */
export const appSettings: SettingGroup<AppSettings> = {
  name: 'app',
  rows: appRows,
  keys: ['appId', 'stateDir', 'replicationFactor'],
  resolve: (r) => ({
    appId: r.optional(appRows.appId) === undefined ? undefined : r.name(appRows.appId, 249),
    stateDir: r.string(appRows.stateDir),
    replicationFactor:
      r.string(appRows.replicationFactor).trim() === 'auto'
        ? 'auto'
        : r.integer(appRows.replicationFactor, 1, 32_767),
  }),
};

const ms = 'an integer number of milliseconds from';
const workerRows = {
  guarantee: {
    env: 'TRIBUTARY_GUARANTEE',
    expects: 'at_least_once or exactly_once',
    fallback: () => 'at_least_once',
  },
  commitIntervalMs: {
    env: 'TRIBUTARY_COMMIT_INTERVAL_MS',
    expects: `${ms} 1 to 600000`,
    fallback: () => '100',
  },
  punctuateIntervalMs: {
    env: 'TRIBUTARY_PUNCTUATE_INTERVAL_MS',
    expects: `${ms} 10 to 600000`,
    fallback: () => '1000',
  },
  sessionTimeoutMs: {
    env: 'TRIBUTARY_SESSION_TIMEOUT_MS',
    expects: `${ms} 6000 to 1800000 (the broker allows 6 s to 30 min)`,
    fallback: () => '30000',
  },
  concurrency: {
    env: 'TRIBUTARY_CONCURRENCY',
    expects: 'an integer from 1 to 256 (partitions processed at once)',
    fallback: () => '3',
  },
  maxBytesPerPartition: {
    env: 'TRIBUTARY_MAX_BYTES_PER_PARTITION',
    expects:
      "an integer number of bytes from 1024 to 104857600 (Kafka's max.partition.fetch.bytes)",
    fallback: () => '1048576',
  },
  shutdownTimeoutMs: {
    env: 'TRIBUTARY_SHUTDOWN_TIMEOUT_MS',
    expects: `${ms} 1000 to 3600000`,
    fallback: () => '30000',
  },
  kafkaWaitTimeoutMs: {
    env: 'TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS',
    expects: `${ms} 1000 to 86400000 (unset: start-up waits for the brokers indefinitely)`,
  },
  storeCacheMb: {
    env: 'TRIBUTARY_STORE_CACHE_MB',
    expects:
      'an integer number of MiB from 1 to 1048576 (memory of the worker for the entries of stores kept in RocksDB)',
    fallback: () => '64',
  },
  standbyReplicas: {
    env: 'TRIBUTARY_STANDBY_REPLICAS',
    expects:
      "an integer from 0 to 16 (copies of each task's stores other workers keep current; Kafka Streams' num.standby.replicas)",
    fallback: () => '0',
  },
  acceptableRecoveryLag: {
    env: 'TRIBUTARY_ACCEPTABLE_RECOVERY_LAG',
    expects:
      "an integer number of records from 0 to 1000000000 (a standby this close to its changelog's end is caught up; Kafka Streams' acceptable.recovery.lag)",
    fallback: () => '10000',
  },
  maxWarmupReplicas: {
    env: 'TRIBUTARY_MAX_WARMUP_REPLICAS',
    expects:
      "an integer from 1 to 1024 (tasks warming up at once before they move to a new worker; Kafka Streams' max.warmup.replicas)",
    fallback: () => '2',
  },
  workerId: {
    env: 'TRIBUTARY_WORKER_ID',
    expects: "1 to 100 of the characters a-z A-Z 0-9 '.' '_' '-'",
    fallback: () => `${hostname()}-${process.pid}`,
  },
};

export interface WorkerSettings {
  guarantee: Guarantee;
  commitIntervalMs: number;
  punctuateIntervalMs: number;
  sessionTimeoutMs: number;
  concurrency: number;
  /** Largest fetch per partition and round. */
  maxBytesPerPartition: number;
  shutdownTimeoutMs: number;
  /** How long start-up waits for the brokers; undefined: indefinitely. */
  kafkaWaitTimeoutMs: number | undefined;
  /** MiB of the worker's memory for cached stores' entries (cached-store.ts). */
  storeCacheMb: number;
  /** Standby replicas per stateful task (standby.ts); 0: none. */
  standbyReplicas: number;
  acceptableRecoveryLag: number;
  maxWarmupReplicas: number;
  workerId: string;
}

/** How a worker processes, commits and leaves. */
export const workerSettings: SettingGroup<WorkerSettings> = {
  name: 'worker',
  rows: workerRows,
  keys: [
    'guarantee',
    'commitIntervalMs',
    'punctuateIntervalMs',
    'sessionTimeoutMs',
    'concurrency',
    'maxBytesPerPartition',
    'shutdownTimeoutMs',
    'kafkaWaitTimeoutMs',
    'storeCacheMb',
    'standbyReplicas',
    'acceptableRecoveryLag',
    'maxWarmupReplicas',
    'workerId',
  ],
  resolve: (r) => ({
    guarantee: r.oneOf(workerRows.guarantee, ['at_least_once', 'exactly_once'] as const),
    commitIntervalMs: r.integer(workerRows.commitIntervalMs, 1, 600_000),
    punctuateIntervalMs: r.integer(workerRows.punctuateIntervalMs, 10, 600_000),
    sessionTimeoutMs: r.integer(workerRows.sessionTimeoutMs, 6000, 1_800_000),
    concurrency: r.integer(workerRows.concurrency, 1, 256),
    maxBytesPerPartition: r.integer(workerRows.maxBytesPerPartition, 1024, 104_857_600),
    shutdownTimeoutMs: r.integer(workerRows.shutdownTimeoutMs, 1000, 3_600_000),
    kafkaWaitTimeoutMs:
      r.optional(workerRows.kafkaWaitTimeoutMs) === undefined
        ? undefined
        : r.integer(workerRows.kafkaWaitTimeoutMs, 1000, 86_400_000),
    storeCacheMb: r.integer(workerRows.storeCacheMb, 1, 1_048_576),
    standbyReplicas: r.integer(workerRows.standbyReplicas, 0, 16),
    acceptableRecoveryLag: r.integer(workerRows.acceptableRecoveryLag, 0, 1_000_000_000),
    maxWarmupReplicas: r.integer(workerRows.maxWarmupReplicas, 1, 1024),
    workerId: r.name(workerRows.workerId, 100),
  }),
};

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logRows = {
  logLevel: {
    env: 'TRIBUTARY_LOG_LEVEL',
    expects: 'fatal, error, warn, info, debug, trace or silent',
    fallback: () => 'info',
  },
};

/** The level of the JSON log of a worker or a source. */
export const logSettings: SettingGroup<{ logLevel: LogLevel }> = {
  name: 'log',
  rows: logRows,
  keys: ['logLevel'],
  resolve: (r) => ({ logLevel: r.oneOf(logRows.logLevel, logLevels) }),
};

const metricsRows = {
  metricsHost: {
    env: 'TRIBUTARY_METRICS_HOST',
    expects: 'an IP address or host name to bind (0.0.0.0 in a container)',
    fallback: () => '127.0.0.1',
  },
  metricsPort: {
    env: 'TRIBUTARY_METRICS_PORT',
    expects: 'a TCP port number from 0 to 65535 (0: any free port)',
    fallback: () => '9464',
  },
};

/** Where a worker serves /metrics, /healthz and /readyz. */
export const metricsSettings: SettingGroup<{ metrics: { host: string; port: number } }> = {
  name: 'metrics',
  rows: metricsRows,
  keys: ['metrics'],
  resolve: (r) => ({
    metrics: {
      host: r.string(metricsRows.metricsHost).trim(),
      port: r.integer(metricsRows.metricsPort, 0, 65535),
    },
  }),
};

/** Every group, in the order `--help` and `--print-config` list them. */
export const allSettingGroups = [
  kafkaSettings,
  appSettings,
  workerSettings,
  logSettings,
  metricsSettings,
  registrySettings,
  cassandraSettings,
  mqttSettings,
] as const;

/** Every setting: what `loadSettings` returns and a topology's context offers. */
export interface Settings extends AppSettings, WorkerSettings {
  kafka: KafkaSettings;
  logLevel: LogLevel;
  metrics: { host: string; port: number };
  registry: RegistrySettings;
  cassandra: CassandraSettings;
  mqtt: MqttSettings;
}

/**
 * Reads and validates every group from the environment and the flags (for scripts and tests
 * that use them all; a command resolves only its own groups).
 */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  flags: Record<string, unknown> = {},
): Settings {
  return resolveSettings(allSettingGroups, rawSettings(allSettingGroups, env, flags));
}

/** Every secret value of the settings, for redaction checks. */
export function secretsOf(settings: Partial<Settings>): string[] {
  return [
    settings.kafka?.sasl?.password,
    settings.registry?.auth?.password,
    settings.cassandra?.credentials?.password,
    settings.mqtt?.credentials?.password,
  ].filter((s): s is string => s !== undefined && s !== '');
}

export { kafkaSettings };
export type { KafkaSettings };
