// `tributary dlq inspect` and `replay` as an operator runs them, against dead letters a real
// worker wrote: malformed records and records later than their window's grace. What the CLI says
// and what it republishes are checked against what the test itself sent.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { IHeaders } from 'kafkajs';

import { partitionForKey } from '../../src/kafka/index.ts';
import { runCli } from './cli.ts';
import { eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

interface Sent {
  key: string;
  value: Buffer;
  timestamp: number;
  headers: Record<string, Buffer>;
  partition: number;
  offset: string;
  /** What the worker must make of it. */
  fate: 'ok' | 'LATE_RECORD' | 'SERDE_DESERIALIZE_FAILED';
}

interface Fetched {
  key: string | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, Buffer>;
  partition: number;
  offset: string;
}

const hour = 3_600_000;
const base = Date.UTC(2026, 2, 1);

function buffers(headers: IHeaders | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = Buffer.from(last);
  }
  return out;
}

/** Every committed record of a topic from the given offsets (default: the start) to its end now. */
async function readRange(topic: string, from?: Map<number, bigint>): Promise<Fetched[]> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  const ends = await admin.endOffsets(topic);
  await admin.disconnect();
  const wanted = (p: number, offset: string): boolean =>
    BigInt(offset) >= (from?.get(p) ?? 0n) && BigInt(offset) < (ends.get(p) ?? 0n);
  // Done when every partition's position passed its end: transaction markers take offsets too,
  // and kafkajs reports batches of markers only (lastOffset) without messages.
  const records: Fetched[] = [];
  const seen = new Set<string>();
  const consumer = kafka.consumer({ groupId: uniqueName('it-dlq-range') });
  await consumer.connect();
  const positions = new Map<number, bigint>();
  const reached = (partition: number, lastOffset: string): void => {
    const next = BigInt(lastOffset) + 1n;
    if (next > (positions.get(partition) ?? 0n)) positions.set(partition, next);
  };
  // Batches of markers only never reach eachBatch; kafkajs reports them here.
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const last = event.payload.lastOffset;
    if (last !== null && last !== undefined) reached(event.payload.partition, last);
  });
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const id = `${batch.partition}/${m.offset}`;
          if (seen.has(id) || !wanted(batch.partition, m.offset)) continue;
          seen.add(id);
          records.push({
            key: m.key?.toString() ?? null,
            value: m.value,
            timestamp: Number(m.timestamp),
            headers: buffers(m.headers),
            partition: batch.partition,
            offset: m.offset,
          });
        }
        reached(batch.partition, batch.lastOffset());
      },
    });
    await eventually(
      () => `${topic} read to its end offsets (${records.length} records)`,
      async () =>
        [...ends].every(([p, end]) => end === 0n || (positions.get(p) ?? 0n) >= end)
          ? true
          : undefined,
      60_000,
      250,
    );
    return records;
  } finally {
    await consumer.disconnect();
  }
}

async function endOffsets(topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return await admin.endOffsets(topic);
  } finally {
    await admin.disconnect();
  }
}

async function topicExists(topic: string): Promise<boolean> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return (await admin.partitionCounts([topic])).has(topic);
  } finally {
    await admin.disconnect();
  }
}

function countBy<T>(items: T[], name: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[name(item)] = (counts[name(item)] ?? 0) + 1;
  return counts;
}

