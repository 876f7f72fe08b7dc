// Benchmark of the npm RocksDB bindings that Tributary's state stores could use.
//
// Usage (from the repo root):
//   npm install --prefix bench/rocksdb && node bench/rocksdb/run.mjs
//   node bench/rocksdb/run.mjs --no-registry   # skip the `npm view` maintenance look-ups
//
// Each run of each candidate is its own child process with a fresh database under os.tmpdir(),
// so the RSS figures belong to one binding only. Every measurement runs RUNS times; the median
// is reported. Results go to bench/results/rocksdb-bindings.json. Decision record:
// docs/decisions/0002-rocksdb-binding.md.
//
// Plain JS on purpose: the root typecheck must not need these native dependencies.

import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const resultsFile = path.resolve(here, '..', 'results', 'rocksdb-bindings.json');

const RUNS = 3;
const BATCH_KEYS = 200_000; // keys written and read in batches
const BATCH_SIZE = 1_000; // keys per awaited call: one store-cache flush at commit
const SINGLE_KEYS = 20_000; // keys written and read one awaited call each
const VALUE_BYTES = 100;

// ---------------------------------------------------------------------------------------------
// Adapters: the same five operations expressed in each binding's own idiom.

function callback(fn) {
  return new Promise((resolve, reject) => fn((err, val) => (err ? reject(err) : resolve(val))));
}

const candidates = {
  '@nxtedition/rocksdb': {
    api: 'abstract-level 1.x (promises); chained batch; getMany; iterator nextv',
    load: () => require('@nxtedition/rocksdb'),
    async open(mod, dir) {
      const db = new mod.RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      return db;
    },
    async putBatch(db, keys, values, from, to) {
      const batch = db.batch();
      for (let i = from; i < to; i++) batch.put(keys[i], values[i]);
      await batch.write();
    },
    getBatch: (db, keys) => db.getMany(keys),
    put: (db, key, value) => db.put(key, value),
    get: (db, key) => db.get(key),
    async scan(db, gte, lt) {
      const it = db.iterator({ gte, lt, keys: true, values: true });
      let n = 0;
      for (;;) {
        const rows = await it.nextv(BATCH_SIZE);
        if (rows.length === 0) break;
        n += rows.length;
      }
      await it.close();
      return n;
    },
    close: (db) => db.close(),
  },

  'rocksdb-native': {
    api: 'own API (promises); write()/read() batches; iterator as async-iterable stream',
    load: () => require('rocksdb-native'),
    async open(RocksDB, dir) {
      const db = new RocksDB(dir);
      await db.ready();
      return db;
    },
    async putBatch(db, keys, values, from, to) {
      const batch = db.write({ capacity: to - from });
      for (let i = from; i < to; i++) batch.tryPut(keys[i], values[i]);
      await batch.flush();
      batch.destroy();
    },
    async getBatch(db, keys) {
      const batch = db.read({ capacity: keys.length });
      const pending = keys.map((key) => batch.get(key));
      batch.tryFlush();
      const values = await Promise.all(pending);
      batch.destroy();
      return values;
    },
    put: (db, key, value) => db.put(key, value),
    get: (db, key) => db.get(key),
    async scan(db, gte, lt) {
      const it = db.iterator({ gte, lt }, { capacity: BATCH_SIZE })[Symbol.asyncIterator]();
      let n = 0;
      while (!(await it.next()).done) n++;
      return n;
    },
    close: (db) => db.close(),
  },

  rocksdb: {
    api: 'abstract-leveldown 7 (callbacks only); chained batch; getMany; iterator next()',
    load: () => require('rocksdb'),
    async open(factory, dir) {
      const db = factory(dir);
      await callback((cb) => db.open({ createIfMissing: true }, cb));
      return db;
    },
    putBatch(db, keys, values, from, to) {
      const batch = db.batch();
      for (let i = from; i < to; i++) batch.put(keys[i], values[i]);
      return callback((cb) => batch.write(cb));
    },
    getBatch: (db, keys) => callback((cb) => db.getMany(keys, { asBuffer: true }, cb)),
    put: (db, key, value) => callback((cb) => db.put(key, value, cb)),
    get: (db, key) => callback((cb) => db.get(key, { asBuffer: true }, cb)),
    async scan(db, gte, lt) {
      const it = db.iterator({ gte, lt, keyAsBuffer: true, valueAsBuffer: true });
      let n = 0;
      for (;;) {
        const key = await callback((cb) => it.next(cb));
        if (key === undefined) break;
        n++;
      }
      await callback((cb) => it.end(cb));
      return n;
    },
    close: (db) => callback((cb) => db.close(cb)),
  },
};

// ---------------------------------------------------------------------------------------------
// Data and measurement (child processes).

