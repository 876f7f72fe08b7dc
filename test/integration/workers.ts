import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { endpoints, eventually } from './helpers.ts';

const fixture = new URL('./fixtures/worker.ts', import.meta.url).pathname;

/** One worker as a separate OS process, with what its JSON log said about its tasks. */
export interface WorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** The tasks of its latest assignment (undefined before its first). */
  tasks: string[] | undefined;
  readonly log: Record<string, unknown>[];
  /** What it wrote to stderr (and stdout lines that are not JSON). */
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

export function startWorkerProcess(settings: {
  id: string;
  /** A topology of fixtures/worker.ts; unused by another fixture. */
  topology?: 'tag' | 'keyby' | 'validate' | 'hourly' | 'hourly-rekeyed' | 'join' | 'global';
  appId: string;
  input: string;
  output: string;
  guarantee?: 'at_least_once' | 'exactly_once';
  stateDir?: string;
  /** Another worker fixture than fixtures/worker.ts, and its own settings. */
  fixture?: string;
  env?: Record<string, string>;
  /** The brokers to use; default the local stack's. */
  brokers?: string[];
}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', settings.fixture ?? fixture], {
    env: {
      ...process.env,
      ...settings.env,
      APP_ID: settings.appId,
      INPUT_TOPIC: settings.input,
      OUTPUT_TOPIC: settings.output,
      WORKER_ID: settings.id,
      TOPOLOGY: settings.topology ?? '',
      BROKERS: (settings.brokers ?? endpoints.kafkaBrokers).join(','),
      GUARANTEE: settings.guarantee ?? 'at_least_once',
      ...(settings.stateDir === undefined ? {} : { STATE_DIR: settings.stateDir }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const worker: WorkerProcess = {
    id: settings.id,
    child,
    tasks: undefined,
    log: [],
    stderr,
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    signal: (signal) => {
      child.kill(signal);
    },
  };
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  if (child.stdout === null) throw new Error('worker stdout is not piped');
  // TRIBUTARY_TEST_LOG_DIR keeps every worker's log lines, for a failure to be read afterwards.
  const logDir = process.env['TRIBUTARY_TEST_LOG_DIR'];
  if (logDir !== undefined) mkdirSync(logDir, { recursive: true });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (logDir !== undefined)
      appendFileSync(join(logDir, `${settings.appId}-${settings.id}.log`), `${line}\n`);
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      worker.log.push(entry);
      if (entry['msg'] === 'assignment') worker.tasks = entry['tasks'] as string[];
    } catch {
      stderr.push(line);
    }
  });
  void worker.exited.then((code) => {
    // Not a kill by the test (that is code null): say why, in the test's output.
    if (code !== 0 && code !== null) {
      console.error(
        `worker ${settings.id} exited ${code}: last log lines ${JSON.stringify(worker.log.slice(-4)).slice(-3000)}\n${stderr.join('').slice(-2000)}`,
      );
    }
  });
  return worker;
}

/** Waits until the live workers' latest assignments cover `taskCount` tasks, each owned once. */
export async function waitForAssignment(
  workers: WorkerProcess[],
  taskCount: number,
  timeoutMs = 60_000,
): Promise<void> {
  await eventually(
    () =>
      `${workers.length} workers to share ${taskCount} tasks (${workers.map((w) => `${w.id}: exit ${w.child.exitCode}, tasks ${w.tasks?.join(' ')}`).join('; ')})`,
    async () => {
      const all = workers.flatMap((w) => w.tasks ?? []);
      const everyoneHasWork = workers.every((w) => (w.tasks?.length ?? 0) > 0);
      return all.length === taskCount && new Set(all).size === taskCount && everyoneHasWork
        ? true
        : undefined;
    },
    timeoutMs,
  );
}

/** Sends SIGTERM and resolves with the exit code, failing if the worker takes over `limitMs`. */
export async function stopWorker(worker: WorkerProcess, limitMs = 30_000): Promise<number | null> {
  worker.signal('SIGTERM');
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`worker ${worker.id} did not exit within ${limitMs} ms of SIGTERM`)),
      limitMs,
    ).unref(),
  );
  return Promise.race([worker.exited, timeout]);
}
