// The package as a user gets it: `npm pack` of this checkout, installed into a fresh project in a
// temporary folder (no access to src/), a topology written there against `tributary` and
// `tributary/models`, type-checked by tsc through the project's node_modules, run by the installed
// `tributary run` against the real broker and compared with an oracle; compiled JavaScript using
// the package without tsx; and internal paths refused by the package's exports (docs/api.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { repoRoot } from './cli.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';

/** Runs a command to its end (killed after timeoutMs): exit code, output and duration. */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/**
 * The environment without npm's own variables: under `npm test` they point at this checkout
 * (npm_config_local_prefix, npm_package_*), and the temporary project must not see it.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.toLowerCase().startsWith('npm_')) env[name] = value;
  // The installed bin's shebang (`env node`) finds the Node running this test.
  env['PATH'] = `${dirname(process.execPath)}${delimiter}${env['PATH'] ?? ''}`;
  return { ...env, ...extra };
}

function versionOf(dependency: string): string {
  const file = join(repoRoot, 'node_modules', dependency, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    // The package's .d.ts are checked too, against the dependencies' own types.
    skipLibCheck: false,
    noEmit: true,
  },
  include: ['*.ts'],
};

// value = 1.8 * celsius + 32: the test's oracle computes Fahrenheit itself.
const model = {
  kind: 'linear',
  version: 'fahrenheit-1',
  features: ['celsius'],
  output: 'fahrenheit',
  weights: [1.8],
  intercept: 32,
};

// The user's topology: the public entries only. The two @ts-expect-error lines fail the type
// check if an internal name or path ever becomes importable.
const topologySource = `import { json, string, topology } from 'tributary';
import type { Stream, TopologyContext } from 'tributary';
import { predict } from 'tributary/models';
import type { Prediction } from 'tributary/models';
// @ts-expect-error PlanNode is internal: no entry exports it.
import type { PlanNode } from 'tributary';
// @ts-expect-error the package's exports refuse paths into dist/.
import type { Task } from 'tributary/dist/runtime/task.js';

interface Reading {
  sensor: string;
  celsius: number;
}
interface Scored extends Reading {
  fahrenheit: number;
  modelVersion: string;
}

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(name + ' is not set');
  return value;
}

export default function probe(context: TopologyContext) {
  const t = topology(env('PROBE_APP_ID'));
  const readings: Stream<string, Reading> = t.stream(
    env('PROBE_INPUT'),
    { key: string(), value: json<Reading>() },
    { name: 'readings' },
  );
  const plausible = readings.filter((_sensor, r) => r.celsius > -60, { name: 'plausible' });
  plausible
    .process(
      predict({
        modelPath: new URL('./model.json', import.meta.url),
        features: (r: Reading) => ({ celsius: r.celsius }),
        output: (r: Reading, p: Prediction): Scored => ({
          ...r,
          fahrenheit: p.value,
          modelVersion: p.modelVersion,
        }),
      }),
      { name: 'to-fahrenheit' },
    )
    .to(env('PROBE_SCORED'), { key: string(), value: json<Scored>() });
  plausible
    .groupByKey()
    .count({ store: 'counts' })
    .to(env('PROBE_COUNTS'), { key: string(), value: json<number>() });
  void context.settings.guarantee;
  return t.build();
}
`;

// Compiled JavaScript (no tsx in this process): builds a topology, describes it, runs it through
// the test driver, and tries internal paths.
const compiledSource = `import { json, string, topology, TributaryError } from 'tributary';
import { createTestDriver } from 'tributary/testing';

const t = topology('compiled');
t.stream('in', { key: string(), value: json() }, { name: 'in' })
  .mapValues((v) => v * 2, { name: 'double' })
  .to('out', { key: string(), value: json() });
const built = t.build();
const driver = await createTestDriver(built);
const input = driver.input('in', { key: string(), value: json() });
for (const [key, value] of [['a', 1], ['b', 20], ['a', 300]]) input.pipe(key, value);
const outputs = driver.output('out', { key: string(), value: json() }).readAll().map((r) => [r.key, r.value]);
await driver.close();

const imports = {};
for (const path of ['tributary/dist/runtime/task.js', 'tributary/src/runtime/task.ts', 'tributary/dist/index.js']) {
  try {
    await import(path);
    imports[path] = 'loaded';
  } catch (error) {
    imports[path] = error.code;
  }
}
console.log(JSON.stringify({
  describe: built.describe().text,
  outputs,
  errorIsClass: new TributaryError('CONFIG_INVALID', 'x') instanceof Error,
  imports,
  loaders: process.execArgv,
}));
`;

describe('the packed package in a project of its own', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'tributary-package-'));
  const project = join(work, 'project');
  const installed = join(project, 'node_modules', 'tributary');
  after(() => rmSync(work, { recursive: true, force: true }));

  it('packs: compiled JavaScript, .d.ts and the bin; no sources, tests or demo files', async () => {
    // prepack builds dist/ first.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      timeoutMs: 300_000,
    });
    assert.equal(packed.code, 0, packed.stderr);
    // The report is the JSON array npm prints last (after any output of the build).
    const json = packed.stdout.slice(Math.max(0, packed.stdout.lastIndexOf('\n[') + 1));
    const [report] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
    assert.ok(report !== undefined);
    const files = report.files.map((f) => f.path);
    for (const file of [
      'package.json',
      'README.md',
      'bin/tributary.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/public-testing.js',
      'dist/public-models.d.ts',
      'dist/cli/main.js',
      // `tributary source weather` publishes Avro observations with this schema.
      'schemas/observation.avsc',
      // No demo tools: they live in tools/, outside the package.
    ])
      assert.ok(files.includes(file), `${file} is in the package`);
    const unwanted = files.filter(
      (f) =>
        !/^(package\.json|README\.md|LICENSE|bin\/tributary\.js|dist\/.+\.(js|d\.ts)|schemas\/[a-z-]+\.avsc)$/.test(
          f,
        ),
    );
    assert.deepEqual(unwanted, []);
    assert.deepEqual(
      files.filter((f) => /replay-server|simulator|sensor-model|fit-|generators/.test(f)),
      [],
      'no demo tools in the package',
    );
    writeFileSync(join(work, 'tarball'), join(work, report.filename));
  });

  it('installs into a fresh project outside the checkout', async () => {
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'package-probe', private: true, type: 'module' }),
    );
    const tarball = readFileSync(join(work, 'tarball'), 'utf8');
    // The real dependency tree from the registry (through the npm cache), and the checkout's
    // TypeScript and Node types at the same versions.
    const install = await run(
      'npm',
      [
        'install',
        tarball,
        `typescript@${versionOf('typescript')}`,
        `@types/node@${versionOf('@types/node')}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: project, timeoutMs: 300_000 },
    );
    assert.equal(install.code, 0, install.stderr);
    console.log(`npm install of the tarball and its dependencies: ${install.ms} ms`);
    assert.ok(existsSync(join(installed, 'dist', 'index.js')));
    assert.equal(existsSync(join(installed, 'src')), false, 'the package has no src/');
  });

  it('type-checks a topology against the installed .d.ts', async () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    writeFileSync(join(project, 'model.json'), JSON.stringify(model));
    writeFileSync(join(project, 'topology.ts'), topologySource);
    const tsc = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc')], {
      cwd: project,
      timeoutMs: 180_000,
    });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);

    // The same check fails for a type error, so the one above did check the topology.
    writeFileSync(
      join(project, 'broken.ts'),
      `import { string } from 'tributary';\nconst n: number = string();\nvoid n;\n`,
    );
    const broken = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc')], {
      cwd: project,
      timeoutMs: 180_000,
    });
    rmSync(join(project, 'broken.ts'));
    assert.notEqual(broken.code, 0);
    assert.match(broken.stdout, /broken\.ts\(2,7\): error TS2322/);
  });

  it('uses the package from compiled JavaScript without tsx; internal paths are refused', async () => {
    writeFileSync(join(project, 'compiled.mjs'), compiledSource);
    const node = await run(process.execPath, ['compiled.mjs'], { cwd: project, timeoutMs: 60_000 });
    assert.equal(node.code, 0, node.stderr);
    const result = JSON.parse(node.stdout) as {
      describe: string;
      outputs: [string, number][];
      errorIsClass: boolean;
      imports: Record<string, string>;
      loaders: string[];
    };
    assert.deepEqual(result.loaders, []);
    assert.match(result.describe, /Processor: double \(mapValues\)/);
    assert.deepEqual(result.outputs, [
      ['a', 2],
      ['b', 40],
      ['a', 600],
    ]);
    assert.equal(result.errorIsClass, true);
    assert.deepEqual(result.imports, {
      'tributary/dist/runtime/task.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'tributary/src/runtime/task.ts': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      'tributary/dist/index.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  it('runs the topology with the installed `tributary run` against the broker', async () => {
    const appId = uniqueName('package-probe');
    const topics = { input: `${appId}-in`, scored: `${appId}-scored`, counts: `${appId}-counts` };
    await createTopics([
      { topic: topics.input, partitions: 2 },
      { topic: topics.scored, partitions: 2 },
      { topic: topics.counts, partitions: 2 },
    ]);
    const input = Array.from({ length: 200 }, (_, i) => ({
      key: `sensor-${i % 7}`,
      value: { sensor: `sensor-${i % 7}`, celsius: ((i * 37) % 150) - 80 },
    }));
    // The oracle: which readings pass, their Fahrenheit, and the count per sensor.
    const plausible = input.filter((r) => r.value.celsius > -60);
    const expectedScored = plausible
      .map((r) => `${r.key} ${r.value.celsius} ${r.value.celsius * 1.8 + 32} fahrenheit-1`)
      .sort();
    const expectedCounts = new Map<string, number>();
    for (const r of plausible) expectedCounts.set(r.key, (expectedCounts.get(r.key) ?? 0) + 1);
    assert.ok(plausible.length > 0 && plausible.length < input.length);

    const worker = startInstalledWorker(project, {
      PROBE_APP_ID: appId,
      PROBE_INPUT: topics.input,
      PROBE_SCORED: topics.scored,
      PROBE_COUNTS: topics.counts,
      TRIBUTARY_BROKERS: endpoints.kafkaBrokers.join(','),
      TRIBUTARY_STATE_DIR: join(work, 'state'),
      TRIBUTARY_METRICS_PORT: '0',
    });
    try {
      await produceJson(topics.input, input);
      const scored = await readTopic(
        topics.scored,
        (records) => records.length >= plausible.length,
      );
      const got = scored
        .map((r) => {
          const v = JSON.parse(String(r.value)) as {
            celsius: number;
            fahrenheit: number;
            modelVersion: string;
          };
          return `${r.key} ${v.celsius} ${v.fahrenheit} ${v.modelVersion}`;
        })
        .sort();
      assert.deepEqual(got, expectedScored);

      // Each sensor's latest count (one key stays on one partition, read in offset order).
      const latest = new Map<string, number>();
      await readTopic(topics.counts, (records) => {
        for (const r of records) latest.set(String(r.key), Number(String(r.value)));
        return [...expectedCounts].every(([key, count]) => latest.get(key) === count);
      });
      assert.deepEqual(new Map([...latest].sort()), new Map([...expectedCounts].sort()));
    } finally {
      worker.child.kill('SIGTERM');
      const timer = setTimeout(() => worker.child.kill('SIGKILL'), 30_000);
      const code = await worker.exited;
      clearTimeout(timer);
      assert.equal(code, 0, worker.stderr());
    }
  });
});

/** `tributary run topology.ts` through the project's node_modules/.bin, as `npx tributary` runs it. */
function startInstalledWorker(project: string, env: Record<string, string>) {
  const child = spawn(join(project, 'node_modules', '.bin', 'tributary'), ['run', 'topology.ts'], {
    cwd: project,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, exited, stderr: () => `${stderr}\n${stdout.slice(-3000)}` };
}