function makeKey(i) {
  // e.g. "sensor-000123:00042": 19 bytes, sorted in insertion order.
  const sensor = String(Math.floor(i / 100)).padStart(6, '0');
  const seq = String(i % 100).padStart(5, '0');
  return Buffer.from(`sensor-${sensor}:${seq}`);
}

function makeValue(i, prefix) {
  const value = Buffer.alloc(VALUE_BYTES, 0x61 + (i % 26));
  value.write(`${prefix}${i}`, 0, 'latin1');
  return value;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// CPU time (user + system) of the main thread, in seconds. Linux only.
function mainThreadCpuSeconds() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8');
  return Number(stat.split(' ')[0]) / 1e9;
}

function sharedObjects() {
  return process.report.getReport().sharedObjects;
}

// The RocksDB release compiled into a binding: from the bundled headers when the package ships
// them, else from the build tag embedded in the loaded binary.
function bundledRocksDB(name, nativeFiles) {
  const header = path.join(
    here,
    'node_modules',
    name,
    'deps/rocksdb/rocksdb/include/rocksdb/version.h',
  );
  try {
    const text = readFileSync(header, 'utf8');
    const part = (p) => text.match(new RegExp(`#define ROCKSDB_${p} (\\d+)`))[1];
    return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  } catch {
    for (const file of nativeFiles) {
      const tag = readFileSync(file)
        .toString('latin1')
        .match(/rocksdb_build_git_tag:v([\d.]+)/);
      if (tag) return tag[1];
    }
    return null;
  }
}

const PHASES = {
  batchPut: { label: 'batched put', ops: BATCH_KEYS },
  batchGet: { label: 'batched get', ops: BATCH_KEYS },
  singlePut: { label: 'single put', ops: SINGLE_KEYS },
  singleGet: { label: 'single get', ops: SINGLE_KEYS },
  scan: { label: 'iterator scan', ops: BATCH_KEYS },
};

const elapsed = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

// One pass of the five phases against a fresh database. `size` scales the key counts down for
// the warm-up pass. Returns, per phase:
// - seconds: time spent in the binding's awaited calls;
// - mainThreadCpuSeconds: CPU time of the JS (main) thread during the phase, from the kernel's
//   per-thread accounting. What a binding does there (its JS layer, or RocksDB work done
//   synchronously) is time the poll loop cannot spend on records;
// - longestLoopStallMs: the longest stretch in which the event loop could not run a 1 ms timer.
//   A binding whose promises settle only through process.nextTick never yields between awaited
//   calls, so a loop of such calls stalls the poll loop, heartbeats and metrics end to end.
async function pass(name, mod, data, size, onPhaseEnd) {
  const adapter = candidates[name];
  const batchKeys = Math.round(BATCH_KEYS * size);
  const singleKeys = Math.round(SINGLE_KEYS * size);
  const result = {};

  async function phase(key, body) {
    const cpu0 = mainThreadCpuSeconds();
    let last = performance.now();
    let longest = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const seconds = await body();
    const cpu = mainThreadCpuSeconds() - cpu0;
    clearInterval(probe);
    longest = Math.max(longest, performance.now() - last);
    result[key] = { seconds, mainThreadCpuSeconds: cpu, longestLoopStallMs: longest };
    onPhaseEnd();
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), `tributary-rocksdb-${name.replace(/\W/g, '_')}-`));
  const db = await adapter.open(mod, dir);
  try {
    // 1. Batched put: BATCH_SIZE keys per awaited write, like a store-cache flush at commit.
    await phase('batchPut', async () => {
      const t0 = process.hrtime.bigint();
      for (let from = 0; from < batchKeys; from += BATCH_SIZE) {
        await adapter.putBatch(db, data.batchKeys, data.batchValues, from, from + BATCH_SIZE);
      }
      return elapsed(t0);
    });

    // 2. Batched get: BATCH_SIZE keys per awaited call; values verified outside the timer.
    await phase('batchGet', async () => {
      let seconds = 0;
      for (let from = 0; from < batchKeys; from += BATCH_SIZE) {
        const keys = data.batchKeys.slice(from, from + BATCH_SIZE);
        const t0 = process.hrtime.bigint();
        const values = await adapter.getBatch(db, keys);
        seconds += elapsed(t0);
        for (let j = 0; j < keys.length; j++) {
          if (!values[j] || !data.batchValues[from + j].equals(values[j])) {
            throw new Error(`${name}: wrong value for ${keys[j]}`);
          }
        }
      }
      return seconds;
    });

    // 3. Single awaited put per key.
    await phase('singlePut', async () => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < singleKeys; i++) {
        await adapter.put(db, data.singleKeys[i], data.singleValues[i]);
      }
      return elapsed(t0);
    });

    // 4. Single awaited get per key; values verified outside the timer.
    await phase('singleGet', async () => {
      let seconds = 0;
      for (let i = 0; i < singleKeys; i++) {
        const t0 = process.hrtime.bigint();
        const value = await adapter.get(db, data.singleKeys[i]);
        seconds += elapsed(t0);
        if (!value || !data.singleValues[i].equals(value)) {
          throw new Error(`${name}: wrong value for ${data.singleKeys[i]}`);
        }
      }
      return seconds;
    });

    // 5. Extra: range scan over the batched keys with the binding's iterator (window stores).
    await phase('scan', async () => {
      const t0 = process.hrtime.bigint();
      const n = await adapter.scan(db, makeKey(0), makeKey(batchKeys));
      const seconds = elapsed(t0);
      if (n !== batchKeys) throw new Error(`${name}: scan returned ${n} of ${batchKeys} keys`);
      return seconds;
    });
  } finally {
    await adapter.close(db);
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

// Child process: one measured run of one candidate, after a small warm-up pass (so the JIT has
// compiled each binding's JS layer before the clock starts).
async function measureRun(name) {
  const rssBaselineMB = mb(process.memoryUsage().rss);
  const before = new Set(sharedObjects());
  const mod = candidates[name].load();
  const nativeFiles = sharedObjects().filter((f) => !before.has(f) && f.endsWith('.node'));
  // Read from disk: rocksdb-native's "exports" map does not expose package.json.
  const pkgJson = JSON.parse(
    readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8'),
  );

  const batchKeys = Array.from({ length: BATCH_KEYS }, (_, i) => makeKey(i));
  // Single-op keys live in their own key range so they never collide with the batched ones.
  const singleKeys = Array.from({ length: SINGLE_KEYS }, (_, i) => makeKey(i + 10_000_000));
  const data = {
    batchKeys,
    batchValues: batchKeys.map((_, i) => makeValue(i, 'b')),
    singleKeys,
    singleValues: singleKeys.map((_, i) => makeValue(i, 's')),
  };

  let rssPeak = process.memoryUsage().rss;
  const sample = () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss));
  await pass(name, mod, data, 0.05, sample);
  const phases = await pass(name, mod, data, 1, sample);

  return {
    name,
    version: pkgJson.version,
    nativeFiles,
    bundledRocksDB: bundledRocksDB(name, nativeFiles),
    prebuildPlatforms: readdirSync(path.join(here, 'node_modules', name, 'prebuilds')).sort(),
    rssBaselineMB,
    rssPeakMB: mb(rssPeak),
    maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
    phases,
  };
}

