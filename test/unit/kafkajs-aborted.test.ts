import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { createKafkaClient } from '../../src/kafka/index.ts';
import { abortedFilterReplaced, filterAbortedMessages } from '../../src/kafka/kafkajs.ts';
import { abortedLog, abortKey, commitKey, randomLogs, seen } from './aborted-log.ts';
import type { LogMessage } from './aborted-log.ts';

const require = createRequire(import.meta.url);

describe("kafkajs's filter of aborted transactions, corrected", () => {
  it('drops the records of a transaction whose abort marker is listed after a later-starting one', () => {
    // The case a killed task left: its transaction (A) starts first and is aborted last (by
    // its timeout), after another producer's (B) abort; the broker lists B before A.
    const plan = [
      { producer: '10', records: 3, outcome: 'abort' as const },
      { producer: '11', records: 2, outcome: 'abort' as const },
      { producer: '12', records: 2, outcome: 'commit' as const },
    ];
    const { messages, aborted, committed } = abortedLog(plan, [0, 0, 1, 2, 0, 1, 2, 1, 2, 0]);
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
    for (const { round, log, from, fetched } of randomLogs(300)) {
      assert.deepEqual(
        seen(filterAbortedMessages({ messages: log.messages, abortedTransactions: log.aborted })),
        log.committed,
        `round ${round}`,
      );
      assert.deepEqual(
        seen(
          filterAbortedMessages({
            messages: fetched.messages,
            abortedTransactions: fetched.aborted,
          }),
        ),
        fetched.committed,
        `round ${round} from ${from}`,
      );
    }
  });

  it("lets a producer's committed transaction through after its aborted one", () => {
    // One transactional id across a fence: the same producer id, an aborted transaction, then
    // a committed one (the new owner's).
    const at = (offset: number, key: Buffer, value: string): LogMessage => ({
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
