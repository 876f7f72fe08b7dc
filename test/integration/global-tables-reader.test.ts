// The worker's global-table reader (GlobalTables over the topic follower) against the real
// broker: a 3-partition topic written in transactions (some aborted), with updates, tombstones
// and a record that does not decode. The table is compared with an oracle that replays what was
// written, committed records only, in order per key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';

import { TributaryError } from '../../src/core/index.ts';
import type { Logger } from '../../src/core/index.ts';
import { createTopicFollower } from '../../src/kafka/topic-follower.ts';
import { GlobalTables } from '../../src/runtime/global-tables.ts';
import type { AnySerde } from '../../src/topology/plan.ts';
import { json, string } from '../../src/serde/index.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics } from './topics.ts';

interface Station {
  name: string;
  round: number;
}

/** One written record: a value, a tombstone (null) or bytes that are not JSON. */
type Write = { key: string; value: Station | null | 'malformed' };

/** What the table must hold: committed writes applied in order, malformed ones left out. */
function oracle(committed: readonly Write[]): Map<string, Station> {
  const table = new Map<string, Station>();
  for (const { key, value } of committed) {
    if (value === 'malformed') continue;
    if (value === null) table.delete(key);
    else table.set(key, value);
  }
  return table;
}

function encode(value: Write['value']): Buffer | null {
  if (value === null) return null;
  if (value === 'malformed') return Buffer.from('{not json');
  return Buffer.from(JSON.stringify(value));
}

