import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { silentLogger, taskId, TributaryError } from '../../src/core/index.ts';
import {
  classifyKafkaError,
  isTimestampRefused,
  kafka4TimestampLimits,
  timestampLimitsOf,
} from '../../src/kafka/index.ts';
import type { FetchedRecord, TimestampLimits } from '../../src/kafka/index.ts';
import {
  deadLetterHeaders,
  Task,
  TimestampGuard,
  timestampRefusal,
} from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

const hour = 3_600_000;
const day = 24 * hour;
const now = Date.UTC(2026, 11, 4, 12);
const strict: TimestampLimits = { ...kafka4TimestampLimits, from: 'topic' };

/**
 * The broker's rule (Kafka's LogValidator under CreateTime), written independently of the code:
 * refused when more than after.max.ms ahead of its clock or more than before.max.ms behind it.
 */
function brokerRefuses(limits: TimestampLimits, timestamp: number, brokerNow: number): boolean {
  if (limits.type === 'LogAppendTime' || timestamp === -1) return false;
  return timestamp - brokerNow > limits.afterMaxMs || brokerNow - timestamp > limits.beforeMaxMs;
}

describe('timestamp range: what a topic refuses', () => {
  it("refuses a record more than the topic's after.max.ms ahead, naming the topic, the setting and the timestamp", () => {
    assert.equal(timestampRefusal('out', strict, now + hour, now), undefined);
    assert.equal(timestampRefusal('out', strict, now + hour - 1, now), undefined);
    const refused = timestampRefusal('out', strict, now + 2 * day, now);
    assert.ok(refused !== undefined);
    assert.match(refused, /topic out/);
    assert.match(refused, /message\.timestamp\.after\.max\.ms/);
    assert.match(refused, /3600000 ms/);
    assert.ok(refused.includes(new Date(now + 2 * day).toISOString()));
    assert.notEqual(timestampRefusal('out', strict, now + hour + 1, now), undefined);
  });

  it('never refuses on a LogAppendTime topic, nor with unbounded limits, nor "no timestamp" (-1)', () => {
    const appendTime: TimestampLimits = { ...strict, type: 'LogAppendTime' };
    const open: TimestampLimits = { ...strict, afterMaxMs: Infinity, beforeMaxMs: Infinity };
    for (const t of [now + 3 * day, 8.64e15, -8.64e15, 0, -1]) {
      assert.equal(timestampRefusal('dlq', appendTime, t, now), undefined);
      assert.equal(timestampRefusal('rep', open, t, now), undefined);
    }
    const bounded: TimestampLimits = { ...strict, beforeMaxMs: day };
    assert.equal(timestampRefusal('out', bounded, -1, now), undefined);
    assert.match(timestampRefusal('out', bounded, 0, now) ?? '', /before\.max\.ms/);
  });

  it('agrees with the broker wherever the broker refuses, with the clocks equal (10,000 random cases)', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
    let refusedByBroker = 0;
    for (let i = 0; i < 10_000; i++) {
      const limits: TimestampLimits = {
        type: random() < 0.1 ? 'LogAppendTime' : 'CreateTime',
        afterMaxMs: pick([0, 60_000, hour, day, Infinity]),
        beforeMaxMs: pick([hour, 7 * day, Infinity]),
        from: 'topic',
      };
      const timestamp = now + Math.round((random() - 0.5) * 20 * day);
      const refused = timestampRefusal('t', limits, timestamp, now) !== undefined;
      // Checked when emitted, appended up to a minute later: never let through what the broker
      // then refuses (its upper bound only grows, its lower bound moves up by the delay).
      for (const delay of [0, 30_000, 60_000]) {
        if (brokerRefuses(limits, timestamp, now + delay)) assert.ok(refused, `case ${i}`);
      }
      // And refuses nothing the broker would take at once, but a minute's margin on the lower bound.
      if (refused && !brokerRefuses(limits, timestamp, now))
        assert.ok(now - timestamp > limits.beforeMaxMs - 60_000, `case ${i}: needless refusal`);
      if (brokerRefuses(limits, timestamp, now)) refusedByBroker++;
    }
    assert.ok(refusedByBroker > 1000, `the cases cover refusals (${refusedByBroker})`);
  });

  it('widens its clock allowance after each refusal by the broker, from 1 minute doubling to 1 day', () => {
    const clock = new ManualClock(now);
    const guard = new TimestampGuard(clock);
    guard.update(new Map([['out', strict]]));
    assert.equal(guard.refusal('other', now + 3 * day), undefined, 'topics without limits');
    const edge = now + hour - 30_000;
    assert.equal(guard.refusal('out', edge), undefined);
    clock.advance(day);
    assert.equal(guard.refusal('out', edge + day), undefined, 'judged by the clock now');
    assert.notEqual(guard.refusal('out', edge + day + hour), undefined);
    clock.set(now);
    const seen: number[] = [];
    for (let i = 0; i < 13; i++) seen.push(guard.widen());
    assert.deepEqual(seen.slice(0, 4), [60_000, 120_000, 240_000, 480_000]);
    assert.equal(seen.at(-1), day);
    assert.notEqual(guard.refusal('out', edge), undefined);
    // A day's allowance against a 1-hour limit: the broker's clock may be far behind, so even
    // a record stamped with the worker's now is refused, and the message says why.
    assert.match(guard.refusal('out', now) ?? '', /86400000 ms kept in hand/);
  });
});

