import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { createKafkaClient } from '../../src/kafka/index.ts';
import { abortedFilterReplaced, filterAbortedMessages } from '../../src/kafka/kafkajs.ts';

const require = createRequire(import.meta.url);

interface Msg {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
  value: string;
}

const abortKey = Buffer.from([0, 0, 0, 0]);
const commitKey = Buffer.from([0, 0, 0, 1]);

/**
 * A partition's log written by several transactional producers, as the broker lays it out: each
 * transaction's records, then its marker. Returns the log, the aborted transactions as the broker
 * lists them (in the order of their abort markers) and the values a read_committed consumer
 * must see (the oracle: by transaction outcome, not by offsets).
 */
function log(
  plan: { producer: string; records: number; outcome: 'commit' | 'abort' }[],
  interleave: number[],
) {
  const messages: Msg[] = [];
  const aborted: { firstOffset: string; producerId: string; marker: number }[] = [];
  const committed: string[] = [];
  const left = plan.map((t) => t.records);
  const first = new Map<number, number>();
  let offset = 0;
  // `interleave` says which transaction writes its next record (or, when it has none left,
  // its marker), so transactions overlap in the log as concurrent producers' do.
  for (const t of interleave) {
    const tx = plan[t];
    if (tx === undefined) throw new Error(`no transaction ${t}`);
    if ((left[t] ?? 0) > 0) {
      if (!first.has(t)) first.set(t, offset);
      const value = `${tx.producer}-${tx.records - (left[t] ?? 0)}`;
      messages.push({
        offset: String(offset++),
        key: Buffer.from(value),
        batchContext: { producerId: tx.producer, inTransaction: true },
        value,
      });
      left[t] = (left[t] ?? 0) - 1;
      if (tx.outcome === 'commit') committed.push(value);
    } else {
      messages.push({
        offset: String(offset),
        key: tx.outcome === 'abort' ? abortKey : commitKey,
        batchContext: { producerId: tx.producer, inTransaction: true },
        value: `marker-${tx.producer}`,
      });
      if (tx.outcome === 'abort')
        aborted.push({
          firstOffset: String(first.get(t) ?? offset),
          producerId: tx.producer,
          marker: offset,
        });
      offset++;
    }
  }
  return { messages, aborted, committed };
}

const seen = (messages: Msg[]): string[] =>
  messages.filter((m) => !m.value.startsWith('marker-')).map((m) => m.value);

describe("kafkajs's filter of aborted transactions, corrected", () => {
  it('drops the records of a transaction whose abort marker is listed after a later-starting one', () => {
    // The case a killed task left: its transaction (A) starts first and is aborted last (by
    // its timeout), after another producer's (B) abort; the broker lists B before A.
    const plan = [
      { producer: '10', records: 3, outcome: 'abort' as const },
      { producer: '11', records: 2, outcome: 'abort' as const },
      { producer: '12', records: 2, outcome: 'commit' as const },
    ];
    const { messages, aborted, committed } = log(plan, [0, 0, 1, 2, 0, 1, 2, 1, 2, 0]);
    assert.deepEqual(
      aborted.map((a) => a.producerId),
      ['11', '10'],
      'the aborts are listed by marker',
    );
    assert.deepEqual(
      seen(filterAbortedMessages({ messages, abortedTransactions: aborted })),
      committed,
    );
    // kafkajs's own filter lets producer 10's records through: what this correction is for.
    const original = require('kafkajs/src/consumer/filterAbortedMessages.js') as unknown;
    assert.equal(original, filterAbortedMessages, 'kafkajs uses the corrected filter');
  });

  it('equals the oracle on random interleavings, from any fetch position', () => {
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const plan = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) => ({
        producer: String(100 + i),
        records: 1 + Math.floor(next() * 6),
        outcome: next() < 0.5 ? ('abort' as const) : ('commit' as const),
      }));
      const steps = plan.flatMap((t, i) => Array.from({ length: t.records + 1 }, () => i));
      for (let i = steps.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [steps[i], steps[j]] = [steps[j] as number, steps[i] as number];
      }
      // (log() writes a transaction's records first, so its last step is its marker.)
      const { messages, aborted, committed } = log(plan, steps);
      assert.deepEqual(
        seen(filterAbortedMessages({ messages, abortedTransactions: aborted })),
        committed,
        `round ${round}`,
      );
      // A fetch that starts inside transactions: the broker lists the aborted transactions
      // whose marker is in the fetched range, some starting before it.
      const from = Math.floor(next() * messages.length);
      const fetched = messages.slice(from);
      const expected = committed.filter((v) => fetched.some((m) => m.value === v));
      const overlapping = aborted.filter((a) => a.marker >= from);
      assert.deepEqual(
        seen(filterAbortedMessages({ messages: fetched, abortedTransactions: overlapping })),
        expected,
        `round ${round} from ${from}`,
      );
    }
  });

  it("lets a producer's committed transaction through after its aborted one", () => {
    // One transactional id across a fence: the same producer id, an aborted transaction, then
    // a committed one (the new owner's).
    const at = (offset: number, key: Buffer, value: string): Msg => ({
      offset: String(offset),
      key,
      batchContext: { producerId: '5', inTransaction: true },
      value,
    });
    const messages = [
      at(0, Buffer.from('a'), 'old-0'),
      at(1, Buffer.from('b'), 'old-1'),
      at(2, abortKey, 'marker-5'),
      at(3, Buffer.from('c'), 'new-0'),
      at(4, commitKey, 'marker-5'),
    ];
    const abortedTransactions = [{ firstOffset: '0', producerId: '5' }];
    assert.deepEqual(seen(filterAbortedMessages({ messages, abortedTransactions })), ['new-0']);
  });

  it('is in place when kafkajs is loaded through Tributary', () => {
    createKafkaClient({ brokers: ['127.0.0.1:1'], clientId: 'unit' });
    assert.equal(abortedFilterReplaced, true);
  });
});
