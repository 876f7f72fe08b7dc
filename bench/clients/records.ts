// What the client benchmark reads and writes: string keys `s-NNNNN` over 10,000 keys and
// JSON values of about 200 bytes; and the version of an installed client package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const keyCount = 10_000;
export const valueBytes = 200;

export function keyOf(seq: number): string {
  return `s-${String(seq % keyCount).padStart(5, '0')}`;
}

/** A JSON object padded to `valueBytes` characters (all ASCII, so as many bytes). */
export function valueOf(seq: number): string {
  const base = {
    sensor: keyOf(seq),
    seq,
    celsius: (seq % 600) / 10 - 20,
    at: 1_700_000_000_000 + seq,
    pad: '',
  };
  const length = JSON.stringify(base).length;
  return JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, valueBytes - length)) });
}

/** The key of each record, the 10,000 encoded once, so producing does not measure key encoding. */
export function keyBuffers(): (seq: number) => Buffer {
  const keys = Array.from({ length: keyCount }, (_, i) => Buffer.from(keyOf(i)));
  return (seq) => {
    const key = keys[seq % keyCount];
    if (key === undefined) throw new Error(`no key for record ${seq}`);
    return key;
  };
}

/** The `version` of the installed package `name` (found from its entry point upwards). */
export function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}
