// The local stack: `npm run stack -- up | down [--purge] | status | logs <service> [--lines N] [--follow]`.
import { spawn } from 'node:child_process';

import { extraKafkaNodes, parseKafkaBrokers, serviceNames, StackConfigError } from './config.ts';
import type { ServiceName } from './config.ts';
import { FetchError } from './fetch.ts';
import {
  down,
  logFile,
  logTail,
  purge,
  serviceContext,
  setKafkaBrokers,
  StackError,
  startService,
  status,
  stopService,
  up,
} from './stack.ts';

const usage = `usage: npm run stack -- <command>

  up [--kafka-brokers 1|3]
                        fetch what is missing, start every service, wait until all answer;
                        --kafka-brokers 3 runs Kafka as a 3-node cluster (kafka, kafka-2, kafka-3)
                        and is remembered until changed (switching needs \`down\` first)
  down [--purge]        stop what the stack started (--purge also deletes the servers' data)
  stop <service>... [--kill]
                        stop services or Kafka nodes (--kill: kill -9, as a crash)
  start <service>...    start stopped services or Kafka nodes, wait until they answer
  status                each service, its address, health, PID and resident memory
  logs <service> [--lines N] [--follow]
                        a service's log (services: ${serviceNames.join(', ')})

Ports: TRIBUTARY_KAFKA_PORT (9092), TRIBUTARY_KAFKA_CONTROLLER_PORT (9093),
TRIBUTARY_KAFKA_SASL_PORT (9094); Kafka node n of a 3-node cluster uses these + 100 * (n - 1),
TRIBUTARY_CASSANDRA_PORT (9042), TRIBUTARY_CASSANDRA_STORAGE_PORT (7000),
TRIBUTARY_REGISTRY_PORT (8081),
TRIBUTARY_REGISTRY_MANAGEMENT_PORT (8082), TRIBUTARY_PROMETHEUS_PORT (9090), TRIBUTARY_MQTT_PORT (1883).
State lives in TRIBUTARY_STACK_DIR (default .stack/).`;

const say = (line: string): void => console.log(line);

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${Math.round(bytes / (1024 * 1024))} MiB`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let ctx = serviceContext();
  switch (command) {
    case 'up': {
      const at = rest.indexOf('--kafka-brokers');
      if (at >= 0) {
        setKafkaBrokers(ctx, parseKafkaBrokers(rest[at + 1] ?? '', '--kafka-brokers'));
        ctx = serviceContext();
      }
      const result = await up(ctx, say);
      say(
        `stack is up in ${result.seconds.toFixed(1)}s (started: ${result.started.join(', ') || 'none, all were running'})`,
      );
      return 0;
    }
    case 'down':
      await down(ctx, undefined, say);
      if (rest.includes('--purge')) {
        purge(ctx);
        say(`deleted ${ctx.dirs.data}`);
      }
      say('stack is down');
      return 0;
    case 'stop':
    case 'start': {
      // Several names are handled together: the nodes of a stopped 3-node Kafka must start at
      // the same time (one alone has no controller quorum and never becomes ready).
      const kill = rest.includes('--kill');
      const names = rest.filter((arg) => !arg.startsWith('-'));
      if (names.length === 0) {
        console.error(`stack ${command}: name a service (see: npm run stack -- status)`);
        return 2;
      }
      await Promise.all(
        names.map(async (name) => {
          if (command === 'stop') say(`${name}: ${await stopService(ctx, name, kill)}`);
          else {
            const detail = await startService(ctx, name);
            say(`${name}: ready${detail ? ` (${detail})` : ''}`);
          }
        }),
      );
      return 0;
    }
    case 'status': {
      const rows = await status(ctx);
      const table = rows.map((r) => [
        r.name,
        r.address,
        r.state,
        r.pid?.toString() ?? '-',
        megabytes(r.rssBytes),
        r.detail ?? '',
      ]);
      const header = ['service', 'address', 'health', 'pid', 'rss', 'detail'];
      const widths = header.map((h, i) =>
        Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)),
      );
      for (const row of [header, ...table])
        say(
          row
            .map((cell, i) => cell.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd(),
        );
      return rows.every((r) => r.state === 'healthy') ? 0 : 1;
    }
    case 'logs': {
      const name = rest[0] as ServiceName | undefined;
      const names: readonly ServiceName[] = [...serviceNames, ...extraKafkaNodes];
      if (name === undefined || !names.includes(name)) {
        console.error(`stack logs: name a service: ${serviceNames.join(', ')}`);
        return 2;
      }
      const linesAt = rest.indexOf('--lines');
      const lines = linesAt >= 0 ? Number(rest[linesAt + 1]) : 200;
      if (!Number.isInteger(lines) || lines < 1) {
        console.error('stack logs: --lines takes a positive whole number');
        return 2;
      }
      if (rest.includes('--follow') || rest.includes('-f')) {
        const tail = spawn('tail', ['-n', String(lines), '-F', logFile(ctx, name)], {
          stdio: 'inherit',
        });
        return new Promise((resolve) => tail.on('exit', (code) => resolve(code ?? 0)));
      }
      say(logTail(ctx, name, lines));
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      say(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`stack: unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackConfigError) {
      console.error(`stack: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof StackError || error instanceof FetchError) {
      console.error(`stack: ${error.message}`);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  },
);
