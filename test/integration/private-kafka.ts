// A Kafka broker of a test's own: one combined broker and KRaft controller on free loopback
// ports, with its own data directory, that the test may stop, kill and start again. Tests that
// take a broker down use this, never the shared stack on 9092 (other tests run against it).
// Launched as infra/stack/services.ts launches the stack's Kafka, from the cached jars.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { probeKafka } from '../../infra/stack/probes.ts';

const root = new URL('../../', import.meta.url).pathname;

/** The stack's cached Kafka jars: the main checkout's cache when this checkout has none. */
function kafkaJars(): string {
  const candidates = [
    join(root, '.stack/cache/kafka/jars'),
    join(process.env['TRIBUTARY_STACK_DIR'] ?? '', 'cache/kafka/jars'),
    '/work/main/.stack/cache/kafka/jars',
  ];
  const found = candidates.find((dir) => dir !== 'cache/kafka/jars' && existsSync(dir));
  if (found === undefined)
    throw new Error(`no Kafka jars (looked in ${candidates.join(', ')}): run npm run stack -- up`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface PrivateKafka {
  readonly brokers: string[];
  /** Starts the broker (again) and resolves once it answers a metadata request. */
  start(): Promise<void>;
  /** SIGTERM: a controlled shutdown; resolves once the process exited. */
  stop(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  readonly running: boolean;
  /** Stops the broker and deletes its data directory. */
  close(): Promise<void>;
}

export async function privateKafka(): Promise<PrivateKafka> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tributary-private-kafka-'));
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(dir, 'logs')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=4',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'log.retention.ms=-1',
      '',
    ].join('\n'),
  );
  const jvm = ['-cp', `${kafkaJars()}/*`, `-Dkafka.logs.dir=${join(dir, 'server-logs')}`];
  const clusterId = `t${randomBytes(15).toString('base64url')}`.slice(0, 22);
  const format = spawn(
    'java',
    ['-Xmx256m', ...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
    { stdio: 'ignore' },
  );
  const formatted = await new Promise<number | null>((resolve) => format.on('exit', resolve));
  if (formatted !== 0) throw new Error(`formatting the private Kafka storage exited ${formatted}`);
  const brokers = [`127.0.0.1:${port}`];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const log = createWriteStream(join(dir, 'kafka.log'), { flags: 'a' });

  const waitExit = async (signal: NodeJS.Signals): Promise<void> => {
    if (child === undefined) return;
    child.kill(signal);
    await exited;
    child = undefined;
  };
  return {
    brokers,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child !== undefined) return;
      const started = spawn(
        'java',
        [
          '-Xms128m',
          '-Xmx384m',
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          ...jvm,
          'kafka.Kafka',
          properties,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      started.stdout?.pipe(log, { end: false });
      started.stderr?.pipe(log, { end: false });
      child = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (started.exitCode !== null)
          throw new Error(
            `the private Kafka exited ${started.exitCode} at start (${dir}/kafka.log)`,
          );
        try {
          await probeKafka(brokers);
          return;
        } catch (error) {
          if (Date.now() > deadline)
            throw new Error(`the private Kafka did not answer within 90 s (${dir}/kafka.log)`, {
              cause: error,
            });
          await sleep(500);
        }
      }
    },
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    async close() {
      await waitExit('SIGKILL');
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
