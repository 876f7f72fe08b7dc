import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { loadModel, predict, prepareModel } from '../../src/operators/model/index.ts';
import type { LoadedModel, Prediction } from '../../src/operators/model/index.ts';
import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { createTestDriver } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

interface Hourly {
  sensor: string;
  temperature: { mean: number; min: number; max: number };
  humidity: number | null;
  count: number;
}
interface Scored {
  sensor: string;
  risk: number;
  uncomfortable: boolean | null;
  model: string;
}

const hourlySerdes = { key: string(), value: json<Hourly>() };
const scoredSerdes = { key: string(), value: json<Scored>() };

const features = (h: Hourly) => ({
  temperature_mean: h.temperature.mean,
  temperature_min: h.temperature.min,
  temperature_max: h.temperature.max,
  humidity_mean: h.humidity,
  count: h.count,
});
const output = (h: Hourly, p: Prediction): Scored => ({
  sensor: h.sensor,
  risk: p.value,
  uncomfortable: p.label ?? null,
  model: p.modelVersion,
});

const logistic = {
  kind: 'logistic',
  version: 'logistic-2026-11-21-test',
  features: ['temperature_mean', 'temperature_min', 'temperature_max', 'humidity_mean', 'count'],
  output: 'comfort_risk',
  weights: [0.5, 0, 0, 0.1, 0],
  intercept: -20,
};

function hour(sensor: string, mean: number, humidity: number | null): Hourly {
  return {
    sensor,
    temperature: { mean, min: mean - 1, max: mean + 1 },
    humidity,
    count: 60,
  };
}

describe('predict in a topology', () => {
  it("forwards each record's output with the model's value, label and version", async () => {
    const model = prepareModel(logistic);
    const t = topology('predict-test');
    t.stream('hourly', hourlySerdes)
      .process(predict({ model, features, output }), { name: 'score' })
      .to('scored', scoredSerdes);
    const driver = await createTestDriver(t.build());
    const input = driver.input('hourly', hourlySerdes);
    input.pipe('s1', hour('s1', 30, 50), { timestamp: 1000 }); // z = 15 + 5 - 20 = 0
    input.pipe('s2', hour('s2', 20, 40), { timestamp: 2000 }); // z = 10 + 4 - 20 = -6
    input.pipe('s3', hour('s3', 34, 80), { timestamp: 3000 }); // z = 17 + 8 - 20 = 5
    const out = driver.output('scored', scoredSerdes).readAll();
    assert.deepEqual(
      out.map((r) => [r.key, r.timestamp, r.value.uncomfortable, r.value.model]),
      [
        ['s1', 1000, true, 'logistic-2026-11-21-test'],
        ['s2', 2000, false, 'logistic-2026-11-21-test'],
        ['s3', 3000, true, 'logistic-2026-11-21-test'],
      ],
    );
    const risks = out.map((r) => r.value.risk);
    const expected = [0.5, 1 / (1 + Math.exp(6)), 1 / (1 + Math.exp(-5))];
    risks.forEach((risk, i) => assert.ok(Math.abs(risk - (expected[i] as number)) < 1e-12));
    await driver.close();
  });

  it('sends a record whose features do not fit the model to the dead-letter topic', async () => {
    const t = topology('predict-dlq');
    t.stream('hourly', hourlySerdes)
      .process(predict({ model: prepareModel(logistic), features, output }), { name: 'score' })
      .to('scored', scoredSerdes);
    const driver = await createTestDriver(t.build());
    driver.input('hourly', hourlySerdes).pipe('s1', hour('s1', 30, null));
    assert.deepEqual(driver.output('scored', scoredSerdes).readValues(), []);
    const [dead] = driver.written('predict-dlq-dlq');
    assert.equal(dead?.headers[deadLetterHeaders.code], 'MODEL_INPUT_INVALID');
    assert.equal(dead?.headers[deadLetterHeaders.operator], 'score');
    assert.match(String(dead?.headers[deadLetterHeaders.message]), /'humidity_mean' is null/);
    await driver.close();
  });

  it('loads a model file when predict is called and shares it between tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-predict-'));
    const file = join(dir, 'model.json');
    writeFileSync(file, JSON.stringify(logistic));
    const supplier = predict<string, Hourly, Scored>({ modelPath: file, features, output });
    // Rewriting the file after the build changes nothing: the model was loaded at the build.
    writeFileSync(file, JSON.stringify({ ...logistic, version: 'logistic-later' }));
    const t = topology('predict-file');
    t.stream('hourly', hourlySerdes)
      .process(supplier, { name: 'score' })
      .to('scored', scoredSerdes);
    const driver = await createTestDriver(t.build(), { partitions: 3 });
    for (const s of ['a', 'b', 'c', 'd', 'e', 'f'])
      driver.input('hourly', hourlySerdes).pipe(s, hour(s, 25, 50));
    const out = driver.output('scored', scoredSerdes).readAll();
    assert.equal(new Set(out.map((r) => r.partition)).size > 1, true, 'several tasks scored');
    assert.deepEqual(new Set(out.map((r) => r.value.model)), new Set(['logistic-2026-11-21-test']));
    assert.equal(loadModel(file).version, 'logistic-2026-11-21-test');
    await driver.close();
  });

  it('calls a model function at the build and once for each task', async () => {
    let calls = 0;
    const model = prepareModel(logistic);
    const get = (): LoadedModel => {
      calls++;
      return model;
    };
    const t = topology('predict-fn');
    t.stream('hourly', hourlySerdes)
      .process(predict({ model: get, features, output }), { name: 'score' })
      .to('scored', scoredSerdes);
    assert.equal(calls, 1);
    const driver = await createTestDriver(t.build(), { partitions: 2 });
    assert.equal(calls, 3);
    await driver.close();
  });

  it('stops the build with MODEL_NOT_FOUND naming a missing model file', () => {
    const missing = join(tmpdir(), 'tributary-no-such-dir', 'sensor-model.json');
    const t = topology('predict-missing');
    const stream = t.stream('hourly', hourlySerdes);
    assert.throws(
      () => stream.process(predict({ modelPath: missing, features, output }), { name: 'score' }),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'MODEL_NOT_FOUND' &&
        error.message.includes(missing),
    );
  });

  it('stops the build with MODEL_INVALID naming the file and the JSON path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-predict-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ ...logistic, kind: 'neural-net' }));
    assert.throws(
      () => predict({ modelPath: file, features, output }),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'MODEL_INVALID' &&
        error.message.includes(`model file ${file} is invalid: $.kind:`),
    );
  });
});
