import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The layers of DESIGN.md: a folder of src/ imports only the folders listed for it. Files at the
// top of src/ (the public index) may import any layer.
const mayImport: Record<string, string[]> = {
  core: [],
  serde: ['core'],
  topology: ['core', 'serde'],
  state: ['core', 'serde'],
  operators: ['core', 'serde', 'state'],
  kafka: ['core'],
  runtime: ['core', 'serde', 'topology', 'state', 'operators', 'kafka'],
  connectors: ['core', 'serde', 'operators'],
  metrics: ['core'],
  app: [
    'core',
    'serde',
    'topology',
    'state',
    'operators',
    'kafka',
    'runtime',
    'connectors',
    'metrics',
  ],
  cli: ['core', 'app', 'topology'],
  testing: ['core', 'serde', 'topology', 'state', 'operators', 'kafka', 'runtime'],
};

type Graph = Map<string, string[]>;

const srcDir = resolve(import.meta.dirname, '..', '..', 'src');
const importPattern =
  /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of every .ts file under dir, as paths relative to dir. */
function importGraph(dir: string): Graph {
  const graph: Graph = new Map();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2];
      if (specifier === undefined || !specifier.startsWith('.')) continue;
      targets.push(relative(dir, resolve(dirname(join(dir, file)), specifier)));
    }
    graph.set(file, targets);
  }
  return graph;
}

const layerOf = (file: string): string | undefined =>
  file.includes('/') ? file.split('/')[0] : undefined;

/** Imports that go against the layer order, as "from -> to". */
export function layerViolations(graph: Graph): string[] {
  const violations: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    if (layer === undefined) continue;
    for (const to of targets) {
      const target = layerOf(to);
      if (target === undefined || target === layer) {
        if (target === undefined)
          violations.push(`${from} -> ${to} (a layer importing the top-level index)`);
        continue;
      }
      const allowed = mayImport[layer];
      if (allowed === undefined)
        violations.push(`${from}: src/${layer} is not a layer of DESIGN.md`);
      else if (!allowed.includes(target)) violations.push(`${from} -> ${to}`);
    }
  }
  return violations;
}

/**
 * Imports from src/ to files outside it (tools/, topologies/, test/, scripts/, ...), as
 * "from -> to": src/ is the package, and the package ships nothing else, so such an import would
 * work in the checkout and break when installed.
 */
export function importsOutsideSrc(graph: Graph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph)
    for (const to of targets) if (to.startsWith('..')) found.push(`${from} -> ${to}`);
  return found;
}

/** Every import cycle, each as the list of files on it. */
export function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'visiting') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return found;
}

describe('architecture of src/', () => {
  const graph = importGraph(srcDir);

  it('reads the import graph of src/', () => {
    assert.ok(graph.size > 0);
    assert.ok(graph.get('kafka/partitioner.ts')?.includes('core/index.ts'));
  });

  it('imports only go down the layers of DESIGN.md', () => {
    assert.deepEqual(layerViolations(graph), []);
  });

  it('never imports outside src/ (tools/ are demo and test tools, not the package)', () => {
    assert.deepEqual(importsOutsideSrc(graph), []);
  });

  it('has no import cycles', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('the checks catch an upward import and a cycle', () => {
    const bad: Graph = new Map([
      ['core/a.ts', ['kafka/b.ts']],
      ['kafka/b.ts', ['core/a.ts']],
    ]);
    assert.deepEqual(layerViolations(bad), ['core/a.ts -> kafka/b.ts']);
    assert.deepEqual(cycles(bad), [['core/a.ts', 'kafka/b.ts', 'core/a.ts']]);
    const toTools: Graph = new Map([
      ['app/a.ts', ['../tools/generators/index.ts']],
      ['public-x.ts', ['../tools/mqtt-sensors/index.ts']],
    ]);
    assert.deepEqual(importsOutsideSrc(toTools), [
      'app/a.ts -> ../tools/generators/index.ts',
      'public-x.ts -> ../tools/mqtt-sensors/index.ts',
    ]);
  });
});
