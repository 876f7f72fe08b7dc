import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import { startWorkerProcess, stopWorker, waitForAssignment } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

describe('dead-letter topic over a real broker', () => {
  const live: WorkerProcess[] = [];
  after(() => {
    for (const w of live) w.signal('SIGKILL');
  });

  it('sends every malformed record to <appId>-dlq with its reason, and processes the good ones', async () => {
    const appId = uniqueName('it-dlq');
    const input = `${appId}-in`;
    const output = `${appId}-out`;
    await createTopics([
      { topic: input, partitions: 3, config: { 'max.message.bytes': '2097152' } },
      { topic: output, partitions: 3 },
    ]);
    const worker = startWorkerProcess({ id: 'd1', topology: 'validate', appId, input, output });
    live.push(worker);
    await waitForAssignment([worker], 3);

    const good = Array.from({ length: 50 }, (_, i) => ({
      key: `s-${i}`,
      value: Buffer.from(JSON.stringify({ sensor: `s-${i}`, celsius: i })),
    }));
    const bad: { key: string | null; value: Buffer; code: string; operator: string }[] = [
      {
        key: 'truncated',
        value: Buffer.from('{"sensor":"a","cel'),
        code: 'SERDE_DESERIALIZE_FAILED',
        operator: 'readings',
      },
      {
        key: 'wrong-types',
        value: Buffer.from('{"sensor":5,"celsius":"hot"}'),
        code: 'SERDE_VALIDATION_FAILED',
        operator: 'readings',
      },
      {
        key: 'empty',
        value: Buffer.alloc(0),
        code: 'SERDE_DESERIALIZE_FAILED',
        operator: 'readings',
      },
      {
        key: 'garbage',
        value: randomBytes(1_000_000),
        code: 'SERDE_DESERIALIZE_FAILED',
        operator: 'readings',
      },
      {
        key: null,
        value: Buffer.from('{"sensor":"nokey","celsius":1}'),
        code: 'SERDE_NULL',
        operator: 'readings',
      },
      {
        key: 'implausible',
        value: Buffer.from('{"sensor":"hot","celsius":5000}'),
        code: 'OPERATOR_FAILED',
        operator: 'to-fahrenheit',
      },
    ];
    const producer = kafka.producer();
    await producer.connect();
    // Interleaved, so bad records sit between good ones on the same partitions.
    const messages = [...good.slice(0, 25), ...bad, ...good.slice(25)].map((m) => ({
      key: m.key,
      value: m.value,
    }));
    for (const message of messages)
      await producer.send({ topic: input, acks: -1, messages: [message] });
    await producer.disconnect();

    const out = await readTopic(output, (rs) => rs.length >= good.length);
    assert.deepEqual(
      out.map((r) => r.key).sort(),
      good.map((g) => g.key).sort(),
      'every good record is processed',
    );
    const dead = await readTopic(`${appId}-dlq`, (rs) => rs.length >= bad.length);
    assert.equal(dead.length, bad.length);
    for (const expected of bad) {
      const found = dead.find((d) => d.key === expected.key);
      assert.ok(found, `${expected.key} is in the dead-letter topic`);
      assert.equal(found.headers[deadLetterHeaders.code], expected.code, `${expected.key}: code`);
      assert.equal(
        found.headers[deadLetterHeaders.operator],
        expected.operator,
        `${expected.key}: operator`,
      );
      assert.equal(found.headers[deadLetterHeaders.topic], input);
      assert.match(found.headers[deadLetterHeaders.partition] ?? '', /^[0-2]$/);
      assert.match(found.headers[deadLetterHeaders.offset] ?? '', /^\d+$/);
      assert.ok(
        (found.headers[deadLetterHeaders.message] ?? '').length > 0,
        `${expected.key}: a reason`,
      );
      assert.deepEqual(found.value, expected.value, `${expected.key}: the original bytes`);
    }
    assert.equal(await stopWorker(worker), 0);
  });
});
