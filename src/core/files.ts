import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let tempCounter = 0;

/** Flushes a directory's entries (a rename or delete in it) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the file atomically: a temporary file in the same directory, flushed to disk, then
 * renamed over the old one (rename replaces atomically on POSIX), then the directory flushed so
 * the rename itself survives a power cut. A crash leaves the old file or the new one, never half.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}-${++tempCounter}.tmp`);
  try {
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  try {
    await syncDirectory(dir);
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic there
  }
}
