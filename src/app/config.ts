import { readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { TributaryError } from '../core/index.ts';
import type { Guarantee, ReplicationSetting } from '../runtime/index.ts';

/**
 * Every setting of a worker or tool, read from the environment (`TRIBUTARY_*`, twelve-factor)
 * and from command-line flags (which win), each validated on its own at start: a wrong value
 * stops the command with one message naming the setting and the form it expects (exit code 2).
 *
 * One table drives the environment, the flags, the validation, `--help` and `--print-config`.
 */

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface KafkaSettings {
  brokers: string[];
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** TLS to the brokers: PEM contents read from the files named in the settings. */
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
}

export interface CassandraSettings {
  contactPoints: string[];
  localDataCenter: string;
  credentials?: { username: string; password: string };
}

export interface RegistrySettings {
  url: string;
  auth?: { username: string; password: string };
}

export interface Settings {
  kafka: KafkaSettings;
  /** Overrides the topology's application id (group id and internal topic prefix). */
  appId: string | undefined;
  guarantee: Guarantee;
  /** Replicas of the internal topics created: a number, or 'auto' (min(3, brokers)). */
  replicationFactor: ReplicationSetting;
  commitIntervalMs: number;
  punctuateIntervalMs: number;
  sessionTimeoutMs: number;
  concurrency: number;
  /** Largest fetch per partition and round. */
  maxBytesPerPartition: number;
  shutdownTimeoutMs: number;
  /** How long start-up waits for the brokers; undefined: indefinitely. */
  kafkaWaitTimeoutMs: number | undefined;
  stateDir: string;
  workerId: string;
  logLevel: LogLevel;
  metrics: { host: string; port: number };
  registry: RegistrySettings;
  cassandra: CassandraSettings;
  mqtt: { url: string; credentials?: { username: string; password: string } };
}

/** Which commands a setting belongs to. */
export type SettingGroup =
  'kafka' | 'app' | 'worker' | 'metrics' | 'registry' | 'cassandra' | 'mqtt';

export interface SettingSpec {
  /** The environment variable; the flag is its kebab-case tail (`--kafka-sasl-password`). */
  env: string;
  group: SettingGroup;
  /** What the value must look like, as the error message and `--help` say it. */
  expects: string;
  /** Shown by --help and --print-config when the setting is absent; undefined: none. */
  fallback?: () => string;
  secret?: boolean;
}

export const settingSpecs = {
  brokers: {
    env: 'TRIBUTARY_BROKERS',
    group: 'kafka',
    expects: 'a comma-separated list of host:port',
    fallback: () => '127.0.0.1:9092',
  },
  kafkaSaslMechanism: {
    env: 'TRIBUTARY_KAFKA_SASL_MECHANISM',
    group: 'kafka',
    expects: 'plain, scram-sha-256 or scram-sha-512',
  },
  kafkaSaslUsername: { env: 'TRIBUTARY_KAFKA_SASL_USERNAME', group: 'kafka', expects: 'a name' },
  kafkaSaslPassword: {
    env: 'TRIBUTARY_KAFKA_SASL_PASSWORD',
    group: 'kafka',
    expects: 'a password',
    secret: true,
  },
  kafkaTls: {
    env: 'TRIBUTARY_KAFKA_TLS',
    group: 'kafka',
    expects: 'true or false',
    fallback: () => 'false',
  },
  kafkaTlsCaFile: {
    env: 'TRIBUTARY_KAFKA_TLS_CA_FILE',
    group: 'kafka',
    expects: 'a readable PEM file',
  },
  kafkaTlsCertFile: {
    env: 'TRIBUTARY_KAFKA_TLS_CERT_FILE',
    group: 'kafka',
    expects: 'a readable PEM file',
  },
  kafkaTlsKeyFile: {
    env: 'TRIBUTARY_KAFKA_TLS_KEY_FILE',
    group: 'kafka',
    expects: 'a readable PEM file',
  },
  kafkaTlsRejectUnauthorized: {
    env: 'TRIBUTARY_KAFKA_TLS_REJECT_UNAUTHORIZED',
    group: 'kafka',
    expects: 'true or false',
    fallback: () => 'true',
  },
  appId: {
    env: 'TRIBUTARY_APP_ID',
    group: 'app',
    expects: "1 to 249 of the characters a-z A-Z 0-9 '.' '_' '-' (unset: the topology's own)",
  },
  stateDir: {
    env: 'TRIBUTARY_STATE_DIR',
    group: 'app',
    expects: 'a directory path',
    fallback: () => join(tmpdir(), 'tributary'),
  },
  replicationFactor: {
    env: 'TRIBUTARY_REPLICATION_FACTOR',
    group: 'app',
    expects:
      'auto (min(3, brokers in the cluster)) or an integer from 1 to 32767 (replicas of the internal topics created)',
    fallback: () => 'auto',
  },
  guarantee: {
    env: 'TRIBUTARY_GUARANTEE',
    group: 'worker',
    expects: 'at_least_once or exactly_once',
    fallback: () => 'at_least_once',
  },
  commitIntervalMs: {
    env: 'TRIBUTARY_COMMIT_INTERVAL_MS',
    group: 'worker',
    expects: 'an integer number of milliseconds from 1 to 600000',
    fallback: () => '100',
  },
  punctuateIntervalMs: {
    env: 'TRIBUTARY_PUNCTUATE_INTERVAL_MS',
    group: 'worker',
    expects: 'an integer number of milliseconds from 10 to 600000',
    fallback: () => '1000',
  },
  sessionTimeoutMs: {
    env: 'TRIBUTARY_SESSION_TIMEOUT_MS',
    group: 'worker',
    expects:
      'an integer number of milliseconds from 6000 to 1800000 (the broker allows 6 s to 30 min)',
    fallback: () => '30000',
  },
  concurrency: {
    env: 'TRIBUTARY_CONCURRENCY',
    group: 'worker',
    expects: 'an integer from 1 to 256 (partitions processed at once)',
    fallback: () => '3',
  },
  maxBytesPerPartition: {
    env: 'TRIBUTARY_MAX_BYTES_PER_PARTITION',
    group: 'worker',
    expects:
      "an integer number of bytes from 1024 to 104857600 (Kafka's max.partition.fetch.bytes)",
    fallback: () => '1048576',
  },
  shutdownTimeoutMs: {
    env: 'TRIBUTARY_SHUTDOWN_TIMEOUT_MS',
    group: 'worker',
    expects: 'an integer number of milliseconds from 1000 to 3600000',
    fallback: () => '30000',
  },
  kafkaWaitTimeoutMs: {
    env: 'TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS',
    group: 'worker',
    expects:
      'an integer number of milliseconds from 1000 to 86400000 (unset: start-up waits for the brokers indefinitely)',
  },
  workerId: {
    env: 'TRIBUTARY_WORKER_ID',
    group: 'worker',
    expects: "1 to 100 of the characters a-z A-Z 0-9 '.' '_' '-'",
    fallback: () => `${hostname()}-${process.pid}`,
  },
  logLevel: {
    env: 'TRIBUTARY_LOG_LEVEL',
    group: 'worker',
    expects: 'fatal, error, warn, info, debug, trace or silent',
    fallback: () => 'info',
  },
  metricsHost: {
    env: 'TRIBUTARY_METRICS_HOST',
    group: 'metrics',
    expects: 'an IP address or host name to bind (0.0.0.0 in a container)',
    fallback: () => '127.0.0.1',
  },
  metricsPort: {
    env: 'TRIBUTARY_METRICS_PORT',
    group: 'metrics',
    expects: 'a TCP port number from 0 to 65535 (0: any free port)',
    fallback: () => '9464',
  },
  registryUrl: {
    env: 'TRIBUTARY_REGISTRY_URL',
    group: 'registry',
    expects: 'an http(s) URL of a Confluent-compatible schema registry API',
    fallback: () => 'http://127.0.0.1:8081/apis/ccompat/v7',
  },
  registryUsername: {
    env: 'TRIBUTARY_REGISTRY_USERNAME',
    group: 'registry',
    expects: 'a name',
  },
  registryPassword: {
    env: 'TRIBUTARY_REGISTRY_PASSWORD',
    group: 'registry',
    expects: 'a password',
    secret: true,
  },
  cassandraContactPoints: {
    env: 'TRIBUTARY_CASSANDRA_CONTACT_POINTS',
    group: 'cassandra',
    expects: 'a comma-separated list of host:port',
    fallback: () => '127.0.0.1:9042',
  },
  cassandraLocalDc: {
    env: 'TRIBUTARY_CASSANDRA_LOCAL_DC',
    group: 'cassandra',
    expects: 'the name of the local data center',
    fallback: () => 'datacenter1',
  },
  cassandraUsername: {
    env: 'TRIBUTARY_CASSANDRA_USERNAME',
    group: 'cassandra',
    expects: 'a name',
  },
  cassandraPassword: {
    env: 'TRIBUTARY_CASSANDRA_PASSWORD',
    group: 'cassandra',
    expects: 'a password',
    secret: true,
  },
  mqttUrl: {
    env: 'TRIBUTARY_MQTT_URL',
    group: 'mqtt',
    expects: 'an mqtt:// or mqtts:// URL',
    fallback: () => 'mqtt://127.0.0.1:1883',
  },
  mqttUsername: { env: 'TRIBUTARY_MQTT_USERNAME', group: 'mqtt', expects: 'a name' },
  mqttPassword: {
    env: 'TRIBUTARY_MQTT_PASSWORD',
    group: 'mqtt',
    expects: 'a password',
    secret: true,
  },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settingSpecs;

/** `TRIBUTARY_KAFKA_SASL_PASSWORD` -> `kafka-sasl-password` (the flag without its dashes). */
export function flagOf(spec: SettingSpec): string {
  return spec.env
    .replace(/^TRIBUTARY_/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

/** The raw values of the settings, by name, and where each came from. */
export type RawSettings = Partial<Record<SettingName, { value: string; from: string }>>;

/**
 * Collects raw values: flags (commander's camelCase option keys) over the environment. A
 * variable set to the empty string counts as given (an empty broker list is an error, not the
 * default), so a deployment template with a blank value fails loudly.
 */
export function rawSettings(
  env: NodeJS.ProcessEnv,
  flags: Record<string, unknown> = {},
): RawSettings {
  const raw: RawSettings = {};
  for (const [name, spec] of Object.entries(settingSpecs) as [SettingName, SettingSpec][]) {
    const flag = flagOf(spec);
    const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const fromFlag = flags[camel];
    if (typeof fromFlag === 'string') raw[name] = { value: fromFlag, from: `--${flag}` };
    else if (env[spec.env] !== undefined)
      raw[name] = { value: env[spec.env] ?? '', from: spec.env };
  }
  return raw;
}

class Reader {
  constructor(private readonly raw: RawSettings) {}

  private spec(name: SettingName): SettingSpec {
    return settingSpecs[name];
  }

  fail(name: SettingName, detail?: string): never {
    const spec = this.spec(name);
    const given = this.raw[name];
    const where = given === undefined ? spec.env : given.from;
    const got =
      given === undefined ? '' : spec.secret === true ? ', got ***' : `, got '${given.value}'`;
    throw new TributaryError(
      'CONFIG_INVALID',
      `${where} must be ${spec.expects}${detail === undefined ? got : `: ${detail}`}`,
    );
  }

  /** The given value, or undefined when absent. */
  optional(name: SettingName): string | undefined {
    return this.raw[name]?.value;
  }

  string(name: SettingName): string {
    const spec = this.spec(name);
    const value = this.raw[name]?.value ?? spec.fallback?.();
    if (value === undefined) this.fail(name, 'it is required');
    if (value.trim() === '') this.fail(name);
    return value;
  }

  oneOf<T extends string>(name: SettingName, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!(allowed as readonly string[]).includes(value)) this.fail(name);
    return value as T;
  }

  integer(name: SettingName, min: number, max: number): number {
    const value = this.string(name).trim();
    if (!/^\d+$/.test(value)) this.fail(name);
    const n = Number(value);
    if (n < min || n > max) this.fail(name);
    return n;
  }

  boolean(name: SettingName): boolean {
    const value = this.string(name).trim().toLowerCase();
    if (value === 'true' || value === '1' || value === 'yes') return true;
    if (value === 'false' || value === '0' || value === 'no') return false;
    return this.fail(name);
  }

  hostPorts(name: SettingName): string[] {
    const value = this.string(name);
    const list = value.split(',').map((s) => s.trim());
    const valid = list.every((entry) => {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
    });
    if (list.length === 0 || !valid) this.fail(name);
    return list;
  }

  name(name: SettingName, max: number): string {
    const value = this.string(name);
    if (!/^[A-Za-z0-9._-]+$/.test(value) || value.length > max) this.fail(name);
    return value;
  }

  url(name: SettingName): string {
    const value = this.string(name);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return this.fail(name);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') this.fail(name);
    return value.replace(/\/+$/, '');
  }

  file(name: SettingName): string | undefined {
    const path = this.optional(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      return this.fail(name, `cannot read '${path}' (${(error as NodeJS.ErrnoException).code})`);
    }
  }

  /** A username and password that come together: neither or both. */
  credentials(
    user: SettingName,
    password: SettingName,
  ): { username: string; password: string } | undefined {
    const username = this.optional(user);
    const secret = this.optional(password);
    if (username === undefined && secret === undefined) return undefined;
    if (username === undefined)
      this.fail(user, `it is required when ${settingSpecs[password].env} is set`);
    if (secret === undefined)
      this.fail(password, `it is required when ${settingSpecs[user].env} is set`);
    return { username, password: secret };
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Validates every setting; throws TributaryError('CONFIG_INVALID') naming the first bad one. */
export function resolveSettings(raw: RawSettings): Settings {
  const r: Reader = new Reader(raw);
  const kafka: KafkaSettings = { brokers: r.hostPorts('brokers') };
  const mechanism =
    r.optional('kafkaSaslMechanism') === undefined
      ? undefined
      : r.oneOf('kafkaSaslMechanism', ['plain', 'scram-sha-256', 'scram-sha-512'] as const);
  const saslCredentials = r.credentials('kafkaSaslUsername', 'kafkaSaslPassword');
  if (mechanism !== undefined) {
    if (saslCredentials === undefined)
      r.fail(
        'kafkaSaslUsername',
        `it is required when ${settingSpecs.kafkaSaslMechanism.env} is set`,
      );
    kafka.sasl = { mechanism, ...saslCredentials };
  } else if (saslCredentials !== undefined) {
    r.fail(
      'kafkaSaslMechanism',
      `it is required when ${settingSpecs.kafkaSaslUsername.env} is set`,
    );
  }
  const ca = r.file('kafkaTlsCaFile');
  const cert = r.file('kafkaTlsCertFile');
  const key = r.file('kafkaTlsKeyFile');
  const rejectUnauthorized = r.boolean('kafkaTlsRejectUnauthorized');
  if (r.boolean('kafkaTls')) {
    kafka.tls = {
      rejectUnauthorized,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    };
  } else if (ca !== undefined || cert !== undefined || key !== undefined) {
    r.fail('kafkaTls', 'it must be true when a TLS file is given');
  }
  const appId = r.optional('appId') === undefined ? undefined : r.name('appId', 249);
  const registryAuth = r.credentials('registryUsername', 'registryPassword');
  const cassandraCredentials = r.credentials('cassandraUsername', 'cassandraPassword');
  const mqttCredentials = r.credentials('mqttUsername', 'mqttPassword');
  const mqttUrl = r.string('mqttUrl').trim();
  if (!/^mqtts?:\/\/[^/\s]+/.test(mqttUrl)) r.fail('mqttUrl');
  return {
    kafka,
    appId,
    guarantee: r.oneOf('guarantee', ['at_least_once', 'exactly_once'] as const),
    replicationFactor:
      r.string('replicationFactor').trim() === 'auto'
        ? 'auto'
        : r.integer('replicationFactor', 1, 32_767),
    commitIntervalMs: r.integer('commitIntervalMs', 1, 600_000),
    punctuateIntervalMs: r.integer('punctuateIntervalMs', 10, 600_000),
    sessionTimeoutMs: r.integer('sessionTimeoutMs', 6000, 1_800_000),
    concurrency: r.integer('concurrency', 1, 256),
    maxBytesPerPartition: r.integer('maxBytesPerPartition', 1024, 104_857_600),
    shutdownTimeoutMs: r.integer('shutdownTimeoutMs', 1000, 3_600_000),
    kafkaWaitTimeoutMs:
      r.optional('kafkaWaitTimeoutMs') === undefined
        ? undefined
        : r.integer('kafkaWaitTimeoutMs', 1000, 86_400_000),
    stateDir: r.string('stateDir'),
    workerId: r.name('workerId', 100),
    logLevel: r.oneOf('logLevel', logLevels),
    metrics: { host: r.string('metricsHost').trim(), port: r.integer('metricsPort', 0, 65535) },
    registry: {
      url: r.url('registryUrl'),
      ...(registryAuth === undefined ? {} : { auth: registryAuth }),
    },
    cassandra: {
      contactPoints: r.hostPorts('cassandraContactPoints'),
      localDataCenter: r.string('cassandraLocalDc'),
      ...(cassandraCredentials === undefined ? {} : { credentials: cassandraCredentials }),
    },
    mqtt: {
      url: mqttUrl,
      ...(mqttCredentials === undefined ? {} : { credentials: mqttCredentials }),
    },
  };
}

/** Reads and validates the settings from the environment and the flags. */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  flags: Record<string, unknown> = {},
): Settings {
  return resolveSettings(rawSettings(env, flags));
}

/**
 * The effective configuration as `ENV=value  # source` lines, secrets shown as `***`: what
 * `--print-config` prints. Only the settings of the given groups.
 */
export function printableSettings(raw: RawSettings, groups: readonly SettingGroup[]): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(settingSpecs) as [SettingName, SettingSpec][]) {
    if (!groups.includes(spec.group)) continue;
    const given = raw[name];
    if (given !== undefined) {
      lines.push(`${spec.env}=${spec.secret === true ? '***' : given.value}  # ${given.from}`);
    } else {
      const fallback = spec.fallback?.();
      lines.push(
        `${spec.env}=${fallback ?? ''}  # ${fallback === undefined ? 'unset' : 'default'}`,
      );
    }
  }
  return lines.join('\n');
}

/** Every secret value of the settings, for redaction checks. */
export function secretsOf(settings: Settings): string[] {
  return [
    settings.kafka.sasl?.password,
    settings.registry.auth?.password,
    settings.cassandra.credentials?.password,
    settings.mqtt.credentials?.password,
  ].filter((s): s is string => s !== undefined && s !== '');
}
