import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import {
  checkpointFault,
  describeWipeCause,
  isFatalStateError,
  stateError,
  stateFaultOf,
} from '../../src/state/index.ts';
import type { ChangelogRange, CheckpointFile, StoreOnDisk } from '../../src/state/index.ts';

const counts: StoreOnDisk = {
  name: 'counts',
  changelogTopic: 'app-counts-changelog',
  present: true,
};
const sums: StoreOnDisk = { name: 'sums', changelogTopic: 'app-sums-changelog', present: true };
const found = (entries: [string, string][]): CheckpointFile => ({
  kind: 'found',
  offsets: new Map(entries),
});
const ranges = (entries: [string, ChangelogRange][]): Map<string, ChangelogRange> =>
  new Map(entries);
const range = (start: number, end: number): ChangelogRange => ({
  start: BigInt(start),
  end: BigInt(end),
});

describe('checkpointFault: which local state is trusted', () => {
  const bothAt = found([
    ['app-counts-changelog', '100'],
    ['app-sums-changelog', '40'],
  ]);
  const fine = ranges([
    ['app-counts-changelog', range(0, 120)],
    ['app-sums-changelog', range(0, 40)],
  ]);

  it('trusts a checkpoint within the changelogs whose stores are present, also one equal to the end', () => {
    assert.equal(checkpointFault(bothAt, [counts, sums], fine), undefined);
  });

  it('needs no check without a checkpoint: every store restores from the start anyway', () => {
    assert.equal(
      checkpointFault({ kind: 'absent' }, [{ ...counts, present: false }], fine),
      undefined,
    );
  });

  it('wipes for a corrupt checkpoint file', () => {
    assert.deepEqual(
      checkpointFault({ kind: 'corrupt', reason: 'not a version 1 checkpoint' }, [counts], fine),
      {
        kind: 'checkpoint-corrupt',
        reason: 'not a version 1 checkpoint',
      },
    );
  });

  it('wipes when a store the checkpoint names is not on disk', () => {
    assert.deepEqual(checkpointFault(bothAt, [counts, { ...sums, present: false }], fine), {
      kind: 'store-missing',
      store: 'sums',
    });
  });

  it('does not mind a missing store the checkpoint does not name (a store added since)', () => {
    const onlyCounts = found([['app-counts-changelog', '100']]);
    assert.equal(
      checkpointFault(onlyCounts, [counts, { ...sums, present: false }], fine),
      undefined,
    );
  });

  it('wipes for a checkpoint past the high watermark, by one offset', () => {
    const past = ranges([
      ['app-counts-changelog', range(0, 99)],
      ['app-sums-changelog', range(0, 40)],
    ]);
    assert.deepEqual(checkpointFault(bothAt, [counts, sums], past), {
      kind: 'checkpoint-past-end',
      store: 'counts',
      changelog: 'app-counts-changelog',
      offset: 100n,
      end: 99n,
    });
  });

  it('wipes for a checkpoint before the log-start offset, by one offset', () => {
    const deleted = ranges([
      ['app-counts-changelog', range(0, 120)],
      ['app-sums-changelog', range(41, 50)],
    ]);
    assert.deepEqual(checkpointFault(bothAt, [counts, sums], deleted), {
      kind: 'checkpoint-before-start',
      store: 'sums',
      changelog: 'app-sums-changelog',
      offset: 40n,
      start: 41n,
    });
    const atStart = ranges([
      ['app-counts-changelog', range(100, 120)],
      ['app-sums-changelog', range(40, 50)],
    ]);
    assert.equal(checkpointFault(bothAt, [counts, sums], atStart), undefined);
  });

  it('compares offsets as 64-bit integers, not as text or doubles', () => {
    const big = found([['app-counts-changelog', '9007199254740993']]);
    assert.equal(
      checkpointFault(
        big,
        [counts],
        ranges([['app-counts-changelog', { start: 0n, end: 9007199254740993n }]]),
      ),
      undefined,
    );
    assert.equal(
      checkpointFault(
        big,
        [counts],
        ranges([['app-counts-changelog', { start: 0n, end: 9007199254740992n }]]),
      )?.kind,
      'checkpoint-past-end',
    );
  });

  it('names the store, changelog and offsets in its one-line description', () => {
    const text = describeWipeCause({
      kind: 'checkpoint-past-end',
      store: 'counts',
      changelog: 'app-counts-changelog',
      offset: 100n,
      end: 99n,
    });
    assert.match(text, /counts.*100.*app-counts-changelog.*99/);
    assert.doesNotMatch(text, /\n/);
  });
});

describe('stateError: what a failed disk call means', () => {
  const sysError = (code: string, message: string): Error =>
    Object.assign(new Error(message), { code });

  it('tells a full disk, an unwritable directory, a held lock and anything else apart', () => {
    assert.equal(stateFaultOf(sysError('ENOSPC', 'write failed')), 'full');
    // RocksDB reports I/O failures as EIO with the OS's text.
    assert.equal(
      stateFaultOf(
        sysError('EIO', 'While appending to file: /s/000021.sst: No space left on device'),
      ),
      'full',
    );
    assert.equal(stateFaultOf(sysError('EROFS', 'open failed')), 'unwritable');
    assert.equal(
      stateFaultOf(
        sysError('EIO', 'While open a file for appending: /s/LOG: Read-only file system'),
      ),
      'unwritable',
    );
    assert.equal(stateFaultOf(sysError('EACCES', 'open failed')), 'unwritable');
    assert.equal(
      stateFaultOf(
        sysError(
          'EIO',
          'lock hold by current process, acquire time 1: /s/LOCK: No locks available',
        ),
      ),
      'locked',
    );
    assert.equal(
      stateFaultOf(
        sysError('EIO', 'block checksum mismatch: stored = 1, computed = 2 in /s/000009.sst'),
      ),
      'other',
    );
  });

  it('makes a full or unwritable disk fatal, with the setting to change, and the rest not', () => {
    const full = stateError(
      'flush RocksDB store',
      '/s/app/0_1/counts',
      sysError('ENOSPC', 'no space'),
    );
    assert.equal(full.code, 'STATE_DISK_FULL');
    assert.equal(full.retriable, false);
    assert.match(full.message, /\/s\/app\/0_1\/counts.*TRIBUTARY_STATE_DIR/);
    assert.ok(isFatalStateError(full));
    const readOnly = stateError('write to', '/s/app', sysError('EROFS', 'read-only'));
    assert.equal(readOnly.code, 'STATE_DIR_UNWRITABLE');
    assert.ok(isFatalStateError(readOnly));
    const corrupt = stateError(
      'open RocksDB store',
      '/s',
      sysError('EIO', 'Corruption: bad block'),
      'STATE_CORRUPT',
    );
    assert.equal(corrupt.code, 'STATE_CORRUPT');
    assert.equal(isFatalStateError(corrupt), false);
    assert.equal(isFatalStateError(new TributaryError('STATE_FAILED', 'x')), false);
  });

  it('reports any failed write check as unwritable, except a full disk', () => {
    assert.equal(
      stateError('write to', '/s', sysError('ENOENT', 'gone'), 'STATE_DIR_UNWRITABLE').code,
      'STATE_DIR_UNWRITABLE',
    );
    assert.equal(
      stateError('write to', '/s', sysError('ENOSPC', 'full'), 'STATE_DIR_UNWRITABLE').code,
      'STATE_DISK_FULL',
    );
  });
});
