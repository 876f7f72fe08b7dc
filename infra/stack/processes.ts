import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a PID file under .stack/run records about a process the stack started. */
export interface PidRecord {
  pid: number;
  /** A string in the process's command line (the stack directory), checked so that a reused PID is never mistaken for ours. */
  marker: string;
  startedAt: string;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

/** True when the PID is a live process (not a zombie) whose command line contains the marker. */
export function isOurs(record: PidRecord): boolean {
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(record.marker);
  } catch {
    return false;
  }
}

/** The live process recorded in the PID file, or undefined (a stale file is removed). */
export function readPid(file: string): PidRecord | undefined {
  if (!existsSync(file)) return undefined;
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    rmSync(file, { force: true });
    return undefined;
  }
  if (isOurs(record)) return record;
  rmSync(file, { force: true });
  return undefined;
}

/**
 * Starts a detached process (its own process group) writing to logFile, records its PID, and
 * resolves once the process runs the command (until exec, /proc shows the forking parent's).
 */
export async function launch(
  spec: LaunchSpec,
  logFile: string,
  file: string,
  marker: string,
): Promise<PidRecord> {
  mkdirSync(dirname(logFile), { recursive: true });
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(logFile, 'a');
  let record: PidRecord;
  let exited: number | null | undefined;
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.once('exit', (code) => (exited = code));
    child.unref();
    record = { pid: child.pid, marker, startedAt: new Date().toISOString() };
    writeFileSync(file, JSON.stringify(record) + '\n');
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 5_000;
  while (!isOurs(record) && exited === undefined && Date.now() < deadline) await sleep(20);
  return record;
}

/** Sends SIGTERM to the process group, waits up to graceMs, then SIGKILLs what is left. */
export async function terminate(record: PidRecord, graceMs: number): Promise<'stopped' | 'killed'> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-record.pid, sig);
    } catch {
      try {
        process.kill(record.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(record)) return 'stopped';
    await sleep(200);
  }
  signal('SIGKILL');
  while (isOurs(record)) await sleep(100);
  return 'killed';
}

/** kill -9 of the process group (a crash, no shutdown hook runs); resolves once it is gone. */
export async function killNow(record: PidRecord): Promise<void> {
  try {
    process.kill(-record.pid, 'SIGKILL');
  } catch {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  while (isOurs(record)) await sleep(50);
}

/** Resident memory of a process in bytes, from /proc; undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}
