import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { syncDirectory, TributaryError, writeFileAtomically } from '../core/index.ts';
import { stateError } from './state-errors.ts';

/**
 * The checkpoint file of a task directory: for each changelog topic of the task's stores, the
 * next offset to read on restore (the task's partition is implied). It is written at the end of
 * a commit, after the stores' RocksDB is flushed, so it never claims more than is on disk.
 *
 *   { "version": 1, "offsets": { "<changelogTopic>": "<next offset>" } }
 *
 * Offsets are strings because Kafka offsets are 64-bit.
 */
export const checkpointFileName = '.checkpoint';

const version = 1;
const offsetPattern = /^(0|[1-9][0-9]*)$/;

/**
 * The offsets of the task's checkpoint, or undefined when there is none, or it cannot be read or
 * parsed: then the caller wipes the stores and restores them from the beginning of the changelog.
 */
export async function readCheckpoint(taskDir: string): Promise<Map<string, string> | undefined> {
  const file = await readCheckpointFile(taskDir);
  return file.kind === 'found' ? file.offsets : undefined;
}

/**
 * A task's checkpoint file as found: absent (a first start, or under exactly-once a task that
 * did not close cleanly: both normal), corrupt (unreadable or not a version 1 checkpoint: a
 * fault, which the restore reports), or found.
 */
export type CheckpointFile =
  | { kind: 'absent' }
  | { kind: 'corrupt'; reason: string }
  | { kind: 'found'; offsets: Map<string, string> };

export async function readCheckpointFile(taskDir: string): Promise<CheckpointFile> {
  let text: string;
  try {
    text = await readFile(join(taskDir, checkpointFileName), 'utf8');
  } catch (cause) {
    if (isMissing(cause)) return { kind: 'absent' };
    return { kind: 'corrupt', reason: (cause as Error).message };
  }
  const offsets = parseCheckpoint(text);
  return offsets === undefined
    ? { kind: 'corrupt', reason: 'not a version 1 checkpoint' }
    : { kind: 'found', offsets };
}

/**
 * Replaces the task's checkpoint atomically: a reader sees the old file or the new one, never a
 * part of either, also after a crash.
 *
 * 1. Write a temporary file in the task directory and fsync it.
 * 2. Rename it over the checkpoint (atomic within one file system).
 * 3. Fsync the directory, so the rename itself survives a crash.
 */
export async function writeCheckpoint(
  taskDir: string,
  offsets: ReadonlyMap<string, string>,
): Promise<void> {
  const target = join(taskDir, checkpointFileName);
  const text = formatCheckpoint(offsets, target);
  try {
    await writeFileAtomically(target, text);
  } catch (cause) {
    throw stateError('write the checkpoint file', target, cause);
  }
}

/**
 * Deletes the task's checkpoint, if any. Under exactly_once a task calls this when it starts
 * processing: until its next clean commit writes a new checkpoint, RocksDB may hold writes the
 * changelog does not, so a crash must leave no checkpoint, and the next start wipes the stores
 * and restores from the changelog (Kafka Streams' rule).
 */
export async function deleteCheckpoint(taskDir: string): Promise<void> {
  const target = join(taskDir, checkpointFileName);
  try {
    await rm(target, { force: true });
    await syncDirectory(taskDir);
  } catch (cause) {
    if (isMissing(cause)) return;
    throw stateError('delete the checkpoint file', target, cause);
  }
}

/** Parses checkpoint text; undefined unless it is a well-formed version 1 checkpoint. */
export function parseCheckpoint(text: string): Map<string, string> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(data) || data['version'] !== version || !isObject(data['offsets'])) {
    return undefined;
  }
  const offsets = new Map<string, string>();
  for (const [topic, offset] of Object.entries(data['offsets'])) {
    if (typeof offset !== 'string' || !offsetPattern.test(offset)) return undefined;
    offsets.set(topic, offset);
  }
  return offsets;
}

function formatCheckpoint(offsets: ReadonlyMap<string, string>, target: string): string {
  for (const [topic, offset] of offsets) {
    if (!offsetPattern.test(offset)) {
      throw new TributaryError(
        'STATE_FAILED',
        `cannot write the checkpoint file ${target}: offset '${offset}' of changelog topic ${topic} is not a non-negative integer`,
        { retriable: false },
      );
    }
  }
  return `${JSON.stringify({ version, offsets: Object.fromEntries(offsets) })}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
