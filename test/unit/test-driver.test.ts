import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { z } from 'zod';

import { partitionForKey } from '../../src/kafka/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

interface Reading {
  sensor: string;
  celsius: number;
}
const readings = { key: string(), value: json<Reading>() };

describe('stateless operators in the test driver', () => {
  it('filters, maps values and writes to the sink, keeping timestamps', async () => {
    const t = topology('drv');
    t.stream('in', readings)
      .filter((_k, r) => r.celsius > 0)
      .mapValues((r) => r.celsius * 10)
      .to('out', { key: string(), value: json<number>() });
    const driver = await createTestDriver(t.build(), { startTime: 1000 });
    const input = driver.input('in', readings);
    input.pipe('a', { sensor: 'a', celsius: 2 });
    input.pipe('b', { sensor: 'b', celsius: -1 });
    driver.clock.advance(500);
    input.pipe('c', { sensor: 'c', celsius: 3 });
    const out = driver.output('out', { key: string(), value: json<number>() }).readAll();
    assert.deepEqual(
      out.map((r) => [r.key, r.value, r.timestamp]),
      [
        ['a', 20, 1000],
        ['c', 30, 1500],
      ],
    );
  });

  it('branches to the first matching predicate and drops the rest', async () => {
    const t = topology('drv-branch');
    const [cold, warm] = t
      .stream('in', readings)
      .branch([(_k, r) => r.celsius < 10, (_k, r) => r.celsius < 30] as const);
    cold.to('cold', readings);
    warm.to('warm', readings);
    const driver = await createTestDriver(t.build());
    for (const c of [5, 15, 50, 9])
      driver.input('in', readings).pipe(`s${c}`, { sensor: `s${c}`, celsius: c });
    assert.deepEqual(
      driver
        .output('cold', readings)
        .readAll()
        .map((r) => r.key),
      ['s5', 's9'],
    );
    assert.deepEqual(
      driver
        .output('warm', readings)
        .readAll()
        .map((r) => r.key),
      ['s15'],
    );
  });

  it('flatMaps, merges, and re-keys through a repartition topic on the murmur2 partition', async () => {
    const t = topology('drv-key');
    const a = t.stream('a', readings);
    const b = t.stream('b', readings);
    a.merge(b)
      .flatMap((_k, r) => [
        [r.sensor, r],
        [`${r.sensor}-copy`, r],
      ])
      .keyBy((_k, r) => r.sensor.toUpperCase(), {
        name: 'by-upper',
        key: string(),
        value: json<Reading>(),
      })
      .to('out', readings);
    const driver = await createTestDriver(t.build(), { partitions: 4 });
    driver.input('a', readings).pipe('x', { sensor: 'x', celsius: 1 });
    driver.input('b', readings).pipe('y', { sensor: 'y', celsius: 2 });
    const repartitioned = driver.written('drv-key-by-upper-repartition');
    assert.equal(repartitioned.length, 4);
    for (const r of repartitioned)
      assert.equal(r.partition, partitionForKey(r.key ?? Buffer.alloc(0), 4));
    assert.deepEqual(
      driver
        .output('out', readings)
        .readAll()
        .map((r) => r.key)
        .sort(),
      ['X', 'X', 'Y', 'Y'],
    );
  });

  it('sends undecodable and failing records to the dead-letter topic with the reason, and goes on', async () => {
    const t = topology('drv-dlq');
    t.stream(
      'in',
      {
        key: string(),
        value: json({ schema: z.object({ sensor: z.string(), celsius: z.number() }) }),
      },
      { name: 'src' },
    )
      .mapValues(
        (r) => {
          if (r.celsius > 100) throw new RangeError('too hot');
          return r.celsius;
        },
        { name: 'check' },
      )
      .to('out', { key: string(), value: json<number>() });
    const driver = await createTestDriver(t.build());
    const raw = driver.input('in', { key: string(), value: string() });
    raw.pipe('ok', '{"sensor":"ok","celsius":1}');
    raw.pipe('bad-json', '{"sensor":');
    raw.pipe('bad-type', '{"sensor":"x","celsius":"warm"}');
    raw.pipe('hot', '{"sensor":"hot","celsius":500}');
    assert.deepEqual(
      driver.output('out', { key: string(), value: json<number>() }).readValues(),
      [1],
    );
    const dead = driver.written('drv-dlq-dlq');
    assert.deepEqual(
      dead.map((d) => [
        d.key?.toString(),
        d.headers[deadLetterHeaders.code],
        d.headers[deadLetterHeaders.operator],
      ]),
      [
        ['bad-json', 'SERDE_DESERIALIZE_FAILED', 'src'],
        ['bad-type', 'SERDE_VALIDATION_FAILED', 'src'],
        ['hot', 'OPERATOR_FAILED', 'check'],
      ],
    );
    assert.match(String(dead[2]?.headers[deadLetterHeaders.message]), /RangeError: too hot/);
    assert.deepEqual(
      dead.map((d) => d.headers[deadLetterHeaders.reason]),
      ['invalid', 'invalid', 'failed'],
    );
    assert.equal(dead[0]?.value?.toString(), '{"sensor":', 'the original bytes');
    assert.equal(dead[0]?.headers[deadLetterHeaders.offset], '1');
  });

  it("drops a failing record under 'skip' and stops the task under 'fail'", async () => {
    const build = (policy: 'skip' | 'fail') => {
      const t = topology(`drv-${policy}`);
      t.stream('in', { key: string(), value: json<number>() })
        .mapValues(
          (v) => {
            if (v < 0) throw new Error('negative');
            return v;
          },
          { onError: policy, name: 'positive' },
        )
        .to('out', { key: string(), value: json<number>() });
      return t.build();
    };
    const skip = await createTestDriver(build('skip'));
    for (const v of [1, -1, 2])
      skip.input('in', { key: string(), value: json<number>() }).pipe('k', v);
    assert.deepEqual(
      skip.output('out', { key: string(), value: json<number>() }).readValues(),
      [1, 2],
    );
    assert.equal(skip.written('drv-skip-dlq').length, 0);

    const fail = await createTestDriver(build('fail'));
    // Piping only appends to the topic; the batch that holds the record stops at the next read.
    fail.input('in', { key: string(), value: json<number>() }).pipe('k', -1);
    assert.throws(() => fail.output('out', { key: string(), value: json<number>() }).readAll(), {
      name: 'HaltError',
      message: "operator positive failed and its error policy is 'fail'",
    });
  });

  it('gives custom processors init and close hooks and a task id', async () => {
    const events: string[] = [];
    const t = topology('drv-proc');
    t.stream('in', { key: string(), value: json<number>() })
      .process<string, string>(
        () => ({
          init: () => void events.push('init'),
          process(record, ctx) {
            ctx.forward({ ...record, value: `${ctx.taskId}:${record.value}` });
          },
          close: () => void events.push('close'),
        }),
        { name: 'label' },
      )
      .to('out', { key: string(), value: string() });
    const driver = await createTestDriver(t.build());
    driver.input('in', { key: string(), value: json<number>() }).pipe('k', 7);
    await driver.close();
    assert.deepEqual(driver.output('out', { key: string(), value: string() }).readValues(), [
      '0_0:7',
    ]);
    assert.deepEqual(events, ['init', 'close']);
  });
});
