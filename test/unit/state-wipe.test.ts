import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { silentLogger } from '../../src/core/index.ts';
import type { Logger, TaskId } from '../../src/core/index.ts';
import type { ChangelogReader } from '../../src/kafka/index.ts';
import { openTaskStores } from '../../src/runtime/task-stores.ts';
import { emptyStats } from '../../src/runtime/task.ts';
import type { TaskStore } from '../../src/runtime/task.ts';
import {
  jsonCodec,
  MemoryStore,
  readCheckpoint,
  storeDir,
  taskStateDir,
  writeCheckpoint,
} from '../../src/state/index.ts';
import { RocksDbPersistence } from '../../src/state/rocksdb/index.ts';

const appId = 'app';
const changelog = 'app-counts-changelog';
const entries = 5_000;

/** A logger that keeps the warnings. */
function warnings(): { logger: Logger; lines: { fields: object; message: string }[] } {
  const lines: { fields: object; message: string }[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (fields, message) => lines.push({ fields, message }),
    child: () => logger,
  };
  return { logger, lines };
}

/** A reader whose changelog partition holds [start, end): openTaskStores only asks for ranges. */
function readerWith(start: bigint, end: bigint): ChangelogReader {
  return {
    read: () => Promise.reject(new Error('not used by openTaskStores')),
    offsetRanges: (tps) =>
      Promise.resolve(new Map(tps.map((tp) => [`${tp.topic}/${tp.partition}`, { start, end }]))),
  };
}

function taskOf(id: TaskId): {
  id: TaskId;
  partition: number;
  stores: Map<string, TaskStore>;
  stats: ReturnType<typeof emptyStats>;
  memory: MemoryStore<number>;
} {
  const memory = new MemoryStore<number>('counts', jsonCodec<number>());
  const stores = new Map<string, TaskStore>([
    ['counts', { spec: { name: 'counts', changelogTopic: changelog }, memory }],
  ]);
  return { id, partition: Number(id.split('_')[1]), stores, stats: emptyStats(), memory };
}

