/**
 * state: task-local stores. Operators read and write a StateStore synchronously; the runtime
 * flushes each store's changes at commit to its changelog topic and to RocksDB (state/rocksdb,
 * the only importer of the RocksDB binding, a separate entry so that this one loads no native
 * code), then writes the task's checkpoint file, and restores stores from both.
 *
 * @example
 *   const counts = new MemoryStore<number>('counts', jsonCodec<number>());
 *   counts.put(Buffer.from('sensor-1'), 1);
 *
 *   const taskDir = taskStateDir(stateDir, appId, taskId);
 *   const offsets = await readCheckpoint(taskDir); // undefined: restore from the beginning
 *   await writeCheckpoint(taskDir, new Map([['app-counts-changelog', '42']]));
 */
export {
  checkpointFileName,
  deleteCheckpoint,
  parseCheckpoint,
  readCheckpoint,
  readCheckpointFile,
  writeCheckpoint,
} from './checkpoint.ts';
export type { CheckpointFile } from './checkpoint.ts';
export { checkpointFault, describeWipeCause } from './state-check.ts';
export type { ChangelogRange, StoreOnDisk, WipeCause, WipeCauseKind } from './state-check.ts';
export { checkStateDirWritable } from './state-dirs.ts';
export { isFatalStateError, stateError, stateFaultOf } from './state-errors.ts';
export type { StateFault } from './state-errors.ts';
export {
  CachedStore,
  entryOverheadBytes,
  StoreCacheBudget,
  StoreNotLoadedError,
} from './cached-store.ts';
export type { KeyReader } from './cached-store.ts';
export { bytesCodec, jsonCodec, MemoryStore } from './memory-store.ts';
export { OrderedIndex } from './ordered-index.ts';
export { KeyValueStoreHandle, WindowStoreHandle, windowStoreKey } from './processor-stores.ts';
export { TimerStore, timerKey } from './timer-store.ts';
export { storeDir, taskStateDir } from './state-dirs.ts';
export { SeenEntries, SeenStore, seenKey } from './seen-store.ts';
export type { StateStore, StoreCache, StoreChange, ValueCodec } from './store.ts';
