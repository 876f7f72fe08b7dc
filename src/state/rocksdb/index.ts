/**
 * state/rocksdb: the durable layer of a task's stores, and the only importer of the RocksDB
 * binding. A separate entry from state/, so that importing state/ does not load native code.
 *
 * @example
 *   const dir = storeDir(stateDir, appId, taskId, 'counts');
 *   const rocks = await RocksDbPersistence.open(dir);
 *   await rocks.loadAll((key, value) => counts.apply(key, value));
 *   await rocks.write(counts.flush()); // at commit, with the changelog
 *   await rocks.flush(); // then the checkpoint
 */
export { RocksDbPersistence } from './rocksdb-persistence.ts';
