// Stores larger than memory (issue 17): an aggregate's store lives in RocksDB behind the worker's
// bounded cache (src/state/cached-store.ts). A store of 5,000,000 keys is processed with a cache
// of 16 MiB, and a worker with a cache far smaller than its state is killed (-9) under
// exactly-once and restarted; both are checked against an oracle computed from the input alone.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { preloadWithKcat } from '../../bench/kafka-load.ts';
import { httpGet } from './cli.ts';
import { readToEnd } from './disorder-io.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { committedTotal, createTopics } from './topics.ts';
import { random } from '../../tools/generators/index.ts';
import { startCountsWorker, totalsByKey } from './counts.ts';
import type { Total } from './counts.ts';
import { stopWorker } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

/** A free TCP port on loopback, for a worker's /metrics. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Waits until the group `appId` has committed at least `total` records of `input` (polled every
 * `pollMs`), or the worker exited; then fails if it did.
 */
async function committedUpTo(
  appId: string,
  input: string,
  worker: WorkerProcess,
  total: number,
  timeoutMs: number,
  pollMs = 500,
): Promise<void> {
  let committed = 0;
  await eventually(
    () => `${worker.id} to commit ${total} records (${committed} committed)`,
    async () => {
      committed = await committedTotal(appId, input);
      return committed >= total || worker.child.exitCode !== null ? true : undefined;
    },
    timeoutMs,
    pollMs,
  );
  assert.equal(
    worker.child.exitCode,
    null,
    `${worker.id} exited: ${worker.stderr.join('').slice(-2000)}`,
  );
}

