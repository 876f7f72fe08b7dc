import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = new URL('../..', import.meta.url).pathname;

/** A `tributary` command running as a child process of a demo. */
export interface TributaryProcess {
  name: string;
  child: ChildProcess;
  /** The first log entry `isReady` accepts; rejects when the process exits before it. */
  ready: Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * Starts `tributary <args>` from the repository root with the given environment added. Its
 * stdout is its JSON log: errors (level >= 50) and lines that are not JSON are copied to stderr
 * under the process's name; stderr passes through.
 */
export function startTributary(
  name: string,
  args: string[],
  env: Record<string, string>,
  isReady: (entry: Record<string, unknown>) => boolean,
): TributaryProcess {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', join(root, 'bin/tributary.js'), ...args],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`${name} exited ${code} before it started`)));
    if (child.stdout === null) return;
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stderr.write(`${name}: ${line}\n`);
        return;
      }
      if (isReady(entry)) resolve(entry);
      if (Number(entry['level'] ?? 0) >= 50) process.stderr.write(`${name}: ${line}\n`);
    });
  });
  // Whoever awaits `ready` sees the rejection; nobody else needs to.
  ready.catch(() => undefined);
  return { name, child, ready, exited };
}

/** A worker's /metrics address from its 'worker started' log entry. */
export function metricsAddress(entry: Record<string, unknown>): string {
  const metrics = entry['metrics'] as { host: string; port: number };
  return `http://${metrics.host}:${metrics.port}/metrics`;
}

export const workerStarted = (entry: Record<string, unknown>): boolean =>
  entry['msg'] === 'worker started' && entry['metrics'] !== undefined;

/** The first process that has exited, if any. */
export function exitedProcess(processes: TributaryProcess[]): TributaryProcess | undefined {
  return processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
}

/** SIGTERM to each, then their exit codes. */
export async function stopAll(processes: TributaryProcess[]): Promise<(number | null)[]> {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  return Promise.all(processes.map((p) => p.exited));
}
