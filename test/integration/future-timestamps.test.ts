import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import type { Windowed } from '../../src/topology/index.ts';
import type { Reading, Summary } from './fixtures/worker.ts';
import { uniqueName } from './helpers.ts';
import { hourMs, oracle, readings } from './oracle.ts';
import { createTopics, produceJson, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

// Kafka 4 refuses records stamped more than `message.timestamp.after.max.ms` (1 hour by
// default) ahead of the broker's clock. Readings from devices whose clocks run days ahead make
// windows (and repartition records) stamped days ahead: no worker may die of them, and none
// of them may be lost. The shared broker's settings are left alone: each test sets what it
// needs on its own topics.

const partitions = 3;
const dayMs = 24 * hourMs;
const strictOutput = { 'message.timestamp.after.max.ms': String(hourMs) };
const openOutput = { 'message.timestamp.after.max.ms': '9223372036854775807' };

type Result = Windowed<string, Summary>;
const decode = (r: ReadRecord): Result => JSON.parse(r.value?.toString() ?? 'null') as Result;
const idOf = (w: Result): string => `${w.key}@${w.start}`;

/**
 * 6,000 readings of 30 sensors (November 2026) with, among the last fifth of them, readings of
 * 4 devices whose clocks run 2 to 3 days ahead of now: each device's windows 2 days ahead close
 * when its reading 3 days ahead arrives (and the partition's normal readings after them are late).
 */
function dataWithFuture(now: number): Reading[] {
  const data = readings(6000, 30, 13);
  const future: Reading[] = [];
  // All readings 2 days ahead before those 3 days ahead, which close their windows.
  for (let i = 0; i < 6; i++) {
    for (let d = 0; d < 4; d++)
      future.push({
        sensor: `ahead-${d}`,
        time: now + 2 * dayMs + i * 20 * 60_000,
        celsius: d + i,
      });
  }
  for (let d = 0; d < 4; d++)
    future.push({ sensor: `ahead-${d}`, time: now + 3 * dayMs, celsius: 1 });
  const at = Math.floor(data.length * 0.8);
  const step = Math.floor((data.length - at) / future.length);
  future.forEach((r, i) => data.splice(at + i * (step + 1), 0, r));
  return data;
}

describe('event times far in the future over a real broker', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function run(options: {
    prefix: string;
    topology: 'hourly' | 'hourly-rekeyed';
    guarantee: 'at_least_once' | 'exactly_once';
    outputConfig: Record<string, string>;
    data: Reading[];
    env?: Record<string, string>;
  }) {
    const appId = uniqueName(options.prefix);
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions },
      { topic: output, partitions, config: options.outputConfig },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-it-future-'));
    dirs.push(dir);
    const worker = startWorkerProcess({
      id: 'f1',
      topology: options.topology,
      appId,
      input,
      output,
      guarantee: options.guarantee,
      stateDir: dir,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    live.push(worker);
    await waitForAssignment([worker], partitions * (options.topology === 'hourly' ? 1 : 2));
    await produceJson(
      input,
      options.data.map((r) => ({ key: r.sensor, value: r })),
      2000,
    );
    return { appId, output, worker };
  }

  for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
    it(`${guarantee}: a strict output topic gets the normal windows; the windows days ahead go to the dead-letter topic as TIMESTAMP_OUT_OF_RANGE`, async (t) => {
      const now = Date.now();
      const data = dataWithFuture(now);
      const expected = oracle(data, partitions);
      const normal = new Map([...expected.windows].filter(([id]) => !id.startsWith('ahead-')));
      const ahead = new Map([...expected.windows].filter(([id]) => id.startsWith('ahead-')));
      assert.ok(ahead.size >= 8 && normal.size > 50, `${normal.size} normal, ${ahead.size} ahead`);
      const { appId, output, worker } = await run({
        prefix: `it-future-strict-${guarantee === 'exactly_once' ? 'eos' : 'alo'}`,
        topology: 'hourly',
        guarantee,
        outputConfig: strictOutput,
        data,
      });
      const out = await readTopic(output, (rs) => rs.length >= normal.size, 120_000);
      const dead = await readTopic(
        `${appId}-dlq`,
        (rs) => rs.length >= expected.late + ahead.size,
        120_000,
      );
      assert.equal(worker.child.exitCode, null, 'the worker is alive');
      const windows = new Map(out.map((r) => [idOf(decode(r)), decode(r).value]));
      assert.deepEqual(windows, normal, 'the output holds exactly the normal windows');
      assert.equal(out.length, normal.size, 'each once');
      const refused = dead.filter(
        (d) => d.headers[deadLetterHeaders.code] === 'TIMESTAMP_OUT_OF_RANGE',
      );
      const late = dead.filter((d) => d.headers[deadLetterHeaders.code] === 'LATE_RECORD');
      assert.equal(late.length, expected.late, 'late readings');
      assert.equal(refused.length, ahead.size, 'one dead letter per window days ahead');
      assert.deepEqual(
        new Map(refused.map((r) => [idOf(decode(r)), decode(r).value])),
        ahead,
        'the dead letters hold the windows days ahead, bytes intact',
      );
      for (const letter of refused) {
        assert.equal(letter.headers[deadLetterHeaders.reason], 'refused');
        assert.equal(letter.headers[deadLetterHeaders.topic], output);
        assert.equal(letter.headers[deadLetterHeaders.timestamp], String(decode(letter).end - 1));
        assert.match(letter.headers[deadLetterHeaders.message] ?? '', /after\.max\.ms/);
      }
      t.diagnostic(
        `${data.length} readings: ${normal.size} windows out, ${refused.length} days ahead and ${late.length} late readings in the dead-letter topic`,
      );
      assert.equal(await stopWorker(worker), 0);
    });

    it(`${guarantee}: through a repartition topic the runtime created, an output topic that accepts any time gets every window, days ahead included`, async (t) => {
      const now = Date.now();
      const data = dataWithFuture(now);
      const expected = oracle(data, partitions);
      const { appId, output, worker } = await run({
        prefix: `it-future-open-${guarantee === 'exactly_once' ? 'eos' : 'alo'}`,
        topology: 'hourly-rekeyed',
        guarantee,
        outputConfig: openOutput,
        data,
      });
      const out = await readTopic(output, (rs) => rs.length >= expected.windows.size, 120_000);
      const dead = await readTopic(`${appId}-dlq`, (rs) => rs.length >= expected.late, 120_000);
      assert.equal(worker.child.exitCode, null, 'the worker is alive');
      const windows = new Map(out.map((r) => [idOf(decode(r)), decode(r).value]));
      assert.deepEqual(windows, expected.windows);
      assert.equal(out.length, expected.windows.size, 'each once');
      assert.equal(dead.length, expected.late);
      assert.ok(dead.every((d) => d.headers[deadLetterHeaders.code] === 'LATE_RECORD'));
      const aheadCount = [...windows.keys()].filter((id) => id.startsWith('ahead-')).length;
      t.diagnostic(`${windows.size} windows out, ${aheadCount} of them days ahead`);
      assert.equal(await stopWorker(worker), 0);
    });

    it(`${guarantee}: a worker clock 2 hours ahead of the broker's: the refused window ends in the dead-letter topic after a few retries`, async (t) => {
      const now = Date.now();
      // A window whose end lies 2 to 3 hours ahead: in range by the worker's clock (2 h ahead),
      // beyond the broker's 1 hour. A reading 2 hours later closes it.
      const start = Math.ceil((now + hourMs) / hourMs) * hourMs;
      const data: Reading[] = [
        ...readings(600, 6, 5),
        { sensor: 'skewed', time: start + 5 * 60_000, celsius: 7 },
        { sensor: 'skewed', time: start + 2 * hourMs, celsius: 8 },
      ];
      const expected = oracle(data, partitions);
      const normal = [...expected.windows.keys()].filter((id) => !id.startsWith('skewed'));
      const { appId, output, worker } = await run({
        prefix: `it-future-skew-${guarantee === 'exactly_once' ? 'eos' : 'alo'}`,
        topology: 'hourly',
        guarantee,
        outputConfig: strictOutput,
        data,
        env: { CLOCK_SKEW_MS: String(2 * hourMs) },
      });
      const dead = await readTopic(
        `${appId}-dlq`,
        (rs) => rs.some((d) => d.headers[deadLetterHeaders.code] === 'TIMESTAMP_OUT_OF_RANGE'),
        180_000,
      );
      const refused = dead.filter(
        (d) => d.headers[deadLetterHeaders.code] === 'TIMESTAMP_OUT_OF_RANGE',
      );
      assert.deepEqual(
        refused.map((r) => idOf(decode(r))),
        [`skewed@${start}`],
      );
      assert.deepEqual(
        decode(refused[0] as ReadRecord).value,
        expected.windows.get(`skewed@${start}`),
      );
      const out = await readTopic(
        output,
        (rs) => new Set(rs.map((r) => idOf(decode(r)))).size >= normal.length,
        120_000,
      );
      const windows = new Map(out.map((r) => [idOf(decode(r)), decode(r).value]));
      for (const id of normal) assert.deepEqual(windows.get(id), expected.windows.get(id), id);
      assert.ok(!windows.has(`skewed@${start}`));
      if (guarantee === 'exactly_once') assert.equal(out.length, normal.length, 'each once');
      assert.equal(worker.child.exitCode, null, 'the worker is alive');
      const refusals = worker.log.filter((e) =>
        String(e['msg']).startsWith("the broker refused a record's timestamp"),
      );
      assert.ok(refusals.length >= 1, 'the refusal by the broker was seen and logged');
      t.diagnostic(
        `${refusals.length} refusals by the broker before the check caught up (allowance ${String(refusals.at(-1)?.['skewAllowanceMs'])} ms); ${out.length} results for ${normal.length} windows`,
      );
      assert.equal(await stopWorker(worker), 0);
    });
  }
});
