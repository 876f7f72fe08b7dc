import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { kafkaNodePortStep, kafkaSaslUser } from './config.ts';
import type { ServiceName, StackConfig, StackEndpoints } from './config.ts';
import { FetchError, findExecutable, mavenDependencies, untarOnce } from './fetch.ts';
import { findJava, installJavaFromPyPI } from './java.ts';
import { kafkaJars, prepareKafkaNodes, registeredBrokers } from './kafka-cluster.ts';
import type { KafkaNodeLayout } from './kafka-cluster.ts';
import type { DebianPackage } from './fetch.ts';
import type { LaunchSpec } from './processes.ts';
import { probeCassandra, probeKafka, probeMqtt, probePrometheus, probeRegistry } from './probes.ts';

const run = promisify(execFile);

export interface StackDirs {
  cache: string;
  data: string;
  logs: string;
  run: string;
}

export interface ServiceContext {
  config: StackConfig;
  endpoints: StackEndpoints;
  dirs: StackDirs;
}

export interface ServiceDefinition {
  name: ServiceName;
  /** What a client connects to. */
  address(ctx: ServiceContext): string;
  /** Every port the service binds, checked free before it starts. */
  ports(ctx: ServiceContext): number[];
  /** Debian packages that provide its executable, installed when missing. */
  debianPackages: DebianPackage[];
  readyTimeoutMs: number;
  stopGraceMs: number;
  /** Fetches what is missing, renders the config and returns how to start the process. */
  prepare(ctx: ServiceContext): Promise<LaunchSpec>;
  /** Resolves when the server answers at protocol level; may return a detail (a version). */
  probe(ctx: ServiceContext): Promise<string | undefined>;
}

/** Renders infra/<service>/<file>, replacing ${NAME} with values, into the service's data dir. */
function render(
  ctx: ServiceContext,
  service: string,
  file: string,
  values: Record<string, string | number>,
): string {
  const template = readFileSync(join(ctx.config.repoDir, 'infra', service, file), 'utf8');
  const text = template.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`infra/${service}/${file}: no value for ${whole}`);
    return String(value);
  });
  const target = join(dataDir(ctx, service), file);
  writeFileSync(target, text);
  return target;
}

function dataDir(ctx: ServiceContext, service: string): string {
  const dir = join(ctx.dirs.data, service);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function java(): string {
  const home = process.env['JAVA_HOME'];
  return home !== undefined && existsSync(join(home, 'bin', 'java'))
    ? join(home, 'bin', 'java')
    : 'java';
}

function infraFile(ctx: ServiceContext, ...parts: string[]): string {
  return join(ctx.config.repoDir, 'infra', ...parts);
}

/** Copies the dependencies of infra/<folder>/pom.xml into the cache; returns that directory. */
async function mavenCache(
  ctx: ServiceContext,
  service: ServiceName,
  folder: string,
  scope?: string,
): Promise<string> {
  const dir = join(ctx.dirs.cache, folder, 'jars');
  await mavenDependencies({
    what: service,
    pom: infraFile(ctx, folder, 'pom.xml'),
    dir,
    ...(scope === undefined ? {} : { scope }),
    logFile: join(ctx.dirs.logs, `${service}-fetch.log`),
  });
  return dir;
}

const kafka: ServiceDefinition = {
  name: 'kafka',
  address: (ctx) => ctx.endpoints.kafkaBrokers.join(','),
  ports: (ctx) => [
    ctx.config.ports.kafka,
    ctx.config.ports.kafkaController,
    ctx.config.ports.kafkaSasl,
  ],
  debianPackages: [],
  readyTimeoutMs: 90_000,
  stopGraceMs: 60_000,
  async prepare(ctx) {
    const libs = await mavenCache(ctx, 'kafka', 'kafka', 'runtime');
    const dir = dataDir(ctx, 'kafka');
    const properties = render(ctx, 'kafka', 'server.properties', {
      PORT: ctx.config.ports.kafka,
      CONTROLLER_PORT: ctx.config.ports.kafkaController,
      SASL_PORT: ctx.config.ports.kafkaSasl,
      SASL_USER: kafkaSaslUser.username,
      SASL_PASSWORD: kafkaSaslUser.password,
      DATA_DIR: dir,
    });
    const jvm = [
      `-Dlog4j2.configurationFile=file:${infraFile(ctx, 'kafka', 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${join(dir, 'server-logs')}`,
      '-cp',
      `${libs}/*`,
    ];
    // KRaft storage is formatted once. The cluster id is 16 random bytes in base64url, as
    // Kafka's Uuid; like Uuid.randomUuid, never one starting with '-' (read as an option).
    if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
      let clusterId = randomBytes(16).toString('base64url');
      while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
      const { stdout, stderr } = await run(java(), [
        '-Xmx256m',
        ...jvm,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        properties,
        '--ignore-formatted',
        // SCRAM credentials live in the cluster metadata, written here with the first records.
        ...['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
          '--add-scram',
          `${mechanism}=[name=${kafkaSaslUser.username},password=${kafkaSaslUser.password}]`,
        ]),
      ]);
      writeFileSync(join(ctx.dirs.logs, 'kafka-format.log'), stdout + stderr);
    }
    return {
      command: java(),
      args: [
        '-Xms256m',
        // The broker keeps every partition's log, index and metrics objects on the heap. The test
        // suite leaves the topics of its runs behind (about 1,000 partitions per `npm test`), and
        // a stack kept up across many runs reached 13,800 partitions and died of
        // OutOfMemoryError at 512 MiB; `npm run stack -- down --purge` clears them.
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        ...jvm,
        'kafka.Kafka',
        properties,
      ],
      cwd: dir,
    };
  },
  probe: (ctx) => probeKafka(ctx.endpoints.kafkaBrokers).then(() => undefined),
};

