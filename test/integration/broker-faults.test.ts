// Workers ride out the faults a production cluster has (issue 13, part 4): the broker stopped
// for 30 s three times in one run (the failure it fixes was intermittent), a worker frozen past
// its session (SIGSTOP) and thawed, a worker started before its broker. Each runs two worker
// processes under a sustained load against a PRIVATE broker (its own ports and data directory;
// the shared stack is never stopped), asserts that no worker exited, and checks
// the committed hourly windows against an oracle computed from the input topic as it ended up:
// exactly-once: every window, once, right; at-least-once: every window, duplicates counted.
// The broker is a 1-node cluster of infra/stack/kafka-cluster.ts (the jars come from the stack's
// cache: TRIBUTARY_STACK_DIR names it in a checkout without its own .stack).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { createKafkaClient } from '../../src/kafka/index.ts';
import type { KafkaClient } from '../../src/kafka/index.ts';
import type { Reading, Summary } from './fixtures/worker.ts';
import { eventually, uniqueName } from './helpers.ts';
import { oracle, readings } from './oracle.ts';
import { startKafkaCluster } from '../../infra/stack/kafka-cluster.ts';
import type { KafkaCluster } from '../../infra/stack/kafka-cluster.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const partitions = 4;
const sensors = 24;

interface App {
  appId: string;
  guarantee: 'at_least_once' | 'exactly_once';
  output: string;
  workers: WorkerProcess[];
}

/** What the committed output holds, against the oracle. */
interface Verdict {
  expected: number;
  missing: string[];
  wrong: string[];
  duplicates: number;
  records: number;
}