function mb(bytes) {
  return Number((bytes / 2 ** 20).toFixed(1));
}

// Folds the per-run child results into one record per candidate: medians of the timings, the
// worst loop stall and the highest RSS over the runs.
function summarize(name, runs) {
  const measurements = {};
  for (const [key, { ops }] of Object.entries(PHASES)) {
    const secs = runs.map((r) => r.phases[key].seconds);
    const s = median(secs);
    measurements[key] = {
      ops,
      runsSeconds: secs.map((x) => Number(x.toFixed(4))),
      medianSeconds: Number(s.toFixed(4)),
      opsPerSec: Math.round(ops / s),
      usPerOp: Number(((s / ops) * 1e6).toFixed(2)),
      mainThreadCpuUsPerOp: Number(
        ((median(runs.map((r) => r.phases[key].mainThreadCpuSeconds)) / ops) * 1e6).toFixed(2),
      ),
      longestLoopStallMs: Number(
        Math.max(...runs.map((r) => r.phases[key].longestLoopStallMs)).toFixed(1),
      ),
    };
  }
  const nativeFiles = runs[0].nativeFiles.map((f) => path.relative(path.resolve(here, '../..'), f));
  return {
    name,
    version: runs[0].version,
    api: candidates[name].api,
    bundledRocksDB: runs[0].bundledRocksDB,
    prebuildPlatforms: runs[0].prebuildPlatforms,
    nativeFiles,
    loadedFromPrebuild:
      nativeFiles.length > 0 && nativeFiles.every((f) => f.includes('/prebuilds/')),
    rssBaselineMB: Math.max(...runs.map((r) => r.rssBaselineMB)),
    rssPeakMB: Math.max(...runs.map((r) => r.rssPeakMB)),
    maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)),
    measurements,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent process: maintenance facts, one child per candidate, JSON and table.

function compareVersions(a, b) {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] || 0) - (pb[i] || 0);
  return 0;
}

