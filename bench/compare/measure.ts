// Running one implementation as a process of its own and measuring it from outside, the same way
// for Node, the JVM and Python: CPU seconds and peak RSS from /proc, and the moment of its first
// record from the `FIRST_RECORD <epoch ms>` line every implementation prints.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

export interface ProcessFigures {
  /** User plus system CPU of the whole process life so far. */
  cpuSeconds: number;
  /** VmHWM: the most resident memory the process ever had. */
  peakRssMiB: number;
}

/** CPU and peak RSS of a live process, or undefined once it is gone. */
export function processFigures(pid: number): ProcessFigures | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return {
      cpuSeconds: ticks / ticksPerSecond,
      peakRssMiB: hwm === null ? 0 : Math.round(Number(hwm[1]) / 1024),
    };
  } catch {
    return undefined;
  }
}

export interface Measured {
  readonly child: ChildProcess;
  /** When the process said it took its first input record (its own clock, epoch ms). */
  readonly firstRecord: Promise<number>;
  /** CPU at the moment the first record was announced (to subtract start-up). */
  cpuAtFirstRecord(): number | undefined;
  /** The latest figures: read now if the process lives, else the last sample before it ended. */
  figures(): ProcessFigures;
  readonly exited: Promise<number | null>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** The `FIRST_RECORD <epoch ms>` line every implementation of the side-by-side benchmark prints. */
const firstRecordLine = (text: string): number | undefined => {
  const match = /^FIRST_RECORD (\d+)/.exec(text);
  return match === null ? undefined : Number(match[1]);
};

/**
 * Starts a command and samples its figures every 100 ms until it ends. `firstRecord` reads the
 * moment of its first record (epoch ms) from an output line, or returns undefined.
 */
export function startMeasured(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    firstRecord?: (line: string) => number | undefined;
  } = {},
): Measured {
  const firstRecordOf = options.firstRecord ?? firstRecordLine;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  let last: ProcessFigures = { cpuSeconds: 0, peakRssMiB: 0 };
  let cpuAtFirst: number | undefined;
  const sample = (): ProcessFigures => {
    const now = processFigures(pid);
    // A process that has ended but is not reaped yet reads as zero: keep the highest figures.
    if (now !== undefined)
      last = {
        cpuSeconds: Math.max(last.cpuSeconds, now.cpuSeconds),
        peakRssMiB: Math.max(last.peakRssMiB, now.peakRssMiB),
      };
    return last;
  };
  const timer = setInterval(sample, 100);
  const lines: string[] = [];
  let announce: (at: number) => void = () => undefined;
  const firstRecord = new Promise<number>((resolve) => (announce = resolve));
  /** The last few hundred lines of its output, for an error message. */
  const keep = (text: string): void => {
    lines.push(text);
    if (lines.length > 400) lines.splice(0, 200);
  };
  const onLine = (text: string): void => {
    keep(text);
    if (cpuAtFirst !== undefined) return;
    const at = firstRecordOf(text);
    if (at !== undefined) {
      cpuAtFirst = sample().cpuSeconds;
      announce(at);
    }
  };
  if (child.stdout === null || child.stderr === null) throw new Error('output is not piped');
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearInterval(timer);
      setImmediate(() => resolve(code));
    }),
  );
  return {
    child,
    firstRecord,
    cpuAtFirstRecord: () => cpuAtFirst,
    figures: sample,
    exited,
    output: () => lines.join('\n'),
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}