const cassandra: ServiceDefinition = {
  name: 'cassandra',
  address: (ctx) => ctx.endpoints.cassandraContactPoint,
  ports: (ctx) => [ctx.config.ports.cassandra, ctx.config.ports.cassandraStorage],
  debianPackages: [],
  readyTimeoutMs: 240_000,
  stopGraceMs: 60_000,
  async prepare(ctx) {
    const libs = await mavenCache(ctx, 'cassandra', 'cassandra', 'runtime');
    const dir = dataDir(ctx, 'cassandra');
    mkdirSync(join(dir, 'triggers'), { recursive: true });
    const yaml = render(ctx, 'cassandra', 'cassandra.yaml', {
      PORT: ctx.config.ports.cassandra,
      STORAGE_PORT: ctx.config.ports.cassandraStorage,
      DATA_DIR: dir,
    });
    const options = readFileSync(infraFile(ctx, 'cassandra', 'jvm17-server.options'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .flatMap((line) => line.split(/\s+/));
    return {
      command: java(),
      args: [
        '-Xms1g',
        '-Xmx1g',
        ...options,
        `-javaagent:${join(libs, 'jamm-0.4.0.jar')}`,
        `-Dcassandra.config=file://${yaml}`,
        `-Dlogback.configurationFile=${infraFile(ctx, 'cassandra', 'logback.xml')}`,
        `-Dcassandra.logdir=${join(dir, 'logs')}`,
        `-Dcassandra.storagedir=${dir}`,
        `-Dcassandra.triggers_dir=${join(dir, 'triggers')}`,
        '-Dcassandra-foreground=yes',
        // A single node: no gossip to wait for.
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        '-Dcassandra.load_ring_state=false',
        '-Dcassandra.ring_delay_ms=1000',
        '-cp',
        `${libs}/*`,
        'org.apache.cassandra.service.CassandraDaemon',
      ],
      cwd: dir,
    };
  },
  probe: (ctx) =>
    probeCassandra(ctx.endpoints.cassandraContactPoint, ctx.endpoints.cassandraDataCenter).then(
      (version) => `Cassandra ${version}`,
    ),
};

const registry: ServiceDefinition = {
  name: 'registry',
  address: (ctx) => ctx.endpoints.registryUrl,
  ports: (ctx) => [ctx.config.ports.registry, ctx.config.ports.registryManagement],
  debianPackages: [],
  readyTimeoutMs: 120_000,
  stopGraceMs: 20_000,
  async prepare(ctx) {
    const dist = await mavenCache(ctx, 'registry', 'apicurio');
    const archive = readdirTarGz(dist);
    const app = join(ctx.dirs.cache, 'apicurio', 'app');
    await untarOnce(archive, app);
    const dir = dataDir(ctx, 'registry');
    return {
      command: await registryJava(ctx),
      args: [
        '-Xms128m',
        '-Xmx512m',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${ctx.config.ports.registry}`,
        // The management interface (health, metrics) is on at build time; keep it on loopback.
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${ctx.config.ports.registryManagement}`,
        '-Dquarkus.http.access-log.enabled=false',
        // H2 on disk, so schema ids survive a restart of the stack (Kafka keeps the records that name them).
        `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'registry')}`,
        '-Dapicurio.datasource.jdbc.initial-size=2',
        '-Dapicurio.datasource.jdbc.min-size=2',
        '-Dapicurio.datasource.jdbc.max-size=10',
        `-Dapicurio.storage.snapshot.location=${dir}`,
        '-jar',
        join(app, 'quarkus-run.jar'),
      ],
      cwd: dir,
    };
  },
  probe: (ctx) => probeRegistry(ctx.endpoints.registryUrl).then(() => undefined),
};

/**
 * Apicurio Registry 3.3 is compiled for Java 21. Use TRIBUTARY_REGISTRY_JAVA, else the first
 * Java 21+ found (JAVA_HOME, PATH, /usr/lib/jvm), else one installed from PyPI into the cache.
 */
async function registryJava(ctx: ServiceContext): Promise<string> {
  const jdkCacheDir = join(ctx.dirs.cache, 'jdk');
  const found = await findJava(21, {
    override: process.env['TRIBUTARY_REGISTRY_JAVA'],
    jdkCacheDir,
  });
  if (found !== undefined) return found;
  try {
    return await installJavaFromPyPI(jdkCacheDir, join(ctx.dirs.logs, 'registry-java.log'));
  } catch (error) {
    throw new FetchError(
      `registry: Apicurio Registry 3.3 needs Java 21 or newer and none was found; ` +
        `install one and set TRIBUTARY_REGISTRY_JAVA=/path/to/bin/java (${(error as Error).message})`,
    );
  }
}

function readdirTarGz(dir: string): string {
  const archive = readdirSync(dir).find((f) => f.endsWith('.tar.gz'));
  if (archive === undefined) throw new Error(`registry: no .tar.gz in ${dir}`);
  return join(dir, archive);
}

const prometheus: ServiceDefinition = {
  name: 'prometheus',
  address: (ctx) => ctx.endpoints.prometheusUrl,
  ports: (ctx) => [ctx.config.ports.prometheus],
  debianPackages: [{ executable: 'prometheus', pkg: 'prometheus' }],
  readyTimeoutMs: 30_000,
  stopGraceMs: 15_000,
  async prepare(ctx) {
    const dir = dataDir(ctx, 'prometheus');
    mkdirSync(ctx.endpoints.prometheusTargetsDir, { recursive: true });
    const config = render(ctx, 'prometheus', 'prometheus.yml', {
      PORT: ctx.config.ports.prometheus,
      TARGETS_DIR: ctx.endpoints.prometheusTargetsDir,
    });
    return {
      command: findExecutable('prometheus') ?? 'prometheus',
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        '--storage.tsdb.retention.time=1d',
        `--web.listen-address=127.0.0.1:${ctx.config.ports.prometheus}`,
      ],
      cwd: dir,
    };
  },
  probe: (ctx) => probePrometheus(ctx.endpoints.prometheusUrl).then(() => undefined),
};

const mosquitto: ServiceDefinition = {
  name: 'mosquitto',
  address: (ctx) => ctx.endpoints.mqttUrl,
  ports: (ctx) => [ctx.config.ports.mosquitto],
  debianPackages: [{ executable: 'mosquitto', pkg: 'mosquitto' }],
  readyTimeoutMs: 20_000,
  stopGraceMs: 10_000,
  async prepare(ctx) {
    const dir = dataDir(ctx, 'mosquitto');
    const config = render(ctx, 'mosquitto', 'mosquitto.conf', {
      PORT: ctx.config.ports.mosquitto,
      DATA_DIR: dir,
      USER: userInfo().username,
    });
    return { command: findExecutable('mosquitto') ?? 'mosquitto', args: ['-c', config], cwd: dir };
  },
  probe: (ctx) => probeMqtt(ctx.endpoints.mqttUrl).then(() => undefined),
};

export const services: readonly ServiceDefinition[] = [
  kafka,
  cassandra,
  registry,
  prometheus,
  mosquitto,
];

/** The nodes of the 3-broker mode: node n on the base Kafka ports + 100 * (n - 1). */
function clusterLayout(ctx: ServiceContext): KafkaNodeLayout[] {
  const { ports } = ctx.config;
  return Array.from({ length: ctx.config.kafkaBrokers }, (_, i) => ({
    id: i + 1,
    port: ports.kafka + i * kafkaNodePortStep,
    controllerPort: ports.kafkaController + i * kafkaNodePortStep,
    saslPort: ports.kafkaSasl + i * kafkaNodePortStep,
    dir: join(ctx.dirs.data, 'kafka-cluster', `node-${i + 1}`),
  }));
}

// The nodes are prepared together (one cluster id, every storage formatted once) though `up`
// starts them as three services at the same time: one shared promise per data directory.
const preparing = new Map<string, ReturnType<typeof prepareKafkaNodes>>();

function prepareCluster(ctx: ServiceContext): ReturnType<typeof prepareKafkaNodes> {
  const root = join(ctx.dirs.data, 'kafka-cluster');
  let pending = preparing.get(root);
  if (pending === undefined) {
    pending = kafkaJars(ctx.config.repoDir, ctx.dirs.cache).then((libs) =>
      prepareKafkaNodes({ repoDir: ctx.config.repoDir, libs, root, nodes: clusterLayout(ctx) }),
    );
    preparing.set(root, pending);
    // A failed or finished preparation is redone by the next start (it is idempotent).
    void pending.then(
      () => preparing.delete(root),
      () => preparing.delete(root),
    );
  }
  return pending;
}

function kafkaNode(id: number): ServiceDefinition {
  const node = (ctx: ServiceContext): KafkaNodeLayout => {
    const found = clusterLayout(ctx).find((n) => n.id === id);
    if (found === undefined) throw new Error(`kafka node ${id} is not part of this stack`);
    return found;
  };
  return {
    name: id === 1 ? 'kafka' : (`kafka-${id}` as ServiceName),
    address: (ctx) => `127.0.0.1:${node(ctx).port}`,
    ports: (ctx) => [node(ctx).port, node(ctx).controllerPort, node(ctx).saslPort],
    debianPackages: [],
    readyTimeoutMs: 90_000,
    stopGraceMs: 60_000,
    async prepare(ctx) {
      const spec = (await prepareCluster(ctx)).get(id);
      if (spec === undefined) throw new Error(`kafka node ${id} has no launch spec`);
      return spec;
    },
    // Ready once the cluster (as this node sees it) lists this node as a broker.
    async probe(ctx) {
      const ids = await registeredBrokers(`127.0.0.1:${node(ctx).port}`);
      if (!ids.includes(id))
        throw new Error(`node ${id} not registered yet (brokers: ${ids.join(', ')})`);
      return `node ${id} of ${ctx.config.kafkaBrokers}, brokers up: ${ids.join(', ')}`;
    },
  };
}

/** The services of this stack: with `--kafka-brokers 3`, three Kafka nodes in place of one. */
export function stackServices(ctx: ServiceContext): readonly ServiceDefinition[] {
  if (ctx.config.kafkaBrokers === 1) return services;
  const nodes = Array.from({ length: ctx.config.kafkaBrokers }, (_, i) => kafkaNode(i + 1));
  return [...nodes, ...services.filter((s) => s.name !== 'kafka')];
}

/** Command-line tools the tests use beside the servers. */
export const tools: DebianPackage[] = [{ executable: 'kcat', pkg: 'kcat' }];
