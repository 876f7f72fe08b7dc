import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { eventually } from './helpers.ts';

const bin = new URL('../../bin/tributary.js', import.meta.url).pathname;
const toolsCli = new URL('../../tools/cli.ts', import.meta.url).pathname;
export const repoRoot = new URL('../../', import.meta.url).pathname;

/** A `tributary` command as a separate OS process, with its output kept. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout lines that parsed as JSON (pino logs). */
  readonly log: Record<string, unknown>[];
  /** Everything written to stdout and stderr. */
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return startProcess([bin, ...args], env);
}

/** The tools' command line (`npm run produce -- ...`, tools/cli.ts) as a separate OS process. */
export function startTool(args: string[], env: Record<string, string> = {}): CliProcess {
  return startProcess(['--import', 'tsx', toolsCli, ...args], env);
}

function startProcess(nodeArgs: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  const log: Record<string, unknown>[] = [];
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  if (child.stdout === null) throw new Error('stdout is not piped');
  // TRIBUTARY_TEST_LOG_DIR keeps every process's stdout (its JSON log), as workers.ts does, for a
  // failure to be read afterwards: one file per worker id (or per pid).
  const logDir = process.env['TRIBUTARY_TEST_LOG_DIR'];
  if (logDir !== undefined) mkdirSync(logDir, { recursive: true });
  const logFile =
    logDir === undefined
      ? undefined
      : join(
          logDir,
          `${env['TRIBUTARY_APP_ID'] ?? 'cli'}-${env['TRIBUTARY_WORKER_ID'] ?? child.pid ?? 'x'}.log`,
        );
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (logFile !== undefined) appendFileSync(logFile, `${line}\n`);
    out.push(`${line}\n`);
    try {
      log.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      // Let the last lines reach the readers.
      setImmediate(() => resolve(code));
    });
  });
  return { child, log, stdout: () => out.join(''), stderr: () => err.join(''), exited };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a `tributary` command to its end: exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return toEnd(startCli(args, env), timeoutMs);
}

/** Runs a tools command (`produce readings ...`) to its end: exit code and output. */
export function runTool(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return toEnd(startTool(args, env), timeoutMs);
}

async function toEnd(cli: CliProcess, timeoutMs: number): Promise<CliResult> {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** GET a worker endpoint: status and body (status 0 when nothing answers). */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

export async function waitReady(port: number, timeoutMs = 60_000): Promise<void> {
  await eventually(
    `worker on port ${port} to be ready`,
    async () =>
      (await httpGet(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined,
    timeoutMs,
    250,
  );
}