describe('openTaskStores: local state is wiped whole when it cannot be trusted', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-wipe-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A task dir whose store holds `entries` entries, flushed to an .sst, checkpointed at 5000. */
  async function built(): Promise<{ stateDir: string; id: TaskId; dir: string; taskDir: string }> {
    const stateDir = join(root, `s${++n}`);
    const id = '0_3' as TaskId;
    const dir = storeDir(stateDir, appId, id, 'counts');
    const db = await RocksDbPersistence.open(dir);
    const changes = [];
    for (let i = 0; i < entries; i++)
      changes.push({ key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify(i)) });
    await db.write(changes);
    await db.flush();
    await db.close();
    const taskDir = taskStateDir(stateDir, appId, id);
    await writeCheckpoint(taskDir, new Map([[changelog, '5000']]));
    return { stateDir, id, dir, taskDir };
  }

  async function sstOf(dir: string): Promise<string> {
    const sst = (await readdir(dir)).find((f) => f.endsWith('.sst'));
    assert.ok(sst !== undefined, 'the store has an .sst file');
    return join(dir, sst);
  }

  async function open(
    setup: { stateDir: string; id: TaskId },
    reader = readerWith(0n, 5000n),
  ): Promise<{
    task: ReturnType<typeof taskOf>;
    lines: { fields: object; message: string }[];
    opened: Awaited<ReturnType<typeof openTaskStores>>;
  }> {
    const task = taskOf(setup.id);
    const { logger, lines } = warnings();
    const opened = await openTaskStores(task, { stateDir: setup.stateDir, appId }, reader, logger);
    for (const db of opened.persistence.values()) await db.close();
    return { task, lines, opened };
  }

  /** Asserts one warning naming the cause, everything wiped, and a restore from `start`. */
  async function assertWiped(
    result: Awaited<ReturnType<typeof open>>,
    { dir, taskDir }: { dir: string; taskDir: string },
    cause: string,
    text: RegExp,
    start = '0',
  ): Promise<void> {
    assert.equal(result.lines.length, 1, 'one warning');
    assert.deepEqual(result.lines[0]?.fields, { cause });
    assert.match(result.lines[0]?.message ?? '', text);
    assert.equal(result.opened.wiped?.kind, cause);
    assert.equal(result.task.stats.wiped, 1);
    assert.equal(result.task.memory.size, 0, 'nothing loaded from the wiped store');
    assert.equal(result.opened.from.get(changelog), start);
    assert.equal(await readCheckpoint(taskDir), undefined, 'the checkpoint is deleted');
    // The store was made afresh: a database, and empty.
    assert.ok(await RocksDbPersistence.holdsDatabase(dir));
    const db = await RocksDbPersistence.open(dir);
    assert.equal(await db.loadAll(() => undefined), 0);
    await db.close();
  }

  it('loads a sound store and reads on from its checkpoint, without a warning', async () => {
    const setup = await built();
    const result = await open(setup);
    assert.equal(result.lines.length, 0);
    assert.equal(result.opened.wiped, undefined);
    assert.equal(result.task.memory.size, entries);
    assert.equal(result.opened.from.get(changelog), '5000');
    assert.deepEqual(await readCheckpoint(setup.taskDir), new Map([[changelog, '5000']]));
  });

  it('restores from the start, silently, without a checkpoint (a first start, or exactly-once after a crash)', async () => {
    const setup = await built();
    await rm(join(setup.taskDir, '.checkpoint'));
    const result = await open(setup);
    assert.equal(result.lines.length, 0);
    assert.equal(result.task.stats.wiped, 0);
    assert.equal(result.task.memory.size, 0);
    assert.equal(result.opened.from.get(changelog), '0');
  });

  it('wipes a store whose .sst is garbled (block checksum mismatch)', async () => {
    const setup = await built();
    const sst = await sstOf(setup.dir);
    const bytes = await readFile(sst);
    for (let i = 1000; i < 3000; i++) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
    await writeFile(sst, bytes);
    await assertWiped(
      await open(setup),
      setup,
      'store-unreadable',
      /store counts cannot be opened or read.*checksum mismatch/,
    );
  });

  it('wipes a store whose .sst is truncated (size mismatch)', async () => {
    const setup = await built();
    const sst = await sstOf(setup.dir);
    await truncate(sst, Math.floor((await stat(sst)).size / 2));
    await assertWiped(await open(setup), setup, 'store-unreadable', /size mismatch/);
  });

  it('wipes a store whose .sst is gone', async () => {
    const setup = await built();
    await rm(await sstOf(setup.dir));
    await assertWiped(await open(setup), setup, 'store-unreadable', /No such file/);
  });

  it('wipes when the store directory is gone while the checkpoint names it', async () => {
    const setup = await built();
    await rm(setup.dir, { recursive: true });
    await assertWiped(await open(setup), setup, 'store-missing', /store counts is missing/);
  });

  it('wipes when the store directory is there but holds no database', async () => {
    const setup = await built();
    await rm(setup.dir, { recursive: true });
    await mkdir(setup.dir);
    await assertWiped(await open(setup), setup, 'store-missing', /store counts is missing/);
  });

  it('wipes for a checkpoint past the changelog end, and restores from its log start', async () => {
    const setup = await built();
    await assertWiped(
      await open(setup, readerWith(7n, 4999n)),
      setup,
      'checkpoint-past-end',
      /offset 5000.*past the end of changelog app-counts-changelog \(4999\)/,
      '7',
    );
  });

  it('wipes for a checkpoint before the changelog log start, and restores from it', async () => {
    const setup = await built();
    await assertWiped(
      await open(setup, readerWith(5001n, 6000n)),
      setup,
      'checkpoint-before-start',
      /before the start of changelog app-counts-changelog \(5001\)/,
      '5001',
    );
  });

  it('wipes for a corrupt checkpoint file', async () => {
    const setup = await built();
    await writeFile(join(setup.taskDir, '.checkpoint'), '{"version":1,"offs');
    await assertWiped(await open(setup), setup, 'checkpoint-corrupt', /checkpoint file is corrupt/);
  });
});
