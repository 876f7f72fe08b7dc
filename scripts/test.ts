// `npm test`: lint, typecheck (with the type tests), then the unit and integration tests in one
// run of Node's test runner. The integration tests need the local stack: it is started when it
// is not up, and whatever this run started is stopped at the end, so the stack is left as found.
//
//   npm test                  everything
//   npm run test:unit         lint, typecheck, unit tests (no servers)
//   npm run test:integration  integration tests only
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import type { ServiceName } from '../infra/stack/config.ts';
import { down, serviceContext, StackError, up } from '../infra/stack/stack.ts';

type Mode = 'all' | 'unit' | 'integration';

const root = join(import.meta.dirname, '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

function run(command: string, args: string[], onLine?: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: ['inherit', onLine === undefined ? 'inherit' : 'pipe', 'inherit'],
    });
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.on('close', (code, signal) => {
      if (pending !== '') onLine?.(pending);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

/** Reads the counts from the runner's summary (TAP `# pass 3` or spec `ℹ pass 3`). */
function summaryCounter(): { onLine: (line: string) => void; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const onLine = (line: string): void => {
    const match = /^(?:# |\u2139 )(tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(
      line.trim(),
    );
    if (match?.[1] !== undefined) counts.set(match[1], Number(match[2]));
  };
  return { onLine, counts };
}

function testFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => relative(root, join(root, dir, file)))
    .sort();
}

async function step(name: string, command: string, args: string[]): Promise<void> {
  console.log(`\n== ${name}`);
  const code = await run(command, args);
  if (code !== 0) {
    console.error(`\n${name} failed (exit ${code})`);
    process.exit(code);
  }
}

async function main(mode: Mode): Promise<number> {
  await step(`node ${process.version} (.nvmrc pins the tested Node)`, process.execPath, [
    join(root, 'scripts/ensure-node.mjs'),
    '--check',
  ]);
  if (mode !== 'integration') {
    await step('lint: eslint', bin('eslint'), ['.']);
    await step('format: prettier --check', bin('prettier'), ['--check', '.']);
    await step('typecheck (includes test/types)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  }
  const files = [
    ...(mode === 'integration' ? [] : testFiles('test/unit')),
    ...(mode === 'unit' ? [] : testFiles('test/integration')),
  ];
  if (files.length === 0) throw new Error('no test files found');

  let started: ServiceName[] = [];
  const summary = summaryCounter();
  const ctx = serviceContext();
  const stopStarted = async (): Promise<void> => {
    if (started.length === 0) return;
    console.log(`\n== stopping what this run started: ${started.join(', ')}`);
    await down(ctx, started, (line) => console.log(line));
    started = [];
  };
  process.once('SIGINT', () => void stopStarted().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stopStarted().finally(() => process.exit(143)));

  try {
    if (mode !== 'unit') {
      console.log('\n== local stack (npm run stack -- up)');
      try {
        const result = await up(ctx, (line) => console.log(line));
        started = result.started;
        console.log(`stack ready in ${result.seconds.toFixed(1)}s`);
      } catch (error) {
        started = error instanceof StackError ? error.started : [];
        console.error(`stack: ${error instanceof Error ? error.message : String(error)}`);
        return 1;
      }
    }
    console.log(`\n== tests (${files.length} files)`);
    // Integration files share one stack: run the files one at a time.
    return await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
        '--test-concurrency=1',
        // A hang guard per file: the broker-fault files take 4-6 minutes of outages and recoveries.
        '--test-timeout=900000',
        ...files,
      ],
      summary.onLine,
    );
  } finally {
    await stopStarted();
    // The last line of the run, after the stack is stopped: what passed and what did not.
    const { counts } = summary;
    if (counts.has('pass')) {
      const skipped = (counts.get('skipped') ?? 0) + (counts.get('todo') ?? 0);
      const failed = (counts.get('fail') ?? 0) + (counts.get('cancelled') ?? 0);
      console.log(
        `\ntests: ${counts.get('pass')} passed, ${failed} failed` +
          (skipped > 0 ? `, ${skipped} skipped` : ''),
      );
    }
  }
}

const arg = process.argv[2] ?? 'all';
if (arg !== 'all' && arg !== 'unit' && arg !== 'integration') {
  console.error(`usage: tsx scripts/test.ts [all|unit|integration], got '${arg}'`);
  process.exit(2);
}
main(arg).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
