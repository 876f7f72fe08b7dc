import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { kafkaBrokersFile, stackConfig, stackEndpoints } from './config.ts';
import type { ServiceName, StackConfig } from './config.ts';
import { ensureDebianPackages } from './fetch.ts';
import { killNow, launch, pidFile, readPid, residentBytes, terminate } from './processes.ts';
import { stackServices, tools } from './services.ts';
import type { ServiceContext, ServiceDefinition } from './services.ts';

export type ServiceState = 'healthy' | 'unhealthy' | 'stopped' | 'port-in-use';

export interface ServiceStatus {
  name: ServiceName;
  address: string;
  state: ServiceState;
  pid?: number;
  rssBytes?: number;
  detail?: string;
}

export class StackError extends Error {
  override name = 'StackError';
  /** The services the failed call had started, so a caller can stop them again. */
  readonly started: ServiceName[];

  constructor(message: string, started: ServiceName[] = []) {
    super(message);
    this.started = started;
  }
}

export function serviceContext(config: StackConfig = stackConfig()): ServiceContext {
  const dir = (name: string): string => {
    const path = join(config.stackDir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  return {
    config,
    endpoints: stackEndpoints(config),
    dirs: { cache: dir('cache'), data: dir('data'), logs: dir('logs'), run: dir('run') },
  };
}

export function logFile(ctx: ServiceContext, name: ServiceName): string {
  return join(ctx.dirs.logs, `${name}.log`);
}

/** A path as the user should see it: relative to where they are, when it is below it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(false)),
    );
  });
}

async function probeOnce(
  ctx: ServiceContext,
  service: ServiceDefinition,
): Promise<{ ok: boolean; detail: string }> {
  try {
    const detail = await service.probe(ctx);
    return { ok: true, detail: detail ?? '' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Probes until the service answers, its process dies, or the timeout passes. */
async function waitReady(
  ctx: ServiceContext,
  service: ServiceDefinition,
  pidPath: string,
): Promise<string> {
  const deadline = Date.now() + service.readyTimeoutMs;
  for (;;) {
    const result = await probeOnce(ctx, service);
    if (result.ok) return result.detail;
    const last = result.detail;
    if (readPid(pidPath) === undefined) {
      throw new StackError(
        `${service.name} exited during start-up; log: ${shown(logFile(ctx, service.name))}`,
      );
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `${service.name} was not ready after ${service.readyTimeoutMs / 1000}s (${last}); log: ${shown(logFile(ctx, service.name))}`,
      );
    }
    await sleep(500);
  }
}

async function startOne(ctx: ServiceContext, service: ServiceDefinition): Promise<boolean> {
  const pidPath = pidFile(ctx.dirs.run, service.name);
  if (readPid(pidPath) !== undefined) return false;
  for (const port of service.ports(ctx)) {
    if (await portInUse(port)) {
      throw new StackError(
        `${service.name}: port ${port} on 127.0.0.1 is in use by a process this stack did not start; stop it or override the port (see README, Local stack)`,
      );
    }
  }
  let spec;
  try {
    spec = await service.prepare(ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StackError(
      message.startsWith(`${service.name}:`) ? message : `${service.name}: ${message}`,
    );
  }
  await launch(spec, logFile(ctx, service.name), pidPath, ctx.config.stackDir);
  return true;
}

export interface UpResult {
  /** The services this call started (the rest were already running). */
  started: ServiceName[];
  /** Seconds from the call to every service answering. */
  seconds: number;
}

/**
 * Starts every service that is not running and waits until all answer at protocol level.
 * Idempotent: a service whose PID file names a live process is only probed.
 */
export async function up(
  ctx: ServiceContext = serviceContext(),
  log: (line: string) => void = () => undefined,
): Promise<UpResult> {
  const began = Date.now();
  const services = stackServices(ctx);
  await ensureDebianPackages(
    [...services.flatMap((s) => s.debianPackages), ...tools],
    join(ctx.dirs.logs, 'apt.log'),
  );
  const started: ServiceName[] = [];
  const failures: string[] = [];
  await Promise.all(
    services.map(async (service) => {
      try {
        if (await startOne(ctx, service)) {
          started.push(service.name);
          log(`${service.name}: started, waiting for it to answer`);
        }
        const detail = await waitReady(ctx, service, pidFile(ctx.dirs.run, service.name));
        log(`${service.name}: ready at ${service.address(ctx)}${detail ? ` (${detail})` : ''}`);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }),
  );
  if (failures.length > 0) {
    throw new StackError(failures.join('\n'), started);
  }
  return {
    started: services.map((s) => s.name).filter((n) => started.includes(n)),
    seconds: (Date.now() - began) / 1000,
  };
}

/** Stops the named services (default: all) that this stack started, by PID file. */
export async function down(
  ctx: ServiceContext = serviceContext(),
  names: readonly ServiceName[] = stackServices(ctx).map((s) => s.name),
  log: (line: string) => void = () => undefined,
): Promise<void> {
  await Promise.all(
    stackServices(ctx)
      .filter((s) => names.includes(s.name))
      .map(async (service) => {
        const pidPath = pidFile(ctx.dirs.run, service.name);
        const record = readPid(pidPath);
        if (record === undefined) return;
        const how = await terminate(record, service.stopGraceMs);
        rmSync(pidPath, { force: true });
        log(`${service.name}: ${how} (pid ${record.pid})`);
      }),
  );
}

/** Deletes the servers' data (not the download cache). Only when nothing is running. */
export function purge(ctx: ServiceContext): void {
  const running = stackServices(ctx).filter(
    (s) => readPid(pidFile(ctx.dirs.run, s.name)) !== undefined,
  );
  if (running.length > 0) {
    throw new StackError(
      `cannot purge while ${running.map((s) => s.name).join(', ')} run; run down first`,
    );
  }
  rmSync(ctx.dirs.data, { recursive: true, force: true });
}

export async function status(ctx: ServiceContext = serviceContext()): Promise<ServiceStatus[]> {
  return Promise.all(
    stackServices(ctx).map(async (service): Promise<ServiceStatus> => {
      const record = readPid(pidFile(ctx.dirs.run, service.name));
      const address = service.address(ctx);
      if (record === undefined) {
        const busy = await Promise.all(service.ports(ctx).map(portInUse));
        return busy.some(Boolean)
          ? {
              name: service.name,
              address,
              state: 'port-in-use',
              detail: 'a process this stack did not start holds its port',
            }
          : { name: service.name, address, state: 'stopped' };
      }
      const probe = await probeOnce(ctx, service);
      const rss = residentBytes(record.pid);
      return {
        name: service.name,
        address,
        state: probe.ok ? 'healthy' : 'unhealthy',
        pid: record.pid,
        ...(rss === undefined ? {} : { rssBytes: rss }),
        detail: probe.detail,
      };
    }),
  );
}

/** The last lines of a service's log. */
export function logTail(ctx: ServiceContext, name: ServiceName, lines: number): string {
  const file = logFile(ctx, name);
  if (!existsSync(file)) throw new StackError(`${name} has no log yet (${shown(file)})`);
  const all = readFileSync(file, 'utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}

function serviceNamed(ctx: ServiceContext, name: string): ServiceDefinition {
  const service = stackServices(ctx).find((s) => s.name === name);
  if (service === undefined) {
    throw new StackError(
      `no service '${name}' in this stack (services: ${stackServices(ctx)
        .map((s) => s.name)
        .join(', ')})`,
    );
  }
  return service;
}

/**
 * Stops one service (or one Kafka node): SIGTERM and its grace, or with `kill` a SIGKILL of its
 * process group, as a crash would. The others keep running. Returns what happened.
 */
export async function stopService(
  ctx: ServiceContext,
  name: string,
  kill = false,
): Promise<'stopped' | 'killed' | 'not running'> {
  const service = serviceNamed(ctx, name);
  const pidPath = pidFile(ctx.dirs.run, service.name);
  const record = readPid(pidPath);
  if (record === undefined) return 'not running';
  let how: 'stopped' | 'killed' = 'killed';
  if (kill) await killNow(record);
  else how = await terminate(record, service.stopGraceMs);
  rmSync(pidPath, { force: true });
  return how;
}

/** Starts one service (or Kafka node) if it is not running and waits until it answers. */
export async function startService(ctx: ServiceContext, name: string): Promise<string> {
  const service = serviceNamed(ctx, name);
  await startOne(ctx, service);
  return waitReady(ctx, service, pidFile(ctx.dirs.run, service.name));
}

/**
 * Records the number of Kafka brokers for this stack (1 or 3). Switching needs Kafka stopped:
 * the two modes keep separate data (data/kafka and data/kafka-cluster), and a cluster's
 * controller quorum cannot change size by a restart.
 */
export function setKafkaBrokers(ctx: ServiceContext, brokers: number): void {
  if (brokers === ctx.config.kafkaBrokers) return;
  const running = stackServices(ctx)
    .filter((s) => s.name.startsWith('kafka'))
    .filter((s) => readPid(pidFile(ctx.dirs.run, s.name)) !== undefined);
  if (running.length > 0) {
    throw new StackError(
      `Kafka runs with ${ctx.config.kafkaBrokers} broker(s); to switch to ${brokers}, first run: npm run stack -- down`,
    );
  }
  writeFileSync(kafkaBrokersFile(ctx.config.stackDir), `${brokers}\n`);
}
