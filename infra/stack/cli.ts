// The local stack: `npm run stack -- up | down [--purge] | status | logs <service> [--lines N] [--follow]`.
import { spawn } from 'node:child_process';

import { serviceNames, StackConfigError } from './config.ts';
import type { ServiceName } from './config.ts';
import { FetchError } from './fetch.ts';
import { down, logFile, logTail, purge, serviceContext, StackError, status, up } from './stack.ts';

const usage = `usage: npm run stack -- <command>

  up                    fetch what is missing, start every service, wait until all answer
  down [--purge]        stop what the stack started (--purge also deletes the servers' data)
  status                each service, its address, health, PID and resident memory
  logs <service> [--lines N] [--follow]
                        a service's log (services: ${serviceNames.join(', ')})

Ports: TRIBUTARY_KAFKA_PORT (9092), TRIBUTARY_KAFKA_CONTROLLER_PORT (9093),
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
  const ctx = serviceContext();
  switch (command) {
    case 'up': {
      const result = await up(ctx, say);
      say(
        `stack is up in ${result.seconds.toFixed(1)}s (started: ${result.started.join(', ') || 'none, all were running'})`,
      );
      return 0;
    }
    case 'down':
      await down(ctx, serviceNames, say);
      if (rest.includes('--purge')) {
        purge(ctx);
        say(`deleted ${ctx.dirs.data}`);
      }
      say('stack is down');
      return 0;
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
      if (name === undefined || !serviceNames.includes(name)) {
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