/** A metric's value (summed over its series) in a /metrics body. */
function metric(body: string, name: string): number {
  let sum = 0;
  for (const line of body.split('\n'))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('stores larger than their cache (real Kafka, RocksDB)', () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });
  const stateDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-cached-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  /** A worker of the counts fixture, killed at the end if it still runs. */
  const startCounts = (settings: Parameters<typeof startCountsWorker>[0]): WorkerProcess => {
    const worker = startCountsWorker(settings);
    cleanups.push(() => worker.child.kill('SIGKILL'));
    return worker;
  };

  it('aggregates 5,000,000 keys with a 16 MiB cache: every key read back from RocksDB equals the oracle', async () => {
    const keys = 5_000_000;
    // Every 50th key gets a second reading after all keys had their first: by then its entry has
    // long been evicted, so its total is read back from RocksDB.
    const every = 50;
    const second = keys / every;
    const appId = uniqueName('it-cached');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 4 },
      { topic: output, partitions: 4 },
    ]);
    const first = (i: number): number => i % 1000;
    await preloadWithKcat(endpoints.kafkaBrokers, input, keys + second, (i) =>
      i < keys ? `k${i}\t{"v":${first(i)}}` : `k${(i - keys) * every}\t{"v":7}`,
    );
    const port = await freePort();
    const worker = startCounts({
      id: 'w1',
      appId,
      stateDir: stateDir(),
      env: { STORE_CACHE_MB: '16', MIN_COUNT: '2', METRICS_PORT: String(port), LOG_LEVEL: 'warn' },
    });
    await committedUpTo(appId, input, worker, keys + second, 600_000, 2000);
    const body = (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;
    const evictions = metric(body, 'tributary_store_cache_evictions_total');
    const misses = metric(body, 'tributary_store_cache_misses_total');
    const cached = metric(body, 'tributary_store_cache_bytes');
    // Reported, not asserted: memory is measured by the benchmarks (bench/).
    const peak = /VmHWM:\s+(\d+) kB/.exec(
      readFileSync(`/proc/${worker.child.pid}/status`, 'utf8'),
    )?.[1];
    console.log(
      `# 5,000,000 keys, 16 MiB cache: ${evictions} evictions, ${misses} reads from RocksDB, ${(cached / 1048576).toFixed(1)} MiB cached at the end; worker peak RSS ${Math.round(Number(peak) / 1024)} MiB`,
    );
    assert.ok(evictions > keys * 0.9, `the cache evicted (${evictions} evictions)`);
    assert.ok(misses >= second, `the second readings read RocksDB (${misses} misses)`);
    assert.ok(cached <= 16 * 1048576, `the cache stayed within its budget (${cached} bytes)`);
    const results = totalsByKey(await readToEnd(output, { timeoutMs: 120_000 }));
    for (let j = 0; j < second; j++) {
      const i = j * every;
      assert.deepEqual(results.get(`k${i}`), [{ n: 2, sum: first(i) + 7 }], `key k${i}`);
    }
    assert.equal(results.size, second, 'only keys with two readings are output');
    assert.equal(await stopWorker(worker), 0);
  });

  it('kill -9 under exactly-once with the cache smaller than the state: every key counted once', async () => {
    const keys = 400_000;
    const passes = 3;
    const appId = uniqueName('it-cached-eos');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 4 },
      { topic: output, partitions: 4 },
    ]);
    const value = (i: number): number => (i * 7) % 101;
    await preloadWithKcat(endpoints.kafkaBrokers, input, keys * passes, (i) => {
      const k = i % keys;
      return `k${k}\t{"v":${value(k) + Math.floor(i / keys)}}`;
    });
    const dir = stateDir();
    const start = (id: string): WorkerProcess =>
      startCounts({
        id,
        appId,
        guarantee: 'exactly_once',
        stateDir: dir,
        env: { STORE_CACHE_MB: '2', MIN_COUNT: String(passes), LOG_LEVEL: 'info' },
      });
    const first = start('w1');
    // Killed once it has committed part of the input: the store is then mostly on disk only.
    await committedUpTo(appId, input, first, keys * passes * 0.2, 300_000, 200);
    first.signal('SIGKILL');
    await first.exited;
    const atKill = await committedTotal(appId, input);
    assert.ok(atKill < keys * passes, `killed before the end (${atKill} committed)`);
    const second = start('w2');
    await committedUpTo(appId, input, second, keys * passes, 300_000, 1000);
    const restored = second.log
      .filter((l) => l['msg'] === 'store restored')
      .reduce((sum, l) => sum + Number(l['records'] ?? 0), 0);
    console.log(
      `# killed after ${atKill} of ${keys * passes} records were committed; the new worker restored ${restored} changelog records`,
    );
    // The new owner went on from the checkpoint of the killed one: its stores on disk were used.
    const reopened = second.log.filter(
      (l) => l['msg'] === 'store opened' && l['from'] !== 'beginning',
    ).length;
    assert.ok(reopened > 0, 'the restarted worker used the checkpointed stores');
    const results = totalsByKey(await readToEnd(output, { timeoutMs: 120_000 }));
    for (let k = 0; k < keys; k++) {
      // Three readings: value, value + 1, value + 2.
      assert.deepEqual(results.get(`k${k}`), [{ n: 3, sum: 3 * value(k) + 3 }], `key k${k}`);
    }
    assert.equal(results.size, keys);
    assert.equal(await stopWorker(second), 0);
  });

  it('a garbled .sst found while the worker runs: the task is rebuilt from the changelog, totals equal the oracle', async () => {
    const keys = 20_000;
    const appId = uniqueName('it-cached-corrupt');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    const partitions = 2;
    await createTopics([
      { topic: input, partitions },
      { topic: output, partitions },
    ]);
    const dir = stateDir();
    const start = (id: string): WorkerProcess =>
      startCounts({
        id,
        appId,
        stateDir: dir,
        env: { STORE_CACHE_MB: '1', MIN_COUNT: '2', LOG_LEVEL: 'info' },
      });
    const first = (i: number): number => i % 1000;
    await preloadWithKcat(endpoints.kafkaBrokers, input, keys, (i) => `k${i}\t{"v":${first(i)}}`);
    const w1 = start('w1');
    await committedUpTo(appId, input, w1, keys, 120_000);
    // A clean stop flushes every store to its .sst files and writes the checkpoints.
    assert.equal(await stopWorker(w1), 0);
    for (let p = 0; p < partitions; p++) {
      const storeDir = join(dir, appId, `0_${p}`, 'totals');
      const files = (await readdir(storeDir)).filter((f) => f.endsWith('.sst'));
      const sizes = await Promise.all(
        files.map(async (f) => ({ f, size: (await stat(join(storeDir, f))).size })),
      );
      const largest = sizes.sort((a, b) => b.size - a.size)[0];
      assert.ok(largest !== undefined, `${storeDir} has an .sst file`);
      const sst = join(storeDir, largest.f);
      const bytes = await readFile(sst);
      // Data blocks: RocksDB opens the store and finds the damage only when a key is read.
      for (let i = 512; i < Math.min(bytes.length - 512, 8192); i++)
        bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
      await writeFile(sst, bytes);
    }
    await preloadWithKcat(endpoints.kafkaBrokers, input, keys, (i) => `k${i}\t{"v":7}`);
    const w2 = start('w2');
    await committedUpTo(appId, input, w2, 2 * keys, 120_000);
    const discarded = w2.log.filter((l) =>
      String(l['msg']).startsWith('a store of the task cannot be read'),
    );
    assert.ok(discarded.length > 0, 'the damage was found while the worker ran');
    const results = totalsByKey(await readToEnd(output, { timeoutMs: 60_000 }));
    for (let i = 0; i < keys; i++) {
      const totals = results.get(`k${i}`) ?? [];
      assert.ok(totals.length > 0, `key k${i} has its total`);
      // At-least-once may write a total twice; never a wrong one.
      for (const total of totals) assert.deepEqual(total, { n: 2, sum: first(i) + 7 }, `k${i}`);
    }
    assert.equal(await stopWorker(w2), 0);
  });

  it('readings as real sources send them (device by device, out of order, re-sent, a buffered burst) through dedup into a store larger than its cache', async () => {
    // About 5,000 totals per task against a cache of 1 MiB for the worker's 4 tasks.
    const devices = 20_000;
    const perDevice = 20;
    // Device d0 comes back after 12 hours offline with a reading a minute buffered.
    const buffered = 720;
    const appId = uniqueName('it-cached-real');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 4 },
      { topic: output, partitions: 4 },
    ]);
    const next = random(17);
    const start = Date.UTC(2026, 10, 1);
    interface Line {
      key: string;
      value: { v: number; t: number; id: string };
    }
    const lines: Line[] = [];
    const reading = (d: number, i: number, t: number): Line => ({
      key: `d${d}`,
      value: { v: (d * 31 + i * 7) % 97, t, id: `${d}-${i}` },
    });
    // An archive read device after device, each device's readings in no time order.
    for (let d = 0; d < devices; d++) {
      const own = Array.from({ length: perDevice }, (_, i) =>
        reading(d, i, start + i * 900_000 + Math.floor(next() * 600_000)),
      );
      for (let i = own.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [own[i], own[j]] = [own[j] as Line, own[i] as Line];
      }
      lines.push(...own);
    }
    // 3% sent again later, across devices (a source retrying after a timeout).
    const resent = Array.from({ length: Math.floor(lines.length * 0.03) }, () => {
      const line = lines[Math.floor(next() * lines.length)] as Line;
      return { key: line.key, value: { ...line.value } };
    });
    lines.push(...resent);
    // The reconnecting device's buffer, in one burst, hours behind the others' times.
    for (let i = 0; i < buffered; i++)
      lines.push(reading(0, perDevice + i, start - 43_200_000 + i * 60_000));
    // The oracle, from the readings alone: each id once.
    const oracle = new Map<string, Total>();
    const ids = new Set<string>();
    for (const { key, value } of lines) {
      if (ids.has(value.id)) continue;
      ids.add(value.id);
      const total = oracle.get(key) ?? { n: 0, sum: 0 };
      oracle.set(key, { n: total.n + 1, sum: total.sum + value.v });
    }
    await preloadWithKcat(endpoints.kafkaBrokers, input, lines.length, (i) => {
      const line = lines[i] as Line;
      return `${line.key}\t${JSON.stringify(line.value)}`;
    });
    const port = await freePort();
    const worker = startCounts({
      id: 'w1',
      appId,
      stateDir: stateDir(),
      env: {
        STORE_CACHE_MB: '1',
        MIN_COUNT: String(perDevice),
        DEDUP: '1',
        METRICS_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
    });
    await committedUpTo(appId, input, worker, lines.length, 120_000);
    const body = (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;
    assert.ok(
      metric(body, 'tributary_store_cache_evictions_total') > 0,
      'the totals did not fit the cache',
    );
    const results = totalsByKey(await readToEnd(output, { timeoutMs: 60_000 }));
    assert.equal(results.size, devices, 'every device reached its count');
    for (const [key, expected] of oracle) {
      const totals = results.get(key) ?? [];
      // A re-sent reading counted would make n pass the oracle's; the last total is the whole.
      for (const total of totals) assert.ok(total.n <= expected.n, `${key}: ${total.n} readings`);
      assert.deepEqual(totals.at(-1), expected, key);
    }
    assert.equal(await stopWorker(worker), 0);
  });
});
