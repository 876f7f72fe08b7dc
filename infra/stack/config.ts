import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The services of the local stack, in start and display order. */
export const serviceNames = ['kafka', 'cassandra', 'registry', 'prometheus', 'mosquitto'] as const;
/** The extra Kafka nodes of the 3-broker mode (`up --kafka-brokers 3`); node 1 is 'kafka'. */
export const extraKafkaNodes = ['kafka-2', 'kafka-3'] as const;
export type ServiceName = (typeof serviceNames)[number] | (typeof extraKafkaNodes)[number];

/** Kafka node n of the 3-broker mode listens on the base ports + 100 * (n - 1). */
export const kafkaNodePortStep = 100;

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  /** A second Kafka listener that requires SASL (PLAIN and SCRAM), for authentication tests. */
  kafkaSasl: number;
  cassandra: number;
  cassandraStorage: number;
  registry: number;
  registryManagement: number;
  prometheus: number;
  mosquitto: number;
}

export interface StackConfig {
  /** The repository root: the templates under infra/ are read from here. */
  repoDir: string;
  /** Everything the stack writes: cache/ (downloads), data/, logs/, run/ (PID files). */
  stackDir: string;
  ports: StackPorts;
  /** 1 (one combined broker+controller) or 3 (a cluster of three); see kafkaBrokersFile. */
  kafkaBrokers: number;
}

/** Where `up --kafka-brokers N` records the chosen mode, so later commands follow it. */
export function kafkaBrokersFile(stackDir: string): string {
  return resolve(stackDir, 'kafka-brokers');
}

/** Parses a broker count (1 or 3); `where` names its origin in the error. */
export function parseKafkaBrokers(raw: string, where: string): number {
  const value = raw.trim();
  if (value !== '1' && value !== '3') {
    throw new StackConfigError(`${where} must be 1 or 3 (Kafka brokers), got '${value}'`);
  }
  return Number(value);
}

/** Where tests and tools find the servers. */
export interface StackEndpoints {
  kafkaBrokers: string[];
  /** The same broker through its SASL_PLAINTEXT listener; log in with `kafkaSaslUser`. */
  kafkaSaslBrokers: string[];
  kafkaSaslUser: { username: string; password: string };
  cassandraContactPoint: string;
  cassandraDataCenter: string;
  registryUrl: string;
  prometheusUrl: string;
  prometheusTargetsDir: string;
  mqttUrl: string;
}

const portVariables: Record<keyof StackPorts, [string, number]> = {
  kafka: ['TRIBUTARY_KAFKA_PORT', 9092],
  kafkaController: ['TRIBUTARY_KAFKA_CONTROLLER_PORT', 9093],
  kafkaSasl: ['TRIBUTARY_KAFKA_SASL_PORT', 9094],
  cassandra: ['TRIBUTARY_CASSANDRA_PORT', 9042],
  cassandraStorage: ['TRIBUTARY_CASSANDRA_STORAGE_PORT', 7000],
  registry: ['TRIBUTARY_REGISTRY_PORT', 8081],
  registryManagement: ['TRIBUTARY_REGISTRY_MANAGEMENT_PORT', 8082],
  prometheus: ['TRIBUTARY_PROMETHEUS_PORT', 9090],
  mosquitto: ['TRIBUTARY_MQTT_PORT', 1883],
};

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

function parsePort(variable: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new StackConfigError(`${variable} must be a TCP port number (1-65535), got '${raw}'`);
  }
  return port;
}

const defaultRepoDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** Reads the stack's settings from the environment; a bad value throws naming the variable. */
export function stackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const ports = Object.fromEntries(
    Object.entries(portVariables).map(([key, [variable, fallback]]) => [
      key,
      parsePort(variable, env[variable], fallback),
    ]),
  ) as unknown as StackPorts;
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new StackConfigError(
        `${portVariables[key as keyof StackPorts][0]} and ${portVariables[other as keyof StackPorts][0]} both use port ${port}`,
      );
    }
    seen.set(port, key);
  }
  const repoDir = defaultRepoDir;
  const stackDir = resolve(repoDir, env['TRIBUTARY_STACK_DIR'] ?? '.stack');
  const file = kafkaBrokersFile(stackDir);
  const kafkaBrokers = existsSync(file) ? parseKafkaBrokers(readFileSync(file, 'utf8'), file) : 1;
  return { repoDir, stackDir, ports, kafkaBrokers };
}

/**
 * The one user of the SASL listener (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512). A loopback test
 * credential, not a secret: the listener exists so tests can check authentication end to end.
 */
export const kafkaSaslUser = { username: 'tributary', password: 'tributary-sasl-test' };

export function stackEndpoints(config: StackConfig = stackConfig()): StackEndpoints {
  const { ports, stackDir } = config;
  const nodes = Array.from({ length: config.kafkaBrokers }, (_, i) => i * kafkaNodePortStep);
  return {
    kafkaBrokers: nodes.map((step) => `127.0.0.1:${ports.kafka + step}`),
    kafkaSaslBrokers: nodes.map((step) => `127.0.0.1:${ports.kafkaSasl + step}`),
    kafkaSaslUser,
    cassandraContactPoint: `127.0.0.1:${ports.cassandra}`,
    cassandraDataCenter: 'datacenter1',
    registryUrl: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
    prometheusUrl: `http://127.0.0.1:${ports.prometheus}`,
    prometheusTargetsDir: resolve(stackDir, 'data', 'prometheus', 'targets'),
    mqttUrl: `mqtt://127.0.0.1:${ports.mosquitto}`,
  };
}
