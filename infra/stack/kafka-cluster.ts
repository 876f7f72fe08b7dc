// A Kafka cluster of 1 or 3 combined broker+controller nodes (KRaft), each a JVM of its own on
// loopback, that can be stopped, killed and started one node at a time. The stack's
// `--kafka-brokers 3` mode runs one on the stack's ports; fault tests run a private one on free
// ports under a temp directory (startKafkaCluster), so they never touch the shared broker.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import type { Admin } from 'kafkajs';

import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';

import { kafkaSaslUser, stackConfig } from './config.ts';
import { mavenDependencies } from './fetch.ts';
import { isOurs, killNow, launch, pidFile, terminate } from './processes.ts';
import type { LaunchSpec, PidRecord } from './processes.ts';

const run = promisify(execFile);

/** The ports of one node: clients, the KRaft controller quorum, and the SASL listener. */
export interface KafkaNodePorts {
  id: number;
  port: number;
  controllerPort: number;
  saslPort: number;
}

export interface KafkaNodeLayout extends KafkaNodePorts {
  /** The node's own directory: server.properties, logs/ (the Kafka data), server.log. */
  dir: string;
}

/** Replication of Kafka's own topics on a cluster of `brokers` nodes: min(3, n), in sync min(2, rf). */
export function clusterReplication(brokers: number): { replication: number; minIsr: number } {
  const replication = Math.min(3, brokers);
  return { replication, minIsr: Math.min(2, replication) };
}

function java(): string {
  const home = process.env['JAVA_HOME'];
  return home !== undefined && existsSync(join(home, 'bin', 'java'))
    ? join(home, 'bin', 'java')
    : 'java';
}

/**
 * The Kafka jars, in the stack's download cache (`npm run stack -- up` fills it; a fresh clone
 * downloads once here, into the same place, so nothing is fetched twice).
 */
export async function kafkaJars(
  repoDir: string = stackConfig().repoDir,
  cacheDir: string = join(stackConfig().stackDir, 'cache'),
): Promise<string> {
  const dir = join(cacheDir, 'kafka', 'jars');
  mkdirSync(join(cacheDir, '..', 'logs'), { recursive: true });
  await mavenDependencies({
    what: 'kafka',
    pom: join(repoDir, 'infra', 'kafka', 'pom.xml'),
    dir,
    scope: 'runtime',
    logFile: join(cacheDir, '..', 'logs', 'kafka-fetch.log'),
  });
  return dir;
}

function jvmOptions(repoDir: string, libs: string, node: KafkaNodeLayout): string[] {
  return [
    `-Dlog4j2.configurationFile=file:${join(repoDir, 'infra', 'kafka', 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(node.dir, 'server-logs')}`,
    '-cp',
    `${libs}/*`,
  ];
}

/** Writes the node's server.properties from infra/kafka/cluster-node.properties; returns its path. */
function renderNode(repoDir: string, node: KafkaNodeLayout, all: KafkaNodePorts[]): string {
  const { replication, minIsr } = clusterReplication(all.length);
  const values: Record<string, string | number> = {
    NODE_ID: node.id,
    VOTERS: all.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    PORT: node.port,
    CONTROLLER_PORT: node.controllerPort,
    SASL_PORT: node.saslPort,
    SASL_USER: kafkaSaslUser.username,
    SASL_PASSWORD: kafkaSaslUser.password,
    DATA_DIR: node.dir,
    REPLICATION: replication,
    MIN_ISR: minIsr,
  };
  const template = readFileSync(join(repoDir, 'infra', 'kafka', 'cluster-node.properties'), 'utf8');
  const text = template.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`cluster-node.properties: no value for ${whole}`);
    return String(value);
  });
  mkdirSync(node.dir, { recursive: true });
  const target = join(node.dir, 'server.properties');
  writeFileSync(target, text);
  return target;
}

/** A Kafka cluster id: 16 random bytes in base64url, never starting with '-' (read as an option). */
function newClusterId(): string {
  let id = randomBytes(16).toString('base64url');
  while (id.startsWith('-')) id = randomBytes(16).toString('base64url');
  return id;
}

/**
 * Renders every node's configuration and formats the storage of those not yet formatted, all
 * with one cluster id (kept in `<root>/cluster-id`). Returns how to start each node.
 */
