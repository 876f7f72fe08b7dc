import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readdir, readFile, rm, stat, statfs, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';

import { createChangelogReader } from '../../src/kafka/changelog-reader.ts';
import type { Windowed } from '../../src/topology/index.ts';
import type { Summary } from './fixtures/worker.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { oracle, readings } from './oracle.ts';
import { createTopics, kafka, produceJson, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

/**
 * One exactly-once worker of the hourly windowed topology runs through phases over one data
 * set. Between phases it is stopped with SIGTERM (so every task writes its checkpoint), its local
 * state is damaged one way, and it is started again: it must keep running, say once per task
 * what it found, and restore the task from the changelog. Windows stay open across phases, so a
 * store that came back wrong or empty would show in the final output, which must equal the
 * oracle with no window twice. The state directory is a small tmpfs of its own, so that it can
 * be made read-only and full (mounting needs root, as on the dev VM and in CI containers).
 */
const partitions = 3;
const data = readings(64_000, 48);
const expected = oracle(data, partitions);
const records = data.map((r) => ({ key: r.sensor, value: r }));
const store = 'hourly';
/** Phases: the damage cases and the two disk cases each feed one slice; the last the rest. */
const slices = 9;

type Result = Windowed<string, Summary>;
const decode = (r: ReadRecord): Result => JSON.parse(r.value?.toString() ?? 'null') as Result;

/** kafkajs's ConfigResourceTypes.TOPIC (not a named ES module export of the CommonJS package). */
const topicResource = 2;

const raw = new Kafka({
  brokers: endpoints.kafkaBrokers,
  clientId: 'tributary-it-corrupt',
  logLevel: logLevel.NOTHING,
});

describe('corrupt or inconsistent local state is wiped and restored from the changelog', () => {
  const appId = uniqueName('it-corrupt');
  const input = `${appId}-in`;
  const output = `${appId}-out`;
  const changelog = `${appId}-${store}-changelog`;
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-it-corrupt-'));
  const taskDirs = Array.from({ length: partitions }, (_, p) => join(stateDir, appId, `0_${p}`));
  const live: WorkerProcess[] = [];
  let fed = 0;
  let mounted = false;

  const mount = (...args: string[]): void => {
    execFileSync('mount', args, { stdio: 'pipe' });
  };

  before(async () => {
    try {
      mount('-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', stateDir);
      mounted = true;
    } catch (error) {
      // Not root: the damage cases still run on the plain directory; the disk cases fail.
      console.error(`cannot mount a tmpfs on ${stateDir}: ${(error as Error).message}`);
    }
    await createTopics([
      { topic: input, partitions },
      { topic: output, partitions },
    ]);
  });

  after(() => {
    for (const w of live) w.signal('SIGKILL');
    if (mounted) {
      try {
        mount('-o', 'remount,rw', stateDir);
      } catch {
        // already writable
      }
      execFileSync('umount', ['-l', stateDir]);
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  const start = (): WorkerProcess => {
    const w = startWorkerProcess({
      id: `c${live.length + 1}`,
      topology: 'hourly',
      appId,
      input,
      output,
      guarantee: 'exactly_once',
      stateDir,
    });
    live.push(w);
    return w;
  };

  /** The group's committed input offsets, summed over partitions. */
  async function committed(): Promise<bigint> {
    const admin = kafka.topicAdmin();
    await admin.connect();
    try {
      let sum = 0n;
      for (const offset of (await admin.committedOffsets(appId, input)).values()) sum += offset;
      return sum;
    } finally {
      await admin.disconnect();
    }
  }

  /** Feeds the next slice and waits until the worker has committed all of the input. */
  async function feed(
    worker: WorkerProcess,
    count = Math.ceil(records.length / slices),
  ): Promise<void> {
    const slice = records.slice(fed, fed + count);
    fed += slice.length;
    await produceJson(input, slice, 5000);
    await eventually(
      () => `worker ${worker.id} to commit ${fed} input records (exit ${worker.child.exitCode})`,
      async () => {
        assert.equal(worker.child.exitCode, null, `worker ${worker.id} is running`);
        return (await committed()) === BigInt(fed) ? true : undefined;
      },
      120_000,
      500,
    );
  }

  /** The wipe warnings a worker logged. */
  const wipes = (worker: WorkerProcess): Record<string, unknown>[] =>
    worker.log.filter((e) => String(e['msg']).startsWith('local state of task'));

  /**
   * A running worker is stopped (checkpoints written), `damage` is done to every task's local
   * state, and a new worker must run on, with one warning per task naming `cause`.
   */
  async function damaged(
    worker: WorkerProcess,
    cause: string,
    damage: (taskDir: string, partition: number) => Promise<void>,
    stopped = false,
  ): Promise<WorkerProcess> {
    if (!stopped) assert.equal(await stopWorker(worker), 0);
    for (const [p, dir] of taskDirs.entries()) {
      assert.ok((await readdir(dir)).includes('.checkpoint'), `task 0_${p} has a checkpoint`);
      await damage(dir, p);
    }
    const next = start();
    await waitForAssignment([next], partitions);
    await feed(next);
    const found = wipes(next);
    assert.equal(found.length, partitions, `one warning per task: ${JSON.stringify(found)}`);
    assert.deepEqual(
      new Set(found.map((e) => e['task'])),
      new Set(taskDirs.map((_, p) => `0_${p}`)),
    );
    for (const e of found) {
      assert.equal(e['level'], 40, 'a warning');
      assert.equal(e['cause'], cause);
    }
    const restored = next.log
      .filter((e) => e['msg'] === 'store restored')
      .reduce((n, e) => n + Number(e['records']), 0);
    assert.ok(restored > 0, 'the stores were read back from the changelog');
    return next;
  }

  /** The store's largest .sst file (every task's store has one after a clean close). */
  async function sstOf(taskDir: string): Promise<string> {
    const dir = join(taskDir, store);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sst'));
    const sizes = await Promise.all(
      files.map(async (f) => ({ f, size: (await stat(join(dir, f))).size })),
    );
    const largest = sizes.sort((a, b) => b.size - a.size)[0];
    assert.ok(largest !== undefined, `${dir} has an .sst file`);
    return join(dir, largest.f);
  }

  async function editCheckpoint(
    taskDir: string,
    offset: (current: bigint) => bigint,
  ): Promise<void> {
    const path = join(taskDir, '.checkpoint');
    const file = JSON.parse(await readFile(path, 'utf8')) as {
      version: number;
      offsets: Record<string, string>;
    };
    const current = BigInt(file.offsets[changelog] ?? 'x');
    file.offsets[changelog] = offset(current).toString();
    await writeFile(path, JSON.stringify(file));
  }

  let worker: WorkerProcess;

  it('builds state and checkpoints', async () => {
    worker = start();
    await waitForAssignment([worker], partitions);
    await feed(worker);
    assert.equal(wipes(worker).length, 0);
  });

  it('a garbled .sst file (block checksum mismatch)', async () => {
    worker = await damaged(worker, 'store-unreadable', async (dir) => {
      const sst = await sstOf(dir);
      const bytes = await readFile(sst);
      // Data blocks, so RocksDB finds it when the store is read, not only when it is opened.
      for (let i = 512; i < Math.min(bytes.length - 512, 8192); i++)
        bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
      await writeFile(sst, bytes);
    });
  });

  it('a truncated .sst file (size mismatch)', async () => {
    worker = await damaged(worker, 'store-unreadable', async (dir) => {
      const sst = await sstOf(dir);
      await truncate(sst, Math.floor((await stat(sst)).size / 2));
    });
  });

  it('a store directory deleted while the checkpoint names it', async () => {
    worker = await damaged(worker, 'store-missing', async (dir) => {
      await rm(join(dir, store), { recursive: true });
    });
  });

  it('a checkpoint past the changelog end', async () => {
    worker = await damaged(worker, 'checkpoint-past-end', (dir) =>
      editCheckpoint(dir, (offset) => offset + 1000n),
    );
  });

  it('a checkpoint before the changelog log start (records deleted with deleteRecords)', async () => {
    // With the worker stopped, delete per partition the changelog records that no longer matter
    // (every key whose last record lies below the cut is a tombstone: its window closed), so
    // the changelog still restores the stores exactly; then point the checkpoint below the new
    // log start.
    assert.equal(await stopWorker(worker), 0);
    const last = new Map<string, { partition: number; offset: bigint; tombstone: boolean }>();
    const tps = taskDirs.map((_, partition) => ({ topic: changelog, partition, from: '0' }));
    const reader = createChangelogReader(raw);
    const progress = await reader.read(tps, (tp, batch) => {
      for (const r of batch) {
        last.set(`${tp.partition}/${r.key?.toString('hex')}`, {
          partition: tp.partition,
          offset: BigInt(r.offset),
          tombstone: r.value === null,
        });
      }
      return Promise.resolve();
    });
    const cuts = new Map<number, bigint>();
    for (let p = 0; p < partitions; p++) {
      const end = progress.get(`${changelog}/${p}`)?.position ?? 0n;
      const live = [...last.values()].filter((l) => l.partition === p && !l.tombstone);
      const cut = live.reduce((min, l) => (l.offset < min ? l.offset : min), end);
      assert.ok(cut > 1n, `partition ${p} has closed windows to delete (cut ${cut})`);
      cuts.set(p, cut);
    }
    const admin = raw.admin();
    await admin.connect();
    try {
      // A compacted topic refuses DeleteRecords (POLICY_VIOLATION): as a user who adds time
      // retention to a changelog, allow deletion too (retention.ms -1: the test's event times
      // are weeks old). alterConfigs replaces a topic's settings, so the others are kept.
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: topicResource, name: changelog }],
      });
      const kept = (resources[0]?.configEntries ?? [])
        .filter(
          (c) =>
            !c.isDefault && c.configName !== 'cleanup.policy' && c.configName !== 'retention.ms',
        )
        .map((c) => ({ name: c.configName, value: c.configValue }));
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: topicResource,
            name: changelog,
            configEntries: [
              ...kept,
              { name: 'cleanup.policy', value: 'compact,delete' },
              { name: 'retention.ms', value: '-1' },
            ],
          },
        ],
      });
      // kafkajs finds the partitions' leaders in metadata it must have loaded first.
      await admin.fetchTopicMetadata({ topics: [changelog] });
      await admin.deleteTopicRecords({
        topic: changelog,
        partitions: [...cuts].map(([partition, cut]) => ({ partition, offset: cut.toString() })),
      });
    } finally {
      await admin.disconnect();
    }
    worker = await damaged(
      worker,
      'checkpoint-before-start',
      (dir, p) => editCheckpoint(dir, () => (cuts.get(p) ?? 1n) - 1n),
      true,
    );
  });

  it('a corrupt checkpoint file', async () => {
    worker = await damaged(worker, 'checkpoint-corrupt', async (dir) => {
      await writeFile(join(dir, '.checkpoint'), '{"version":1,"offsets":{"');
    });
  });

  it('a state directory that cannot be written: exit 1 with one clear line, nothing committed', async () => {
    assert.ok(mounted, 'the state directory must be a tmpfs of its own (mounting needs root)');
    assert.equal(await stopWorker(worker), 0);
    const before = await committed();
    mount('-o', 'remount,ro', stateDir);
    try {
      const refused = start();
      assert.equal(await refused.exited, 1);
      const lines = refused.stderr.join('').trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${lines.join('\n')}`);
      assert.match(
        lines[0] ?? '',
        /^tributary: the state directory cannot be written: .*EROFS.*TRIBUTARY_STATE_DIR/,
      );
      assert.equal(await committed(), before);
    } finally {
      mount('-o', 'remount,rw', stateDir);
    }
    worker = start();
    await waitForAssignment([worker], partitions);
    await feed(worker);
  });

  it('a full disk: exit 1 with one clear line, then after space is freed the run goes on', async () => {
    assert.ok(mounted, 'the state directory must be a tmpfs of its own (mounting needs root)');
    // Fill the disk but for a little while the worker is stopped, so the next one starts and
    // fails when it writes its stores (a running RocksDB writes into the space it preallocated
    // for its log, and meets a full disk at its next flush instead: a checkpoint or the close).
    assert.equal(await stopWorker(worker), 0);
    const filler = join(stateDir, 'filler');
    const file = await open(filler, 'w');
    try {
      const block = Buffer.alloc(1024 * 1024);
      for (;;) {
        const { bavail, bsize } = await statfs(stateDir);
        const free = bavail * bsize;
        if (free <= 64 * 1024) break;
        await file.write(block, 0, Math.min(block.length, free - 64 * 1024));
      }
    } finally {
      await file.close();
    }
    try {
      worker = start();
      const slice = records.slice(fed, fed + Math.ceil(records.length / slices));
      fed += slice.length;
      await produceJson(input, slice, 5000);
      const full = await Promise.race([
        worker.exited,
        eventually(
          () =>
            `the worker to exit on the full disk: ${JSON.stringify(worker.log.slice(-8)).slice(-3000)}`,
          async () => undefined,
          120_000,
        ),
      ]);
      assert.equal(full, 1);
      const lines = worker.log.filter((e) => e['code'] === 'STATE_DISK_FULL');
      assert.equal(
        lines.length,
        1,
        `one error line with its code: ${JSON.stringify(worker.log.slice(-6))}`,
      );
      assert.equal(lines[0]?.['level'], 50);
      assert.match(String(lines[0]?.['msg']), /disk is full.*No space left on device/i);
    } finally {
      await rm(filler);
    }
    worker = start();
    await waitForAssignment([worker], partitions);
    await eventually(
      'the worker to commit the input after the disk was freed',
      async () => ((await committed()) === BigInt(fed) ? true : undefined),
      120_000,
      500,
    );
  });

  it('ends with exactly the windows of the oracle, none lost and none twice', async (t) => {
    await feed(worker, records.length - fed);
    const read = await readTopic(output, (rs) => rs.length >= expected.windows.size, 180_000);
    const settled = await readTopic(output, (rs) => rs.length >= read.length);
    const windows = new Map<string, Summary>();
    for (const r of settled) {
      const w = decode(r);
      windows.set(`${w.key}@${w.start}`, w.value);
    }
    t.diagnostic(
      `${data.length} readings, ${expected.windows.size} windows, ${settled.length} results`,
    );
    assert.equal(windows.size, expected.windows.size, 'one result per (key, window)');
    for (const [id, summary] of expected.windows)
      assert.deepEqual(windows.get(id), summary, `window ${id}`);
    assert.equal(settled.length, expected.windows.size, 'no window twice');
    assert.equal(await stopWorker(worker), 0);
    const stopped = worker.log.find((e) => e['msg'] === 'worker stopped');
    assert.ok(
      Number(stopped?.['processed']) > 0,
      'the final line counts what the worker processed',
    );
  });
});