/** Warnings, to see that a record that does not decode is reported with its position. */
function recordingLogger(warnings: object[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields) => warnings.push(fields),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe('global table reader (real broker)', () => {
  it('bootstraps every partition before start resolves, then follows updates and tombstones; aborted and malformed records stay out', async () => {
    const kafka = new Kafka({
      clientId: 'it-global',
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('it-global');
    await createTopics([{ topic, partitions: 3 }]);
    const producer = kafka.producer({
      transactionalId: uniqueName('it-global-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const committed: Write[] = [];
    const write = async (writes: Write[], commit: boolean): Promise<void> => {
      const tx = await producer.transaction();
      await tx.send({
        topic,
        messages: writes.map((w) => ({ key: w.key, value: encode(w.value) })),
      });
      if (commit) {
        await tx.commit();
        committed.push(...writes);
      } else await tx.abort();
    };
    const keys = Array.from({ length: 60 }, (_, i) => `s${i}`);
    const station = (key: string, round: number): Write => ({ key, value: { name: key, round } });
    // Before the start: every key, then updates of every third, tombstones of every fifth, an
    // aborted rewrite of all, and a malformed record for a key that keeps its earlier value.
    await write(
      keys.map((k) => station(k, 1)),
      true,
    );
    await write(
      keys.filter((_, i) => i % 3 === 0).map((k) => station(k, 2)),
      true,
    );
    await write(
      keys.filter((_, i) => i % 5 === 0).map((key) => ({ key, value: null })),
      true,
    );
    await write(
      keys.map((k) => station(k, 99)),
      false,
    );
    await write([{ key: 's1', value: 'malformed' }], true);

    const warnings: object[] = [];
    const tables = new GlobalTables(
      [{ store: 'stations', topic, key: string() as AnySerde, value: json<Station>() as AnySerde }],
      recordingLogger(warnings),
      createTopicFollower(kafka, uniqueName('it-global')),
    );
    const view = tables.view('stations');
    assert.ok(view !== undefined);
    const contents = (): Map<string, unknown> =>
      new Map(
        keys.flatMap((k) => {
          const v = view.get(Buffer.from(k));
          return v === undefined ? [] : [[k, v] as const];
        }),
      );
    try {
      await tables.start();
      // Everything written before the start is in when start resolves, nothing more is needed.
      const expected = oracle(committed);
      assert.equal(view.size, expected.size);
      assert.deepEqual(contents(), expected, 'the bootstrap read every partition to its end');
      assert.equal(view.get(Buffer.from('s1'))?.constructor, Object, 's1 kept its value');
      assert.equal(tables.skipped, 1, 'the malformed record was left out');
      assert.ok(
        warnings.some((w) => 'offset' in w && 'partition' in w && 'topic' in w),
        'the skipped record was logged with its position',
      );

      // While it runs: a deleted key comes back, kept keys are updated or deleted, new keys
      // arrive; an aborted transaction in between is never seen.
      await write([station('s0', 3), station('s7', 3), { key: 's8', value: null }], true);
      await write([station('s0', 98), { key: 's9', value: null }], false);
      const extra = ['s60', 's61', 's62'];
      keys.push(...extra);
      await write(
        extra.map((k) => station(k, 3)),
        true,
      );
      const after = oracle(committed);
      await eventually('the table to follow the updates', async () => {
        const now = contents();
        return now.size === after.size &&
          [...after].every(([k, v]) => JSON.stringify(now.get(k)) === JSON.stringify(v))
          ? true
          : undefined;
      });
      assert.deepEqual(contents(), after);
      assert.equal(view.size, after.size);
      assert.equal(view.get(Buffer.from('s9'))?.constructor, Object, 'aborted delete not applied');
    } finally {
      await producer.disconnect();
      await tables.stop();
      await tables.stop();
    }
  });

  it('starts at once on an empty topic and sees the first records written afterwards', async () => {
    const kafka = new Kafka({
      clientId: 'it-global-empty',
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('it-global-empty');
    await createTopics([{ topic, partitions: 3 }]);
    const tables = new GlobalTables(
      [{ store: 'st', topic, key: string() as AnySerde, value: json<{ n: number }>() as AnySerde }],
      recordingLogger([]),
      createTopicFollower(kafka, uniqueName('it-global-empty')),
    );
    const producer = kafka.producer();
    try {
      await tables.start();
      const view = tables.view('st');
      assert.equal(view?.size, 0);
      await producer.connect();
      const written = Array.from({ length: 9 }, (_, n) => ({ key: `k${n}`, n }));
      await producer.send({
        topic,
        messages: written.map(({ key, n }) => ({ key, value: JSON.stringify({ n }) })),
      });
      await eventually('the first records', async () => (view?.size === 9 ? true : undefined));
      for (const { key, n } of written) assert.deepEqual(view?.get(Buffer.from(key)), { n });
    } finally {
      await producer.disconnect();
      await tables.stop();
    }
  });
});

describe('global table reader after its consumer crashed (real broker)', () => {
  it('resumes where it was: no record is applied twice, the table never goes back to older values', async () => {
    const kafka = new Kafka({
      clientId: 'it-global-crash',
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('it-global-crash');
    await createTopics([{ topic, partitions: 3 }]);
    // Each written value carries a sequence number: decoding one twice means it was read twice.
    const decoded = new Map<number, number>();
    const inner = json<{ seq: number }>();
    let failAt: number | undefined;
    // More failures in a row than kafkajs retries a batch (5): it crashes the consumer.
    let failures = 0;
    const value = {
      ...inner,
      // A registry that is away for a while (its error is retriable): kafkajs crashes the
      // consumer and restarts it, as it does when the broker is away for a while.
      prepareBatch: async (values: readonly (Buffer | null)[]) => {
        const seqs = values.map((v) =>
          v === null ? -1 : (JSON.parse(v.toString()) as { seq: number }).seq,
        );
        if (failAt !== undefined && seqs.includes(failAt)) {
          if (++failures === 8) failAt = undefined;
          throw new TributaryError('REGISTRY_UNAVAILABLE', 'registry away (test)');
        }
      },
      deserialize: (bytes: Buffer | null, t: string) => {
        const v = inner.deserialize(bytes, t);
        decoded.set(v.seq, (decoded.get(v.seq) ?? 0) + 1);
        return v;
      },
    };
    const warnings: object[] = [];
    const logger = recordingLogger(warnings);
    const tables = new GlobalTables(
      [{ store: 'st', topic, key: string() as AnySerde, value: value as unknown as AnySerde }],
      logger,
      createTopicFollower(kafka, uniqueName('it-global-crash')),
    );
    const producer = kafka.producer();
    await producer.connect();
    let seq = 0;
    const send = async (n: number): Promise<void> => {
      await producer.send({
        topic,
        messages: Array.from({ length: n }, (_, i) => ({
          key: `k${i % 30}`,
          value: JSON.stringify({ seq: seq++ }),
        })),
      });
    };
    try {
      await send(300);
      await tables.start();
      failAt = seq + 5;
      await send(30);
      await eventually('the failure to be hit', async () =>
        failAt === undefined ? true : undefined,
      );
      await send(30);
      const view = tables.view('st');
      // Key k<i> holds the last write to it: seq 360 - 30 + i.
      await eventually('the reader to be back and caught up', async () =>
        Array.from({ length: 30 }, (_, i) => i).every(
          (i) =>
            (view?.get(Buffer.from(`k${i}`)) as { seq: number } | undefined)?.seq === seq - 30 + i,
        )
          ? true
          : undefined,
      );
      assert.ok(
        warnings.some((w) => 'err' in w && (w.err as Error).message === 'registry away (test)'),
        'the reader restarted after the failure',
      );
      assert.equal(decoded.size, seq, 'every record decoded');
      assert.deepEqual(
        [...decoded].filter(([, n]) => n !== 1),
        [],
        'no record decoded twice: the restart resumed at the table position',
      );
    } finally {
      await producer.disconnect();
      await tables.stop();
    }
  });
});
