// Stream-stream inner/left/outer joins in worker processes against the real broker, under
// exactly-once: out-of-order records within grace, late records beyond it (dead-lettered as
// LATE_RECORD), unmatched records emitted once their window closes, and a kill -9 halfway with a
// new worker on an empty state directory (join stores and stream time from the changelogs).
//
// A task reads its two topics in an order the test does not control, so the input goes in rounds
// whose result does not depend on it: a round's on-time records lie within grace of each other
// (none is late whichever is read first), its late records are older than the previous round's
// stream time minus grace (late whichever is read first), and rounds are further apart than a
// window plus grace (a round closes the previous one). After each round the outputs and the
// dead-letter topic must equal the oracle's (test/join-oracle.ts) exactly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { streamJoinOracle } from '../join-oracle.ts';
import type { SideRecord } from '../join-oracle.ts';
import { random } from '../random.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const fixture = new URL('./fixtures/stream-joins-worker.ts', import.meta.url).pathname;
const w = { before: 100, after: 60, grace: 50 };
const rounds = 4;

/** Round r's records: on-time ones in [base, base + grace], and from round 1 on a few late ones. */
function round(r: number, next: () => number): SideRecord[] {
  const base = 1_000_000 + r * 1_000;
  const out: SideRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const side = next() < 0.5 ? 'left' : 'right';
    out.push({
      side,
      key: `k${Math.floor(next() * 20)}`,
      t: base + Math.floor(next() * (w.grace + 1)),
      id: `${side === 'left' ? 'L' : 'R'}${r}-${i}`,
    });
  }
  if (r > 0) {
    for (let i = 0; i < 3; i++) {
      const side = i % 2 === 0 ? 'left' : 'right';
      out.push({
        side,
        key: 'k0',
        t: base - 1_200 - i,
        id: `${side === 'left' ? 'L' : 'R'}${r}-late${i}`,
      });
    }
  }
  return out;
}

function expectedOutputs(
  records: SideRecord[],
): Record<'inner' | 'left' | 'outer', string[]> & { late: number } {
  const o = streamJoinOracle(records, w);
  const lefts = o.leftUnmatched.map((l) => `${l}+-`);
  const rights = o.rightUnmatched.map((r) => `-+${r}`);
  return {
    inner: o.pairs,
    left: [...o.pairs, ...lefts].sort(),
    outer: [...o.pairs, ...lefts, ...rights].sort(),
    late: o.late.length,
  };
}

describe('stream-stream joins over a real broker', () => {
  const live: WorkerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const worker of live) await stopWorker(worker).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('equals the oracle round by round, with late and out-of-order records, across a kill -9 under exactly-once', async () => {
    const name = uniqueName('ss-join');
    const [leftTopic, rightTopic, output] = [`${name}-left`, `${name}-right`, `${name}-out`];
    const kinds = ['inner', 'left', 'outer'] as const;
    await createTopics(
      [leftTopic, rightTopic, ...kinds.map((k) => `${output}-${k}`)].map((topic) => ({
        topic,
        partitions: 1,
      })),
    );
    const run = (id: string): WorkerProcess => {
      const stateDir = mkdtempSync(join(tmpdir(), 'ss-join-'));
      dirs.push(stateDir);
      const worker = startWorkerProcess({
        id,
        fixture,
        appId: name,
        input: leftTopic,
        output,
        guarantee: 'exactly_once',
        stateDir,
        env: {
          LEFT_TOPIC: leftTopic,
          RIGHT_TOPIC: rightTopic,
          BEFORE_MS: String(w.before),
          AFTER_MS: String(w.after),
          GRACE_MS: String(w.grace),
        },
      });
      live.push(worker);
      return worker;
    };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const next = random(21);
    const sent: SideRecord[] = [];
    try {
      let worker = run('w1');
      await waitForAssignment([worker], 1);
      for (let r = 0; r < rounds; r++) {
        const records = round(r, next);
        await producer.sendBatch({
          acks: -1,
          topicMessages: (['left', 'right'] as const).map((side) => ({
            topic: side === 'left' ? leftTopic : rightTopic,
            messages: records
              .filter((x) => x.side === side)
              .map((x) => ({ key: x.key, value: JSON.stringify(x.id), timestamp: String(x.t) })),
          })),
        });
        sent.push(...records);
        const expected = expectedOutputs(sent);
        for (const kind of kinds) {
          const read = await readTopic(
            `${output}-${kind}`,
            (rs) => rs.length >= expected[kind].length,
          );
          const got = read.map((x) => JSON.parse(x.value?.toString() ?? 'null') as string).sort();
          assert.deepEqual(got, expected[kind], `${kind} join after round ${r}`);
        }
        const dead = await readTopic(`${name}-dlq`, (rs) => rs.length >= 3 * expected.late);
        assert.equal(dead.length, 3 * expected.late, `late records after round ${r}, one per join`);
        assert.ok(dead.every((d) => d.headers[deadLetterHeaders.code] === 'LATE_RECORD'));
        // 1. Halfway: kill -9, and a new worker on an empty state directory.
        if (r === rounds / 2 - 1) {
          worker.signal('SIGKILL');
          assert.equal(await worker.exited, null);
          worker = run('w2');
          await waitForAssignment([worker], 1);
        }
      }
      // 2. The input exercised what the test claims.
      const o = streamJoinOracle(sent, w);
      assert.ok(o.pairs.length > 0 && o.leftUnmatched.length > 0 && o.rightUnmatched.length > 0);
      assert.equal(await stopWorker(worker), 0);
    } finally {
      await producer.disconnect();
    }
  });
});
