// One disorder run: a generated input published once to a fresh topic, read by one application
// per time mode (each its own app id, output topic and dead-letter topic) run as real worker
// processes, each checked against its own oracle once it has committed all of its input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Generated } from './disorder-generators.ts';
import { assertDeadLetters, assertWindows } from './disorder-check.ts';
import { endOffsets, publishReadings, readToEnd, waitForCommitted } from './disorder-io.ts';
import { disorderOracle } from './disorder-oracle.ts';
import type { DisorderOracle } from './disorder-oracle.ts';
import { scenarioWindows } from './disorder-scenarios.ts';
import type { Scenario, TimeMode } from './disorder-scenarios.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

export const partitions = 3;

const fixture = new URL('./fixtures/disorder-worker.ts', import.meta.url).pathname;

/** The seed of every run: DISORDER_SEED to repeat one, else a fixed one. Scenarios add to it. */
export const baseSeed = Number(process.env['DISORDER_SEED'] ?? 20_260_312);

/** One application (time mode) of a run, with its workers. */
export interface App {
  readonly mode: TimeMode;
  readonly appId: string;
  readonly output: string;
  readonly oracle: DisorderOracle;
  /** The live worker of each worker id. */
  readonly workers: Map<string, WorkerProcess>;
  /** Starts (or restarts, on the same state directory) the worker `id`. */
  start(id: string): WorkerProcess;
}

/** What a run is made of. */
export interface RunOptions {
  scenario: Scenario;
  generated: Generated;
  modes: TimeMode[];
  guarantee: 'at_least_once' | 'exactly_once';
  /** More settings of the worker fixture. */
  workerEnv?: Record<string, string>;
}

/**
 * For one test file: `prepare` sets runs up; `cleanup` (for `after()`) kills the workers still
 * running (a failed test leaves them) and removes their state directories.
 */
export function disorderHarness(): {
  prepare(options: RunOptions): Promise<{ input: string; apps: App[] }>;
  cleanup(): void;
} {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  return {
    prepare: (options) => prepareRun(options, live, dirs),
    cleanup() {
      for (const w of live) {
        if (w.child.exitCode === null && w.child.signalCode === null) w.signal('SIGKILL');
      }
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates the run's topics and its applications (one per mode) and computes their oracles;
 * starts no worker. Workers started later are added to `live`, their state directories to `dirs`.
 */
async function prepareRun(
  options: RunOptions,
  live: WorkerProcess[],
  dirs: string[],
): Promise<{ input: string; apps: App[] }> {
  const { scenario, generated, guarantee } = options;
  const input = `${uniqueName(`it-disorder-${scenario}`)}-in`;
  const apps = options.modes.map((mode): App => {
    const appId = uniqueName(`it-disorder-${scenario}-${mode}`);
    const output = `${appId}-out`;
    const stateDirs = new Map<string, string>();
    const workers = new Map<string, WorkerProcess>();
    return {
      mode,
      appId,
      output,
      oracle: disorderOracle(generated.readings, partitions, scenarioWindows[scenario], mode),
      workers,
      start(id) {
        let dir = stateDirs.get(id);
        if (dir === undefined) {
          dir = mkdtempSync(join(tmpdir(), `tributary-it-disorder-${id}-`));
          dirs.push(dir);
          stateDirs.set(id, dir);
        }
        const worker = startWorkerProcess({
          id,
          appId,
          input,
          output,
          guarantee,
          stateDir: dir,
          fixture,
          env: {
            ...options.workerEnv,
            SCENARIO: scenario,
            TIME: mode,
            BROKERS: endpoints.kafkaBrokers.join(','),
          },
        });
        live.push(worker);
        workers.set(id, worker);
        return worker;
      },
    };
  });
  await createTopics([
    { topic: input, partitions },
    ...apps.map((app) => ({ topic: app.output, partitions })),
  ]);
  return { input, apps };
}

/** Publishes the input and checks that each partition got the readings the oracle placed there. */
export async function publish(input: string, generated: Generated, apps: App[]): Promise<void> {
  await publishReadings(input, generated.readings);
  const ends = await endOffsets(input);
  assert.deepEqual(
    [...ends].sort(([a], [b]) => a - b).map(([, end]) => end),
    apps[0]?.oracle.partitionSizes,
    'each partition holds as many readings as the oracle placed there',
  );
}

/**
 * Waits until the app has committed all of its input, then checks its output and dead-letter
 * topics against its oracle. Resolves with figures for the test's diagnostics, or with what
 * differs from the oracle (both checks' findings).
 */
async function checkApp(
  app: App,
  input: string,
  timeoutMs: number,
): Promise<{ figures: string; failures: string[] }> {
  await waitForCommitted(app.appId, input, timeoutMs, () =>
    [...app.workers.values()].map((w) => `${w.id}: exit ${w.child.exitCode}`).join(', '),
  );
  const [results, dead] = await Promise.all([readToEnd(app.output), readToEnd(`${app.appId}-dlq`)]);
  const failures: string[] = [];
  const what = `time: '${app.mode}'`;
  for (const check of [
    () => assertWindows(results, app.oracle, what),
    () => assertDeadLetters(dead, app.oracle, input, what),
  ]) {
    try {
      check();
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { figures: `${what}: ${results.length} windows, ${dead.length} late`, failures };
}

/** Checks every app at once; fails with all that differs from the oracles. */
export async function checkApps(apps: App[], input: string, timeoutMs: number): Promise<string> {
  const checked = await Promise.all(apps.map((app) => checkApp(app, input, timeoutMs)));
  const failures = checked.flatMap((c) => c.failures);
  assert.ok(failures.length === 0, failures.join('\n'));
  return checked.map((c) => c.figures).join('; ');
}

/** Starts one worker per app and waits until each app's worker owns all partitions. */
export async function startOneWorkerEach(apps: App[]): Promise<void> {
  const workers = apps.map((app) => app.start(`${app.mode}-1`));
  await Promise.all(workers.map((w) => waitForAssignment([w], partitions)));
}

/** SIGTERM to every worker of the apps; each must exit 0. */
export async function stopAll(apps: App[]): Promise<void> {
  const workers = apps.flatMap((app) => [...app.workers.values()]);
  assert.deepEqual(
    await Promise.all(workers.map((w) => stopWorker(w))),
    workers.map(() => 0),
    'every worker stops cleanly',
  );
}
