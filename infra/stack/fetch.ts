import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class FetchError extends Error {
  override name = 'FetchError';
}

/**
 * Copies a pom's dependencies into dir with Maven. Maven's local repository (~/.m2) caches
 * every download, and a `.complete` marker in dir skips Maven entirely on later runs.
 */
export async function mavenDependencies(options: {
  what: string;
  pom: string;
  dir: string;
  logFile: string;
  scope?: string;
}): Promise<void> {
  const marker = join(options.dir, '.complete');
  if (existsSync(marker)) return;
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true });
  const args = [
    '-B',
    '-q',
    '-f',
    options.pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${options.dir}`,
  ];
  if (options.scope !== undefined) args.push(`-DincludeScope=${options.scope}`);
  try {
    const { stdout, stderr } = await run('mvn', args, { maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(options.logFile, stdout + stderr);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: string | number };
    writeFileSync(options.logFile, `${e.stdout ?? ''}${e.stderr ?? ''}`);
    if (e.code === 'ENOENT') {
      throw new FetchError(
        `${options.what}: Maven (mvn) is not on PATH; install Maven 3.8+ and Java 17+`,
      );
    }
    throw new FetchError(
      `${options.what}: fetching from Maven Central failed, see ${options.logFile}`,
    );
  }
  if (readdirSync(options.dir).length === 0) {
    throw new FetchError(`${options.what}: Maven copied no files, see ${options.logFile}`);
  }
  writeFileSync(marker, new Date().toISOString() + '\n');
}

/** Unpacks a .tar.gz into dir once (guarded by a marker file). */
export async function untarOnce(archive: string, dir: string): Promise<void> {
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await run('tar', ['xzf', archive, '-C', dir]);
  writeFileSync(marker, new Date().toISOString() + '\n');
}

/** Finds an executable on PATH or in the sbin folders where Debian puts daemons. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface DebianPackage {
  /** The executable the stack runs. */
  executable: string;
  /** The Debian package that provides it. */
  pkg: string;
}

/**
 * Installs the Debian packages whose executables are missing, in one apt-get call, when running
 * as root on a Debian-like system; otherwise one message says what to install.
 */
export async function ensureDebianPackages(
  wanted: DebianPackage[],
  logFile: string,
): Promise<void> {
  const missing = wanted.filter((p) => findExecutable(p.executable) === undefined);
  if (missing.length === 0) return;
  const names = missing.map((p) => p.pkg);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || findExecutable('apt-get') === undefined) {
    throw new FetchError(
      `missing ${missing.map((p) => p.executable).join(', ')}: install the Debian package(s) ` +
        `${names.join(' ')} (sudo apt-get install -y ${names.join(' ')}) or put the executables on PATH`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const log: string[] = [];
  const install = async (): Promise<void> => {
    const { stdout, stderr } = await run(
      'apt-get',
      ['install', '-y', '--no-install-recommends', ...names],
      {
        env,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    log.push(stdout, stderr);
  };
  try {
    try {
      await install();
    } catch {
      // The package lists may be missing or stale on a fresh machine.
      const { stdout, stderr } = await run('apt-get', ['update'], {
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      log.push(stdout, stderr);
      await install();
    }
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    log.push(e.stdout ?? '', e.stderr ?? '');
    writeFileSync(logFile, log.join(''));
    throw new FetchError(`apt-get install ${names.join(' ')} failed, see ${logFile}`);
  }
  writeFileSync(logFile, log.join(''));
  const still = missing.filter((p) => findExecutable(p.executable) === undefined);
  if (still.length > 0) {
    throw new FetchError(
      `installed ${names.join(' ')} but ${still.map((p) => p.executable).join(', ')} is still missing`,
    );
  }
}