describe('workers ride out broker faults (private single broker, two workers each)', () => {
  let cluster: KafkaCluster;
  let client: KafkaClient;
  /** The one node: stop (SIGTERM), kill (SIGKILL) and start it again. */
  const kafka = {
    stop: () => cluster.stop(1),
    kill: () => cluster.kill(1),
    start: () => cluster.start(1),
  };
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  before(async () => {
    cluster = await startKafkaCluster({
      brokers: 1,
      dir: mkdtempSync(join(tmpdir(), 'tributary-faults-kafka-')),
    });
    client = createKafkaClient({ brokers: cluster.brokers, clientId: 'it-broker-faults' });
  });
  after(async () => {
    // For a failure's post-mortem: every worker's log, when asked for.
    const logDir = process.env['BROKER_FAULTS_LOG_DIR'];
    if (logDir !== undefined)
      for (const [i, w] of live.entries())
        writeFileSync(
          join(logDir, `${i}-${w.id}.jsonl`),
          w.log.map((e) => JSON.stringify(e)).join('\n'),
        );
    for (const w of live) w.signal('SIGKILL');
    await cluster.down();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const createTopics = async (topics: string[]): Promise<void> => {
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
    } finally {
      await admin.disconnect();
    }
  };

  const startApp = (
    appId: string,
    input: string,
    guarantee: App['guarantee'],
    env: Record<string, string> = {},
  ): App => {
    const output = `${input}-${guarantee}-out`;
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-faults-'));
    dirs.push(stateDir);
    const workers = ['w1', 'w2'].map((id) =>
      startWorkerProcess({
        id,
        topology: 'hourly',
        appId,
        input,
        output,
        guarantee,
        // Each worker its own state directory, as on two machines.
        stateDir: join(stateDir, id),
        brokers: cluster.brokers,
        env,
      }),
    );
    live.push(...workers);
    return { appId, guarantee, output, workers };
  };

  /**
   * Produces the readings in small chunks at a steady pace until `stop()` says so, riding out
   * outages itself: a send that fails is sent again (a record may then be in the input twice;
   * the oracle reads the input topic as it ended up, so that is no error of the workers).
   */
  const sustainedLoad = (input: string, data: Reading[], perSecond: number) => {
    let stopped = false;
    let sent = 0;
    let retries = 0;
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    const done = (async () => {
      await producer.connect();
      const chunk = Math.max(1, Math.round(perSecond / 4));
      while (!stopped && sent < data.length) {
        const slice = data.slice(sent, sent + chunk);
        try {
          await producer.send({
            topic: input,
            acks: -1,
            messages: slice.map((r) => ({ key: r.sensor, value: JSON.stringify(r) })),
          });
          sent += slice.length;
          await sleep(250);
        } catch {
          retries++;
          await sleep(1000);
        }
      }
      await producer.disconnect();
    })();
    return {
      stop: async () => {
        stopped = true;
        await done;
        return { sent, retries };
      },
      /** Resolves once every reading was sent. */
      finished: done.then(() => ({ sent, retries })),
    };
  };

  /** A topic's records per partition in offset order, read_committed, up to its end now. */
  const readAll = async (topic: string): Promise<Buffer[][]> => {
    const admin = client.admin();
    await admin.connect();
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]),
    );
    await admin.disconnect();
    const byPartition: Buffer[][] = Array.from({ length: partitions }, () => []);
    const next = new Map<number, bigint>();
    const consumer = client.consumer({ groupId: uniqueName('it-faults-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = BigInt(message.offset);
        if (offset < (next.get(partition) ?? 0n)) return; // delivered again
        next.set(partition, offset + 1n);
        if (message.value !== null) byPartition[partition]?.push(message.value);
      },
    });
    // Under read_committed the last offsets may be transaction markers or aborted records, which
    // are never delivered: done once each partition reached its end (but a marker), or once
    // nothing more came for 5 s.
    const began = Date.now();
    let count = -1;
    let quietSince = Date.now();
    await eventually(
      `${topic} read to its end`,
      async () => {
        const now = byPartition.reduce((n, p) => n + p.length, 0);
        if (now !== count) {
          count = now;
          quietSince = Date.now();
        }
        const reached = [...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end);
        return reached || (Date.now() - quietSince > 5000 && Date.now() - began > 5000)
          ? true
          : undefined;
      },
      120_000,
      500,
    );
    await consumer.disconnect();
    return byPartition;
  };

  /** The committed output against the oracle of the input as it is in the topic. */
  const verdict = async (input: string, app: App): Promise<Verdict> => {
    const inputs = (await readAll(input)).flat().map((b) => JSON.parse(b.toString()) as Reading);
    const expected = oracle(inputs, partitions).windows;
    const seen = new Map<string, Summary[]>();
    let records = 0;
    // Final windows appear as the workers catch up: read until every expected one is there.
    await eventually(
      () => `${app.appId}: ${expected.size} windows (${seen.size} so far)`,
      async () => {
        seen.clear();
        records = 0;
        for (const value of (await readAll(app.output)).flat()) {
          const w = JSON.parse(value.toString()) as { key: string; start: number; value: Summary };
          const id = `${w.key}@${w.start}`;
          seen.set(id, [...(seen.get(id) ?? []), w.value]);
          records++;
        }
        return [...expected.keys()].every((id) => seen.has(id)) ? true : undefined;
      },
      150_000,
      2000,
    ).catch(() => undefined);
    const missing = [...expected.keys()].filter((id) => !seen.has(id));
    const wrong: string[] = [];
    for (const [id, results] of seen) {
      const want = expected.get(id);
      if (want === undefined) continue; // a window the oracle's final stream time left open
      for (const got of results) {
        const same =
          got.count === want.count &&
          got.sum === want.sum &&
          got.min === want.min &&
          got.max === want.max;
        // At-least-once may count a reading twice after a replay, never less than once.
        const acceptable = app.guarantee === 'at_least_once' && got.count >= want.count;
        if (!same && !acceptable)
          wrong.push(`${id}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
    }
    const duplicates = [...seen.values()].reduce((n, r) => n + r.length - 1, 0);
    return { expected: expected.size, missing, wrong, duplicates, records };
  };

  const assertAlive = (app: App, when: string): void => {
    for (const w of app.workers)
      assert.equal(
        w.child.exitCode,
        null,
        `${app.appId} ${w.id} exited ${w.child.exitCode} ${when}: ${JSON.stringify(w.log.slice(-5)).slice(-2500)}`,
      );
  };

  const check = (app: App, v: Verdict, t: { diagnostic: (s: string) => void }): void => {
    t.diagnostic(
      `${app.guarantee}: ${v.expected} windows expected, ${v.records} results, ${v.missing.length} missing, ${v.duplicates} duplicates, ${v.wrong.length} wrong`,
    );
    assert.deepEqual(v.missing.slice(0, 5), [], `${app.guarantee}: windows missing`);
    assert.deepEqual(v.wrong.slice(0, 5), [], `${app.guarantee}: windows wrong`);
    assert.ok(v.expected > 50, `a meaningful run (${v.expected} windows)`);
    if (app.guarantee === 'exactly_once')
      assert.equal(v.duplicates, 0, 'exactly-once: no duplicate');
  };

  const faultsLogged = (app: App): number =>
    app.workers
      .flatMap((w) => w.log)
      .filter(
        (e) =>
          String(e['msg']).startsWith('Kafka fault') ||
          String(e['msg']).startsWith('waiting for Kafka'),
      ).length;

  it('the broker stopped for 30 s, three times, under both guarantees: no worker exits, exactly-once exact, at-least-once complete', async (t) => {
    const prefix = uniqueName('it-outage');
    const input = `${prefix}-in`;
    await createTopics([input, `${input}-exactly_once-out`, `${input}-at_least_once-out`]);
    const apps = [
      startApp(`${prefix}-eos`, input, 'exactly_once'),
      startApp(`${prefix}-alos`, input, 'at_least_once'),
    ];
    await Promise.all(apps.map((app) => waitForAssignment(app.workers, partitions, 90_000)));
    const data = readings(200_000, sensors, 13);
    const load = sustainedLoad(input, data, 240);
    const phases: string[] = [];
    const began = Date.now();
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(0)} s`);
    };
    for (let outage = 1; outage <= 3; outage++) {
      await sleep(outage === 1 ? 12_000 : 15_000);
      // A stop at a different moment of the commit cycle each time: a SIGTERM (controlled
      // shutdown) twice, a SIGKILL once.
      if (outage === 2) await kafka.kill();
      else await kafka.stop();
      phase(`down ${outage}`);
      await sleep(30_000);
      for (const app of apps) assertAlive(app, `during outage ${outage}`);
      await kafka.start();
      phase(`up ${outage}`);
    }
    await sleep(10_000);
    const { sent, retries } = await load.stop();
    phase('load stopped');
    for (const app of apps) assertAlive(app, 'after the outages');
    const verdicts = [];
    for (const app of apps) verdicts.push(await verdict(input, app));
    phase('checked');
    t.diagnostic(
      `${sent} readings sent (${retries} sends retried); faults logged eos ${faultsLogged(apps[0] as App)}, alos ${faultsLogged(apps[1] as App)}; ${phases.join(', ')}`,
    );
    for (const [i, app] of apps.entries()) {
      assertAlive(app, 'at the end');
      check(app, verdicts[i] as Verdict, t);
    }
    for (const app of apps)
      assert.deepEqual(await Promise.all(app.workers.map((w) => stopWorker(w))), [0, 0]);
  });

  it('a changelog read (a restore) goes on through a broker stopped mid-read, and hands over every record once, in order', async (t) => {
    const topic = uniqueName('it-restore-outage');
    await createTopics([topic]);
    // 1 KB values, 16 MB per partition: a read takes several fetches per partition.
    const perPartition = 16_000;
    const chunk = 1_000;
    const pad = 'x'.repeat(1_000);
    const producer = client.recordProducer();
    await producer.connect();
    for (let from = 0; from < perPartition; from += chunk) {
      await producer.send(
        Array.from({ length: chunk * partitions }, (_, i) => ({
          topic,
          partition: i % partitions,
          key: Buffer.from(`k${from + Math.floor(i / partitions)}`),
          value: Buffer.from(`${from + Math.floor(i / partitions)} ${pad}`),
          timestamp: Date.now(),
          headers: {},
        })),
      );
    }
    await producer.disconnect();
    const read: string[][] = Array.from({ length: partitions }, () => []);
    const count = (): number => read.reduce((n, p) => n + p.length, 0);
    let outage: Promise<number> | undefined;
    const began = Date.now();
    const progress = await client.changelogReader().read(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: '0' })),
      async (tp, records) => {
        read[tp.partition]?.push(...records.map((r) => String(r.value).split(' ')[0] ?? ''));
        // From the first hand-over on, the broker goes down for 5 s while the read goes on
        // (slowly: a second per hand-over, so its fetches meet the outage).
        outage ??= (async () => {
          await kafka.stop();
          const readBeforeOutage = count();
          await sleep(5_000);
          await kafka.start();
          return readBeforeOutage;
        })();
        await sleep(1_000);
      },
    );
    const readBeforeOutage = await outage;
    t.diagnostic(
      `read ${partitions} x ${perPartition} records in ${Date.now() - began} ms, ${readBeforeOutage} before the broker was down`,
    );
    assert.ok(readBeforeOutage !== undefined && readBeforeOutage < partitions * perPartition);
    const expected = Array.from({ length: perPartition }, (_, i) => String(i));
    for (let p = 0; p < partitions; p++) {
      assert.deepEqual(read[p], expected, `partition ${p}: every record once, in offset order`);
      assert.deepEqual(progress.get(`${topic}/${p}`), {
        records: perPartition,
        position: BigInt(perPartition),
      });
    }
  });

  it('a worker frozen (SIGSTOP) past its session under exactly-once is fenced, rejoins, and exits 0 at the end', async (t) => {
    const prefix = uniqueName('it-frozen');
    const input = `${prefix}-in`;
    await createTopics([input, `${input}-exactly_once-out`]);
    const app = startApp(`${prefix}-eos`, input, 'exactly_once');
    await waitForAssignment(app.workers, partitions, 90_000);
    const load = sustainedLoad(input, readings(200_000, sensors, 17), 240);
    await sleep(8000);
    const [frozen, other] = app.workers as [WorkerProcess, WorkerProcess];
    const assignmentsBefore = frozen.log.filter((e) => e['msg'] === 'assignment').length;
    frozen.signal('SIGSTOP');
    // Past the 6 s session and the 10 s transaction timeout: the other worker takes every task.
    await eventually(
      'the other worker to own every task',
      async () => ((other.tasks?.length ?? 0) === partitions ? true : undefined),
      60_000,
    );
    await sleep(5000);
    frozen.signal('SIGCONT');
    // It rejoins and gets tasks again.
    await eventually(
      'the thawed worker to rejoin with tasks',
      async () =>
        frozen.log.filter((e) => e['msg'] === 'assignment').length > assignmentsBefore &&
        (frozen.tasks?.length ?? 0) > 0
          ? true
          : undefined,
      90_000,
    );
    await waitForAssignment(app.workers, partitions, 60_000);
    await sleep(8000);
    const { sent } = await load.stop();
    assertAlive(app, 'after SIGCONT');
    const v = await verdict(input, app);
    t.diagnostic(
      `${sent} readings; the thawed worker logged ${faultsLogged(app)} faults; its messages after the freeze: ${[...new Set(frozen.log.map((e) => String(e['msg'])))].filter((m) => /fault|lost|discard|fenc/i.test(m)).join(' | ')}`,
    );
    assertAlive(app, 'at the end');
    check(app, v, t);
    assert.deepEqual(await Promise.all(app.workers.map((w) => stopWorker(w))), [0, 0]);
  });

  it('workers started 20 s before their broker wait for it, then process everything (exactly-once)', async (t) => {
    const prefix = uniqueName('it-early');
    const input = `${prefix}-in`;
    await createTopics([input, `${input}-exactly_once-out`]);
    await kafka.stop();
    const app = startApp(`${prefix}-eos`, input, 'exactly_once');
    await sleep(20_000);
    assertAlive(app, 'while the broker was down');
    const waited = app.workers.map(
      (w) => w.log.filter((e) => String(e['msg']).startsWith('waiting for Kafka')).length,
    );
    await kafka.start();
    await waitForAssignment(app.workers, partitions, 120_000);
    const { sent } = await sustainedLoad(input, readings(8000, sensors, 19), 2000).finished;
    assert.equal(sent, 8000);
    const v = await verdict(input, app);
    t.diagnostic(`start-up waits logged per worker: ${waited.join(', ')}`);
    for (const n of waited) assert.ok(n > 0, 'each worker said it was waiting for Kafka');
    assertAlive(app, 'at the end');
    check(app, v, t);
    assert.deepEqual(await Promise.all(app.workers.map((w) => stopWorker(w))), [0, 0]);
  });
});
