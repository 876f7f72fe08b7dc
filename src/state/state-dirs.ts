import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { TributaryError, writeFileAtomically } from '../core/index.ts';
import type { TaskId } from '../core/index.ts';

import { checkpointFileName } from './checkpoint.ts';
import { stateError } from './state-errors.ts';

/**
 * A task's state directory, `<stateDir>/<appId>/<taskId>`: one RocksDB directory per store and
 * the checkpoint file.
 */
export function taskStateDir(stateDir: string, appId: string, taskId: TaskId): string {
  return join(stateDir, checkSegment(appId, 'application id'), checkSegment(taskId, 'task id'));
}

/** A store's RocksDB directory, `<stateDir>/<appId>/<taskId>/<store>`. */
export function storeDir(stateDir: string, appId: string, taskId: TaskId, store: string): string {
  checkSegment(store, 'store name');
  if (store.startsWith(checkpointFileName)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `store name '${store}' is not valid: names starting with '${checkpointFileName}' are reserved for the checkpoint file`,
    );
  }
  return join(taskStateDir(stateDir, appId, taskId), store);
}

/**
 * Checks at start that the application's state directory `<stateDir>/<appId>` can be created and
 * written (a file written, fsynced, renamed and deleted), so a read-only or unwritable directory
 * stops the worker with one clear line (STATE_DIR_UNWRITABLE, STATE_DISK_FULL) before it joins
 * its group, rather than when its first task restores.
 */
export async function checkStateDirWritable(stateDir: string, appId: string): Promise<void> {
  const dir = join(stateDir, checkSegment(appId, 'application id'));
  const probe = join(dir, '.write-check');
  try {
    await mkdir(dir, { recursive: true });
    await writeFileAtomically(probe, 'tributary\n');
    await rm(probe, { force: true });
  } catch (cause) {
    throw stateError('write to', dir, cause, 'STATE_DIR_UNWRITABLE');
  }
}

/**
 * The topology checks names against Kafka's rule for topic names; this keeps a name that slipped
 * through from leaving the state directory ('..', '/').
 */
function checkSegment(name: string, role: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `${role} '${name}' cannot name a state directory: use the characters a-z A-Z 0-9 '.' '_' '-', and not '.' or '..'`,
    );
  }
  return name;
}