export async function prepareKafkaNodes(options: {
  repoDir: string;
  libs: string;
  root: string;
  nodes: KafkaNodeLayout[];
}): Promise<Map<number, LaunchSpec>> {
  const { repoDir, libs, root, nodes } = options;
  mkdirSync(root, { recursive: true });
  const idFile = join(root, 'cluster-id');
  if (!existsSync(idFile)) writeFileSync(idFile, newClusterId() + '\n');
  const clusterId = readFileSync(idFile, 'utf8').trim();
  const specs = new Map<number, LaunchSpec>();
  // 1. Format in parallel: each is a short JVM run, and the nodes share nothing yet.
  await Promise.all(
    nodes.map(async (node) => {
      const properties = renderNode(repoDir, node, nodes);
      const jvm = jvmOptions(repoDir, libs, node);
      if (!existsSync(join(node.dir, 'logs', 'meta.properties'))) {
        const { stdout, stderr } = await run(java(), [
          '-Xmx256m',
          '-XX:TieredStopAtLevel=1',
          ...jvm,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          properties,
          '--ignore-formatted',
          ...['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
            '--add-scram',
            `${mechanism}=[name=${kafkaSaslUser.username},password=${kafkaSaslUser.password}]`,
          ]),
        ]);
        writeFileSync(join(node.dir, 'format.log'), stdout + stderr);
      }
      // 2. The node's JVM: the same settings as the single stack broker, a smaller heap.
      specs.set(node.id, {
        command: java(),
        args: [
          '-Xms128m',
          '-Xmx384m',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          ...jvm,
          'kafka.Kafka',
          properties,
        ],
        cwd: node.dir,
      });
    }),
  );
  return specs;
}

