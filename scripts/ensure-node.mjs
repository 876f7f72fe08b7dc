// The project's Node: `npm ci` / `npm install` (their `prepare` step) run this, and every npm
// script then runs on the Node pinned in .nvmrc.
//
// npm puts node_modules/.bin first on PATH for every script, and every script and test starts
// Node as `node`, through a `#!/usr/bin/env node` bin (tsx) or through process.execPath of a
// process started that way. So when the Node running `npm ci` is not the pinned line, this
// script:
//   1. fetches the registry package `node-<platform>-<arch>@<pin>` (the official binary, as npm
//      packs it) with `npm pack`, so npm's cache serves it the next time;
//   2. unpacks only bin/node and its LICENSE into node_modules/.tributary-node/<pin>/;
//   3. links node_modules/.bin/node to it.
// A Node of the pinned major line at or above the pin is used as it is: nothing is fetched.
// `node scripts/ensure-node.mjs --check` only checks the Node that runs it (npm test does, so a
// run after `npm ci --ignore-scripts` says why instead of testing on another Node). Plain
// JavaScript, no dependencies: it runs on whatever Node runs npm (20 included) before anything
// else is set up.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pin = readFileSync(join(repo, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
const bin = join(repo, 'node_modules', '.bin');
const link = join(bin, 'node');

/** [major, minor, patch] of "26.12.1". */
function parse(version) {
  const parts = version.split('.').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n))) {
    throw new Error(`.nvmrc must hold one Node version such as 26.12.1, got '${version}'`);
  }
  return parts;
}

/** True when `have` is on the pin's major line and not older than the pin. */
function satisfies(have, want) {
  const [a, b] = [parse(have), parse(want)];
  if (a[0] !== b[0]) return false;
  for (let i = 1; i < 3; i += 1) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/** Removes node_modules/.bin/node when it is a link (an earlier run's), even a dangling one. */
function removeLink() {
  let stats;
  try {
    stats = lstatSync(link);
  } catch {
    return;
  }
  if (stats.isSymbolicLink()) unlinkSync(link);
}

function main() {
  if (process.argv.includes('--check')) {
    if (satisfies(process.versions.node, pin)) return;
    throw new Error(
      `this runs on Node ${process.versions.node}, and Tributary is tested on Node ${pin} (.nvmrc): ` +
        'run `npm ci` (its prepare step puts that Node first on the PATH of npm scripts) or install it',
    );
  }
  if (satisfies(process.versions.node, pin)) {
    console.log(
      `tributary: Node ${process.versions.node} satisfies .nvmrc (${pin}); nothing to fetch`,
    );
    return;
  }
  const pkg = `node-${process.platform}-${process.arch}`;
  const home = join(repo, 'node_modules', '.tributary-node', pin);
  const binary = join(home, 'bin', 'node');
  if (!existsSync(binary)) {
    const work = mkdtempSync(join(tmpdir(), 'tributary-node-'));
    try {
      let tarball;
      try {
        // --json names the file; npm's cache keeps the tarball for the next `npm ci`.
        const out = execFileSync(
          'npm',
          ['pack', `${pkg}@${pin}`, '--json', '--pack-destination', work, '--silent'],
          { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        tarball = join(work, JSON.parse(out)[0].filename);
      } catch (error) {
        throw new Error(
          `could not fetch ${pkg}@${pin} from the npm registry (${error.message.split('\n')[0]}); ` +
            `install Node ${pin} yourself (it is then used as it is) or check the registry setting`,
          { cause: error },
        );
      }
      mkdirSync(home, { recursive: true });
      execFileSync('tar', [
        '-xzf',
        tarball,
        '-C',
        home,
        '--strip-components=1',
        'package/bin/node',
        'package/LICENSE',
      ]);
      chmodSync(binary, 0o755);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (version !== `v${pin}`) throw new Error(`${binary} reports ${version}, expected v${pin}`);
  mkdirSync(bin, { recursive: true });
  removeLink();
  symlinkSync(relative(bin, binary), link);
  console.log(
    `tributary: running on Node ${process.versions.node}; npm scripts now use Node ${pin} ` +
      `from the registry package ${pkg} (node_modules/.bin/node)`,
  );
}

try {
  main();
} catch (error) {
  console.error(`tributary: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
