import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import {
  deleteCheckpoint,
  readCheckpoint,
  storeDir,
  taskStateDir,
  writeCheckpoint,
} from '../../src/state/index.ts';

const codeOf = async (run: () => unknown): Promise<string> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof TributaryError) return error.code;
    throw error;
  }
  return 'no error';
};

describe('checkpoint file', () => {
  let root: string;
  let n = 0;
  const freshTaskDir = async (): Promise<string> => {
    const dir = join(root, `0_${++n}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-checkpoint-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads back the offsets it wrote, as version 1 JSON with string offsets', async () => {
    const dir = await freshTaskDir();
    const offsets = new Map([
      ['app-counts-changelog', '42'],
      ['app-windows-changelog', '9223372036854775807'],
      ['app-empty-changelog', '0'],
    ]);
    await writeCheckpoint(dir, offsets);
    assert.deepEqual(await readCheckpoint(dir), offsets);
    assert.deepEqual(JSON.parse(await readFile(join(dir, '.checkpoint'), 'utf8')), {
      version: 1,
      offsets: {
        'app-counts-changelog': '42',
        'app-windows-changelog': '9223372036854775807',
        'app-empty-changelog': '0',
      },
    });
    assert.deepEqual(await readdir(dir), ['.checkpoint']);
  });

  it('reads undefined when there is no checkpoint or no task directory', async () => {
    assert.equal(await readCheckpoint(await freshTaskDir()), undefined);
    assert.equal(await readCheckpoint(join(root, 'missing', '0_0')), undefined);
  });

  it('reads a corrupt or unknown checkpoint as undefined', async () => {
    const dir = await freshTaskDir();
    const corrupt = [
      '',
      '{"version":1,"offsets":{"t":"4',
      'not json',
      'null',
      '[]',
      '{"version":2,"offsets":{"t":"1"}}',
      '{"offsets":{"t":"1"}}',
      '{"version":1}',
      '{"version":1,"offsets":[]}',
      '{"version":1,"offsets":{"t":1}}',
      '{"version":1,"offsets":{"t":"-1"}}',
      '{"version":1,"offsets":{"t":"1.5"}}',
      '{"version":1,"offsets":{"t":"01"}}',
      '\u0000\u0000\u0000',
    ];
    for (const text of corrupt) {
      await writeFile(join(dir, '.checkpoint'), text);
      assert.equal(await readCheckpoint(dir), undefined, `read ${JSON.stringify(text)}`);
    }
  });

  it('reads an empty offsets object as an empty checkpoint', async () => {
    const dir = await freshTaskDir();
    await writeCheckpoint(dir, new Map());
    assert.deepEqual(await readCheckpoint(dir), new Map());
  });

  it('replaces the checkpoint atomically: a concurrent reader sees the old or the new file', async () => {
    const dir = await freshTaskDir();
    // Large enough (about 90 KB) that a non-atomic write would be read half-written.
    const version = (v: number): Map<string, string> =>
      new Map(Array.from({ length: 2_000 }, (_, i) => [`app-store-${i}-changelog`, String(v)]));
    await writeCheckpoint(dir, version(0));

    const writes: Promise<void>[] = [];
    const reads: Promise<Map<string, string> | undefined>[] = [];
    for (let v = 1; v <= 50; v++) {
      writes.push(writeCheckpoint(dir, version(v)));
      reads.push(readCheckpoint(dir), readCheckpoint(dir));
    }
    await Promise.all(writes);
    for (const read of await Promise.all(reads)) {
      assert.ok(read !== undefined, 'a read saw a partial checkpoint');
      const offsets = new Set(read.values());
      assert.equal(read.size, 2_000);
      assert.equal(offsets.size, 1, 'a read mixed two checkpoints');
    }
    assert.deepEqual(await readdir(dir), ['.checkpoint']);
  });

  it('keeps the old checkpoint when a write was cut short before its rename', async () => {
    const dir = await freshTaskDir();
    const old = new Map([['app-counts-changelog', '100']]);
    await writeCheckpoint(dir, old);
    // What a crash in the middle of step 1 leaves behind.
    await writeFile(join(dir, `.checkpoint.${process.pid}-999999.tmp`), '{"version":1,"offs');
    assert.deepEqual(await readCheckpoint(dir), old);
  });

  it('refuses to write an offset that is not a non-negative integer', async () => {
    const dir = await freshTaskDir();
    await writeCheckpoint(dir, new Map([['t', '5']]));
    for (const offset of ['-1', 'abc', '', '1e3']) {
      assert.equal(
        await codeOf(() => writeCheckpoint(dir, new Map([['t', offset]]))),
        'STATE_FAILED',
      );
    }
    assert.deepEqual(await readCheckpoint(dir), new Map([['t', '5']]));
  });

  it('deletes the checkpoint, and deleting a missing one is a no-op', async () => {
    const dir = await freshTaskDir();
    await writeCheckpoint(dir, new Map([['app-counts-changelog', '7']]));
    await deleteCheckpoint(dir);
    assert.equal(await readCheckpoint(dir), undefined);
    assert.deepEqual(await readdir(dir), []);
    await deleteCheckpoint(dir);
    await deleteCheckpoint(join(root, 'missing', '0_0'));
  });
});

describe('state directories', () => {
  it('places a task under <stateDir>/<appId>/<taskId> and a store in its task directory', () => {
    assert.equal(
      taskStateDir('/var/lib/tributary', 'weather', '1_3'),
      '/var/lib/tributary/weather/1_3',
    );
    assert.equal(
      storeDir('/var/lib/tributary', 'weather', '1_3', 'hourly-max'),
      '/var/lib/tributary/weather/1_3/hourly-max',
    );
  });

  it('refuses names that would leave the state directory or clash with the checkpoint', async () => {
    for (const store of ['..', '.', 'a/b', '', '.checkpoint', '.checkpoint.tmp']) {
      assert.equal(
        await codeOf(() => storeDir('/s', 'app', '0_0', store)),
        'TOPOLOGY_INVALID',
        store,
      );
    }
    assert.equal(await codeOf(() => taskStateDir('/s', '..', '0_0')), 'TOPOLOGY_INVALID');
    assert.equal(await codeOf(() => taskStateDir('/s', 'a/../../b', '0_0')), 'TOPOLOGY_INVALID');
  });
});