/** The record as the test sent it, in the form a replay must reproduce. */
function expectedReplay(sent: Sent, replayOf: string) {
  return {
    key: sent.key,
    value: sent.value.toString('hex'),
    timestamp: sent.timestamp,
    headers: Object.fromEntries(
      Object.entries({ ...sent.headers, 'tributary.replay.of': Buffer.from(replayOf) })
        .map(([k, v]) => [k, v.toString('hex')] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  };
}

function asReplay(r: Fetched) {
  return {
    key: r.key,
    value: r.value?.toString('hex'),
    timestamp: r.timestamp,
    headers: Object.fromEntries(
      Object.entries(r.headers)
        .map(([k, v]) => [k, v.toString('hex')] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  };
}

describe('tributary dlq over a real broker', () => {
  const live: WorkerProcess[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
  });

  it('inspects the dead letters a worker wrote, and replays them once, with their original key, value, headers and timestamp', async () => {
    const appId = uniqueName('it-dlqcli');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    const fresh = `${appId}-fresh`;
    const dlq = `${appId}-dlq`;
    const ledger = `${dlq}-replayed`;
    await createTopics([
      { topic: input, partitions: 3 },
      { topic: output, partitions: 3 },
      { topic: fresh, partitions: 3 },
    ]);
    const worker = startWorkerProcess({
      id: 'q1',
      topology: 'hourly',
      appId,
      input,
      output,
      guarantee: 'exactly_once',
    });
    live.push(worker);
    await waitForAssignment([worker], 3);

    // 1. Input: on time readings; for three keys a reading 5 h ahead and then readings of the
    //    first hour (late by the key's own time, and so by the partition's: late in either time
    //    mode); three records that are not JSON. Kafka timestamps differ from the event times, so
    //    the replay's timestamp is known to come from the record. Each record has headers of its
    //    own, one of them binary.
    const reading = (key: string, time: number): Buffer =>
      Buffer.from(JSON.stringify({ sensor: key, time, celsius: 20 }));
    const plan: Omit<Sent, 'partition' | 'offset'>[] = [];
    const add = (key: string, value: Buffer, time: number, fate: Sent['fate']): void => {
      const n = plan.length;
      plan.push({
        key,
        value,
        timestamp: time + 7 + n,
        headers: { 'trace-id': Buffer.from(`trace-${n}`), bin: Buffer.from([0, n, 0xff]) },
        fate,
      });
    };
    for (let i = 0; i < 6; i++)
      add(`s-${i}`, reading(`s-${i}`, base + i * 60_000), base + i * 60_000, 'ok');
    for (const key of ['late-a', 'late-b', 'late-c'])
      add(key, reading(key, base + 5 * hour), base + 5 * hour, 'ok');
    add('late-a', reading('late-a', base + 60_000), base + 60_000, 'LATE_RECORD');
    add('late-a', reading('late-a', base + 120_000), base + 120_000, 'LATE_RECORD');
    add('late-b', reading('late-b', base + 180_000), base + 180_000, 'LATE_RECORD');
    add('late-c', reading('late-c', base + 240_000), base + 240_000, 'LATE_RECORD');
    add('bad-1', Buffer.from('{"sensor":"bad-1","ti'), base + 300_000, 'SERDE_DESERIALIZE_FAILED');
    add('bad-2', Buffer.from('not json at all'), base + 360_000, 'SERDE_DESERIALIZE_FAILED');
    add('bad-3', Buffer.from([0xff, 0x00, 0x80, 0x7b]), base + 420_000, 'SERDE_DESERIALIZE_FAILED');

    const producer = kafka.producer();
    await producer.connect();
    const sent: Sent[] = [];
    const appendFloor = Date.now();
    // One at a time, so each record's partition and offset are known (and per key, in order).
    for (const p of plan) {
      const [meta] = await producer.send({
        topic: input,
        acks: -1,
        messages: [
          { key: p.key, value: p.value, timestamp: String(p.timestamp), headers: p.headers },
        ],
      });
      assert.ok(meta !== undefined);
      sent.push({ ...p, partition: meta.partition, offset: meta.baseOffset ?? '' });
    }
    const dead = sent.filter((s) => s.fate !== 'ok');
    await readTopic(dlq, (rs) => rs.length >= dead.length);
    assert.equal(await stopWorker(worker), 0);
    // A letter from another writer, without the source headers a replay needs.
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: [
        {
          key: 'handmade',
          value: 'x',
          headers: { 'tributary.error.code': 'HANDMADE', 'tributary.error.reason': 'failed' },
        },
      ],
    });
    await producer.disconnect();
    const appendCeiling = Date.now();
    const late = dead.filter((s) => s.fate === 'LATE_RECORD');
    const malformed = dead.filter((s) => s.fate === 'SERDE_DESERIALIZE_FAILED');
    const iso = (ms: number): string => new Date(ms).toISOString();

    // 2. inspect --json: the counts of what was sent.
    const app = ['--app-id', appId];
    const inspected = await runCli(['dlq', 'inspect', ...app, '--json', '--samples', '2']);
    assert.equal(inspected.code, 0, inspected.stderr);
    const summary = JSON.parse(inspected.stdout) as {
      topic: string;
      read: number;
      selected: number;
      byCode: Record<string, number>;
      byOperator: Record<string, number>;
      byReason: Record<string, number>;
      bySourceTopic: Record<string, number>;
      sourceTime: { first: string; last: string };
      appendTime: { first: string; last: string };
      notReplayable: number;
      samples: Record<
        string,
        {
          key: string;
          sourceTopic: string;
          sourcePartition: number;
          sourceOffset: string;
          sourceTime: string;
          message: string;
          value: string;
          valueBytes: number;
        }[]
      >;
    };
    assert.equal(summary.topic, dlq);
    assert.equal(summary.read, dead.length + 1);
    assert.equal(summary.selected, dead.length + 1);
    assert.deepEqual(summary.byCode, { ...countBy(dead, (d) => d.fate), HANDMADE: 1 });
    assert.deepEqual(summary.byOperator, {
      hourly: late.length,
      readings: malformed.length,
      '(none)': 1,
    });
    assert.deepEqual(summary.byReason, {
      late: late.length,
      invalid: malformed.length,
      failed: 1,
    });
    assert.deepEqual(summary.bySourceTopic, { [input]: dead.length, '(none)': 1 });
    const times = dead.map((d) => d.timestamp);
    assert.deepEqual(summary.sourceTime, {
      first: iso(Math.min(...times)),
      last: iso(Math.max(...times)),
    });
    const appended = [summary.appendTime.first, summary.appendTime.last].map(Date.parse);
    for (const t of appended)
      assert.ok(t >= appendFloor - 1000 && t <= appendCeiling + 1000, `append time ${iso(t)}`);
    assert.equal(summary.notReplayable, 1);
    assert.deepEqual(
      Object.fromEntries(Object.entries(summary.samples).map(([c, s]) => [c, s.length])),
      { LATE_RECORD: 2, SERDE_DESERIALIZE_FAILED: 2, HANDMADE: 1 },
    );
    for (const [code, samples] of Object.entries(summary.samples)) {
      if (code === 'HANDMADE') continue;
      for (const sample of samples) {
        const origin = dead.find(
          (d) => d.partition === sample.sourcePartition && d.offset === sample.sourceOffset,
        );
        assert.ok(origin, `sample ${JSON.stringify(sample)} is a record the test sent`);
        assert.equal(origin.fate, code);
        assert.equal(sample.key, origin.key);
        assert.equal(sample.sourceTopic, input);
        assert.equal(sample.sourceTime, iso(origin.timestamp));
        assert.equal(sample.valueBytes, origin.value.length);
        assert.match(sample.message, code === 'LATE_RECORD' ? /later than the grace period/ : /./);
        if (origin.key !== 'bad-3') assert.equal(sample.value, origin.value.toString());
        else assert.equal(sample.value, `0x${origin.value.toString('hex')}`);
      }
    }

    // 3. Filters: a code and a window of source time, [from, to).
    const lateTimes = late.map((d) => d.timestamp).sort((a, b) => a - b);
    const from = lateTimes[1] ?? 0;
    const to = lateTimes[3] ?? 0;
    const filtered = await runCli([
      'dlq',
      'inspect',
      ...app,
      '--json',
      '--code',
      'LATE_RECORD,SERDE_DESERIALIZE_FAILED',
      '--reason',
      'late',
      '--from',
      iso(from),
      '--to',
      String(to),
    ]);
    assert.equal(filtered.code, 0, filtered.stderr);
    const inWindow = late.filter((d) => d.timestamp >= from && d.timestamp < to);
    assert.equal(inWindow.length, 2);
    const narrowed = JSON.parse(filtered.stdout) as typeof summary;
    assert.equal(narrowed.selected, inWindow.length);
    assert.deepEqual(narrowed.byCode, { LATE_RECORD: inWindow.length });

    const text = await runCli(['dlq', 'inspect', ...app]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^ +${late.length}  LATE_RECORD$`, 'm'));
    assert.match(text.stdout, /^samples of SERDE_DESERIALIZE_FAILED \(3 of 3\)$/m);

    // 4. A dry run writes nothing, not even the ledger.
    const freshEnds = await endOffsets(fresh);
    const dry = await runCli([
      'dlq',
      'replay',
      ...app,
      '--code',
      'LATE_RECORD',
      '--to-topic',
      fresh,
      '--dry-run',
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^would replay: ${late.length}$`, 'm'));
    assert.deepEqual(await endOffsets(fresh), freshEnds);
    assert.equal(await topicExists(ledger), false, 'a dry run creates no ledger');

    // 5. The late letters to a fresh topic: the records as sent, plus where they came from.
    //    A replay that crashed before committing left its transaction open, with copies of
    //    the letters in it: the next replay fences it, so they are never committed.
    const crashed = kafka.producer({
      transactionalId: `${dlq}-replay`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 120_000,
    });
    await crashed.connect();
    const open = await crashed.transaction();
    await open.send({
      topic: fresh,
      acks: -1,
      messages: late.map((s) => ({ key: s.key, value: s.value, timestamp: String(s.timestamp) })),
    });
    const replay = ['dlq', 'replay', ...app, '--code', 'LATE_RECORD', '--to-topic', fresh];
    const first = await runCli(replay);
    assert.equal(first.code, 0, first.stderr);
    await assert.rejects(open.commit(), 'the crashed replay was fenced');
    await crashed.disconnect();
    assert.match(first.stdout, new RegExp(`^replayed: ${late.length}$`, 'm'));
    assert.match(first.stdout, new RegExp(`^ +${late.length}  ${fresh}$`, 'm'));
    const letters = await readRange(dlq);
    const letterOf = (s: Sent): Fetched | undefined =>
      letters.find(
        (l) =>
          l.headers['tributary.source.partition']?.toString() === String(s.partition) &&
          l.headers['tributary.source.offset']?.toString() === s.offset,
      );
    const replayOf = (s: Sent): string => {
      const letter = letterOf(s);
      assert.ok(letter, `the dead letter of ${s.key}@${s.offset}`);
      return `${dlq}:${letter.partition}:${letter.offset}`;
    };
    const inFresh = await readRange(fresh);
    const byOrigin = (
      a: { headers: Record<string, string> },
      b: { headers: Record<string, string> },
    ) =>
      (a.headers['tributary.replay.of'] ?? '') < (b.headers['tributary.replay.of'] ?? '') ? -1 : 1;
    assert.deepEqual(
      inFresh.map(asReplay).sort(byOrigin),
      late.map((s) => expectedReplay(s, replayOf(s))).sort(byOrigin),
    );
    for (const r of inFresh)
      assert.equal(r.partition, partitionForKey(r.key ?? '', 3), `${r.key}: partitioned by key`);

    // 6. Again: nothing more is written; the ledger names every letter replayed.
    const freshAfter = await endOffsets(fresh);
    const second = await runCli(replay);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^replayed: 0$/m);
    assert.match(second.stdout, new RegExp(`already replayed .*: ${late.length}$`, 'm'));
    assert.deepEqual(await endOffsets(fresh), freshAfter);
    const ledgerKeys = (await readRange(ledger)).map((r) => r.key).sort();
    assert.deepEqual(ledgerKeys, late.map((s) => replayOf(s).slice(dlq.length + 1)).sort());

    // 7. The malformed letters back to their own topic and partition (the worker is stopped).
    const inputEnds = await endOffsets(input);
    const dryBack = await runCli([
      'dlq',
      'replay',
      ...app,
      '--code',
      'SERDE_DESERIALIZE_FAILED',
      '--dry-run',
    ]);
    assert.equal(dryBack.code, 0, dryBack.stderr);
    assert.match(dryBack.stdout, new RegExp(`^would replay: ${malformed.length}$`, 'm'));
    assert.deepEqual(await endOffsets(input), inputEnds);
    const back = await runCli(['dlq', 'replay', ...app, '--code', 'SERDE_DESERIALIZE_FAILED']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`^ +${malformed.length}  ${input}$`, 'm'));
    const republished = await readRange(input, inputEnds);
    assert.deepEqual(
      republished.map(asReplay).sort(byOrigin),
      malformed.map((s) => expectedReplay(s, replayOf(s))).sort(byOrigin),
    );
    for (const r of republished) {
      const origin = malformed.find((s) => s.key === r.key);
      assert.equal(r.partition, origin?.partition, `${r.key}: back to its own partition`);
    }

    // 8. Everything: all but the letter without source headers were replayed already.
    const inputAfter = await endOffsets(input);
    const all = await runCli(['dlq', 'replay', ...app]);
    assert.equal(all.code, 1, 'a selected letter that cannot be replayed fails the command');
    assert.match(all.stdout, /^replayed: 0$/m);
    assert.match(all.stdout, new RegExp(`already replayed .*: ${dead.length}$`, 'm'));
    assert.match(all.stdout, /^skipped, headers missing: 1$/m);
    assert.match(all.stdout, / {2}1 {2}tributary\.source\.topic$/m);
    assert.match(all.stderr, /1 selected dead letters cannot be replayed/);
    assert.deepEqual(await endOffsets(input), inputAfter);
    assert.deepEqual(await endOffsets(fresh), freshAfter);

    // 9. An application without a dead-letter topic.
    const none = await runCli(['dlq', 'inspect', '--app-id', `${appId}-never`]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, new RegExp(`dead-letter topic ${appId}-never-dlq does not exist`));
  });
});