function admin(brokers: string[]): Admin {
  return new Kafka({
    clientId: 'tributary-cluster-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
}

/** The ids of the brokers registered in the cluster, as the node at `address` sees it. */
export async function registeredBrokers(address: string): Promise<number[]> {
  const client = admin([address]);
  try {
    await client.connect();
    const cluster = await client.describeCluster();
    if (cluster.controller === null) throw new Error('no controller yet');
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

/** Partitions (of every topic) whose in-sync replicas are fewer than their replicas. */
export async function underReplicatedPartitions(brokers: string[]): Promise<string[]> {
  const client = admin(brokers);
  try {
    await client.connect();
    const { topics } = await client.fetchTopicMetadata();
    return topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.isr.length < p.replicas.length || p.leader < 0)
        .map((p) => `${t.name}/${p.partitionId}`),
    );
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

async function until<T>(
  what: () => string,
  attempt: () => Promise<T | undefined>,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (!alive()) throw new Error(`${what()}: the process exited${last ? ` (${last})` : ''}`);
    if (Date.now() > deadline) {
      throw new Error(`${what()}: not done after ${timeoutMs / 1000}s${last ? ` (${last})` : ''}`);
    }
    await sleep(250);
  }
}

/** A free TCP port on loopback (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface KafkaClusterNode {
  readonly id: number;
  /** host:port of its PLAINTEXT listener. */
  readonly address: string;
  readonly dir: string;
  /** Its own stdout/stderr (Kafka's log). */
  readonly logFile: string;
  running(): boolean;
  pid(): number | undefined;
}

export interface KafkaCluster {
  /** Every node's address: give all of them to clients as bootstrap brokers. */
  readonly brokers: string[];
  readonly nodes: readonly KafkaClusterNode[];
  /** Seconds from the call to every node registered (the start-up cost of the cluster). */
  readonly readySeconds: number;
  /** SIGTERM (controlled shutdown: leadership moves first), SIGKILL after graceMs. */
  stop(id: number, graceMs?: number): Promise<'stopped' | 'killed'>;
  /** kill -9 of the node's JVM; resolves once it is gone. */
  kill(id: number): Promise<void>;
  /** Starts a stopped node; resolves once the cluster lists it as a broker again. */
  start(id: number, timeoutMs?: number): Promise<void>;
  /** Resolves when no partition has fewer in-sync replicas than replicas (and all have a leader). */
  waitInSync(timeoutMs?: number): Promise<void>;
  /** Kills every node and deletes the cluster's directory (unless keepDir was set). */
  down(): Promise<void>;
}

export interface KafkaClusterOptions {
  /** Number of nodes, each a broker and a controller: 1 or 3 (default 3). */
  brokers?: number;
  /** Where the nodes keep their data and logs; created; deleted by down() unless keepDir. */
  dir: string;
  keepDir?: boolean;
  /** Client ports, one per node; default: free ports chosen at start. */
  ports?: number[];
  /** The repository root and the stack cache holding (or receiving) the Kafka jars. */
  repoDir?: string;
  cacheDir?: string;
  readyTimeoutMs?: number;
}

/** Starts a private cluster and resolves once every node is registered and answers. */
export async function startKafkaCluster(options: KafkaClusterOptions): Promise<KafkaCluster> {
  const began = Date.now();
  const count = options.brokers ?? 3;
  if (count !== 1 && count !== 3) throw new Error(`brokers must be 1 or 3, got ${count}`);
  const config = stackConfig();
  const repoDir = options.repoDir ?? config.repoDir;
  const libs = await kafkaJars(repoDir, options.cacheDir ?? join(config.stackDir, 'cache'));
  const layouts: KafkaNodeLayout[] = [];
  // The kernel may hand out a port again once its probe closed: each port once per cluster
  // (a node with two listeners on one port does not start).
  const taken = new Set<number>(options.ports ?? []);
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  for (let i = 0; i < count; i++) {
    layouts.push({
      id: i + 1,
      port: options.ports?.[i] ?? (await distinctPort()),
      controllerPort: await distinctPort(),
      saslPort: await distinctPort(),
      dir: join(options.dir, `node-${i + 1}`),
    });
  }
  const specs = await prepareKafkaNodes({ repoDir, libs, root: options.dir, nodes: layouts });
  const runDir = join(options.dir, 'run');
  const records = new Map<number, PidRecord>();
  const brokers = layouts.map((n) => `127.0.0.1:${n.port}`);
  const alive = (id: number): boolean => {
    const record = records.get(id);
    return record !== undefined && isOurs(record);
  };
  // If the test process ends without down(), do not leave JVMs behind.
  const killAll = (): void => {
    for (const record of records.values()) {
      try {
        process.kill(-record.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killAll);

  const launchNode = async (node: KafkaNodeLayout): Promise<void> => {
    const spec = specs.get(node.id);
    if (spec === undefined) throw new Error(`no node ${node.id}`);
    const record = await launch(
      spec,
      join(node.dir, 'server.log'),
      pidFile(runDir, `node-${node.id}`),
      join(node.dir, 'server.properties'),
    );
    records.set(node.id, record);
  };
  const layoutOf = (id: number): KafkaNodeLayout => {
    const node = layouts.find((n) => n.id === id);
    if (node === undefined) throw new Error(`the cluster has no node ${id}`);
    return node;
  };
  const waitRegistered = (node: KafkaNodeLayout, timeoutMs: number): Promise<true> =>
    until(
      () => `kafka node ${node.id} (log ${join(node.dir, 'server.log')})`,
      async () =>
        (await registeredBrokers(`127.0.0.1:${node.port}`)).includes(node.id) ? true : undefined,
      timeoutMs,
      () => alive(node.id),
    );

  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    await Promise.all(layouts.map(launchNode));
    await Promise.all(layouts.map((node) => waitRegistered(node, readyTimeoutMs)));
    await until(
      () => `kafka cluster of ${count}`,
      async () => ((await registeredBrokers(brokers[0] ?? '')).length === count ? true : undefined),
      readyTimeoutMs,
    );
  } catch (error) {
    killAll();
    throw error;
  }

  const cluster: KafkaCluster = {
    brokers,
    readySeconds: (Date.now() - began) / 1000,
    nodes: layouts.map((node) => ({
      id: node.id,
      address: `127.0.0.1:${node.port}`,
      dir: node.dir,
      logFile: join(node.dir, 'server.log'),
      running: () => alive(node.id),
      pid: () => (alive(node.id) ? records.get(node.id)?.pid : undefined),
    })),
    async stop(id, graceMs = 60_000) {
      const record = records.get(id);
      layoutOf(id);
      if (record === undefined || !isOurs(record)) return 'stopped';
      return terminate(record, graceMs);
    },
    async kill(id) {
      const record = records.get(id);
      layoutOf(id);
      if (record === undefined || !isOurs(record)) return;
      await killNow(record);
    },
    async start(id, timeoutMs = readyTimeoutMs) {
      const node = layoutOf(id);
      if (!alive(id)) await launchNode(node);
      await waitRegistered(node, timeoutMs);
    },
    async waitInSync(timeoutMs = 120_000) {
      await until(
        () => 'every partition back in sync',
        async () => {
          const live = layouts.filter((n) => alive(n.id)).map((n) => `127.0.0.1:${n.port}`);
          const lagging = await underReplicatedPartitions(live);
          if (lagging.length === 0) return true;
          throw new Error(
            `under-replicated: ${lagging.slice(0, 5).join(', ')}${lagging.length > 5 ? ', ...' : ''}`,
          );
        },
        timeoutMs,
      );
    },
    async down() {
      process.removeListener('exit', killAll);
      await Promise.all(layouts.map((n) => cluster.kill(n.id)));
      if (options.keepDir !== true) rmSync(options.dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