function maintenance(name) {
  const view = (...fields) => {
    const out = execFileSync('npm', ['view', name, ...fields, '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return out ? JSON.parse(out) : undefined;
  };
  const info = view('version', 'deprecated', 'repository.url', 'versions', 'time') ?? {};
  const time = info.time ?? {};
  const versions = [...(info.versions ?? [])].sort(compareVersions);
  const published = versions.filter((v) => time[v]).map((v) => ({ version: v, time: time[v] }));
  const yearAgo = Date.now() - 365 * 24 * 3600 * 1000;
  // The registry's `time` should rise with the version number; say so when it does not.
  const monotonic = published.every((p, i) => i === 0 || p.time >= published[i - 1].time);
  return {
    latest: info.version ?? null,
    deprecated: info.deprecated ?? null,
    repositoryUrl: info['repository.url'] ?? null,
    timeModified: time.modified ?? null,
    latestPublished: time[info.version] ?? null,
    versionCount: versions.length,
    versionsPublishedLast365Days: published.filter((p) => Date.parse(p.time) > yearAgo).length,
    timeRisesWithVersion: monotonic,
    ...(monotonic ? {} : { note: 'registry times do not rise with versions: not publish dates' }),
    recentVersions: published.slice(-6),
  };
}

function runChild(name) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--run', name], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    child.on('message', (msg) => (result = msg));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 && result ? resolve(result) : reject(new Error(`${name}: child exited ${code}`)),
    );
  });
}

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main() {
  const childIndex = process.argv.indexOf('--run');
  if (childIndex !== -1) {
    process.send(await measureRun(process.argv[childIndex + 1]));
    return;
  }

  // One fresh process per (candidate, run), interleaved and rotated (A B C, B C A, C A B) so
  // that a noisy stretch on a shared machine does not land on one candidate only.
  const started = Date.now();
  const names = Object.keys(candidates);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + run) % names.length];
      process.stdout.write(`run ${run + 1}/${RUNS}: ${name}\n`);
      runs[name].push(await runChild(name));
    }
  }
  const results = names.map((name) => summarize(name, runs[name]));
  if (!process.argv.includes('--no-registry')) {
    for (const r of results) r.maintenance = maintenance(r.name);
  }

  const report = {
    benchmark: 'rocksdb-bindings',
    command: 'npm install --prefix bench/rocksdb && node bench/rocksdb/run.mjs',
    date: new Date().toISOString(),
    machine: {
      cpuModel: os.cpus()[0].model,
      cpuCount: os.cpus().length,
      totalMemoryGB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      tmpdir: os.tmpdir(),
    },
    parameters: {
      runs: RUNS,
      statistic: 'median of runs; each run a fresh process and database after a 5% warm-up pass',
      mainThreadCpuUsPerOp:
        'median CPU time of the JS thread per op (/proc/self/task/<pid>/schedstat), incl. the loop',
      longestLoopStallMs: 'worst over runs of the longest gap between 1 ms timer ticks',
      batchKeys: BATCH_KEYS,
      batchSize: BATCH_SIZE,
      singleKeys: SINGLE_KEYS,
      keyExample: makeKey(123 * 100 + 42).toString(),
      valueBytes: VALUE_BYTES,
      writeOptions: 'binding defaults (WAL on, no fsync per write)',
    },
    totalSeconds: Math.round((Date.now() - started) / 1000),
    candidates: results,
  };
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);

  const rows = [];
  for (const r of results) {
    for (const [key, { label }] of Object.entries(PHASES)) {
      const m = r.measurements[key];
      rows.push([
        r.name,
        label,
        m.opsPerSec.toLocaleString('en-US'),
        m.usPerOp.toFixed(2),
        m.mainThreadCpuUsPerOp.toFixed(2),
        m.longestLoopStallMs.toFixed(1),
      ]);
    }
  }
  const m = report.machine;
  console.log(`\n${m.cpuModel}, ${m.cpuCount} CPUs, ${m.totalMemoryGB} GB, Node ${m.node}`);
  console.log(`median of ${RUNS} runs; batches of ${BATCH_SIZE}; loop stall = worst of runs\n`);
  console.log(
    table(rows, ['binding', 'operation', 'ops/s', 'us/op', 'JS-thread CPU us/op', 'loop stall ms']),
  );
  console.log();
  console.log(
    table(
      results.map((r) => [
        r.name,
        r.version,
        r.loadedFromPrebuild ? 'yes' : 'no',
        r.rssPeakMB,
        r.bundledRocksDB ?? '?',
        r.maintenance?.deprecated ? 'yes' : r.maintenance ? 'no' : '?',
        r.maintenance?.versionCount ?? '?',
        r.maintenance?.latestPublished?.slice(0, 10) ?? '?',
      ]),
      [
        'binding',
        'version',
        'prebuild',
        'peak RSS MB',
        'RocksDB',
        'npm deprecated',
        'npm versions',
        'registry time of latest',
      ],
    ),
  );
  for (const r of results) console.log(`${r.name}: ${r.nativeFiles.join(', ')}`);
  console.log(`\nwrote ${path.relative(process.cwd(), resultsFile)} in ${report.totalSeconds} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