describe('timestamp limits from describeConfigs', () => {
  it("reads the topic's settings, Long.MAX as unbounded, the broker's log. prefix, and the old difference setting", () => {
    assert.deepEqual(
      timestampLimitsOf(
        [
          { configName: 'message.timestamp.type', configValue: 'CreateTime' },
          { configName: 'message.timestamp.after.max.ms', configValue: '3600000' },
          { configName: 'message.timestamp.before.max.ms', configValue: '9223372036854775807' },
        ],
        'topic',
      ),
      { type: 'CreateTime', afterMaxMs: hour, beforeMaxMs: Infinity, from: 'topic' },
    );
    assert.deepEqual(
      timestampLimitsOf(
        [
          { configName: 'log.message.timestamp.type', configValue: 'LogAppendTime' },
          { configName: 'log.message.timestamp.after.max.ms', configValue: '60000' },
        ],
        'broker',
      ),
      { type: 'LogAppendTime', afterMaxMs: 60_000, beforeMaxMs: Infinity, from: 'broker' },
    );
    assert.deepEqual(
      timestampLimitsOf(
        [{ configName: 'message.timestamp.difference.max.ms', configValue: '86400000' }],
        'topic',
      ),
      { type: 'CreateTime', afterMaxMs: day, beforeMaxMs: day, from: 'topic' },
    );
  });
});

describe("the broker's INVALID_TIMESTAMP", () => {
  const require = createRequire(import.meta.url);
  const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
    createErrorFromCode: (code: number) => Error;
  };
  const errors = require('kafkajs/src/errors.js') as Record<
    string,
    new (message: string | Error, options?: Record<string, unknown>) => Error
  >;

  it('is retried, not fatal, and recognised through kafkajs and our wrappers', () => {
    const refused = createErrorFromCode(32);
    assert.equal((refused as { type?: string }).type, 'INVALID_TIMESTAMP');
    const Wrapper = errors['KafkaJSNonRetriableError'];
    assert.ok(Wrapper !== undefined);
    const wrapped = new TributaryError('STATE_FAILED', 'commit failed', {
      cause: new Wrapper(refused, { cause: refused }),
    });
    assert.equal(classifyKafkaError(refused), 'retriable');
    assert.equal(isTimestampRefused(refused), true);
    assert.equal(isTimestampRefused(wrapped), true);
    assert.equal(isTimestampRefused(createErrorFromCode(10)), false);
  });
});

describe('a sink record its topic would refuse', () => {
  it('goes to the dead-letter topic with TIMESTAMP_OUT_OF_RANGE and its bytes, and is counted', async () => {
    const t = topology('ts-guard');
    t.stream(
      'in',
      { key: string(), value: json<{ at: number }>() },
      {
        name: 'in',
        timestamp: (value) => value.at,
      },
    ).to('out', { key: string(), value: json<{ at: number }>() });
    const { plan } = t.build();
    const sub = plan.subtopologies[0];
    assert.ok(sub !== undefined);
    const clock = new ManualClock(now);
    const guard = new TimestampGuard(clock);
    guard.update(new Map([['out', strict]]));
    const task = new Task({
      id: taskId(0, 0),
      subtopology: sub,
      partition: 0,
      dlqTopic: plan.dlqTopic,
      clock,
      logger: silentLogger,
      timestamps: guard,
    });
    await task.init();
    const times = [now - hour, now + 2 * day, now + 10 * 60_000, now + 3 * day];
    const input: FetchedRecord[] = times.map((at, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify({ at })),
      timestamp: now,
      headers: { origin: 'device' },
      offset: String(i),
    }));
    const produced = task.process('in', 0, input);
    const out = produced.filter((r) => r.topic === 'out');
    const dead = produced.filter((r) => r.topic === plan.dlqTopic);
    assert.deepEqual(
      out.map((r) => r.timestamp),
      [now - hour, now + 10 * 60_000],
    );
    assert.equal(dead.length, 2);
    for (const [i, letter] of dead.entries()) {
      const at = [now + 2 * day, now + 3 * day][i] as number;
      assert.equal(letter.headers[deadLetterHeaders.code], 'TIMESTAMP_OUT_OF_RANGE');
      assert.equal(letter.headers[deadLetterHeaders.reason], 'refused');
      assert.equal(letter.headers[deadLetterHeaders.topic], 'out');
      assert.equal(letter.headers[deadLetterHeaders.timestamp], String(at));
      assert.equal(letter.headers['origin'], 'device');
      assert.match(String(letter.headers[deadLetterHeaders.message]), /after\.max\.ms/);
      assert.deepEqual(letter.value, Buffer.from(JSON.stringify({ at })));
      assert.equal(letter.timestamp, at);
    }
    assert.equal(task.stats.deadLettered, 2);
    assert.equal(task.snapshot().deadLettered, 2);
  });
});
