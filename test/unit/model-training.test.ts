import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { compileModel, validateModel } from '../../src/operators/model/index.ts';
import type { Model } from '../../src/operators/model/index.ts';
import { random, train } from '../../scripts/train-model.ts';
import { fitBoostedTrees, fitLinear, fitLogistic } from '../../tools/model-training/index.ts';
import type { TrainingData } from '../../tools/model-training/index.ts';

const date = '2026-11-21';

function points(seed: number, count: number, target: (a: number, b: number) => number) {
  const next = random(seed);
  const rows: number[][] = [];
  for (let i = 0; i < count; i++) rows.push([100 * next() - 50, 10 * next() + 1000]);
  return { rows, targets: rows.map(([a, b]) => target(a as number, b as number)) };
}

const asModel = (fit: object): Model => validateModel({ version: 'test', ...fit }, 'fitted');

describe('the fitters', () => {
  it('least squares recovers exact coefficients, on features of very different scales', () => {
    const { rows, targets } = points(1, 200, (a, b) => 3 * a - 2 * b + 1);
    const model = fitLinear({ features: ['a', 'b'], rows, targets }, 'y');
    assert.ok(Math.abs((model.weights[0] as number) - 3) < 1e-6, String(model.weights));
    assert.ok(Math.abs((model.weights[1] as number) + 2) < 1e-6, String(model.weights));
    assert.ok(Math.abs(model.intercept - 1) < 1e-3, String(model.intercept));
  });

  it('logistic regression folds its standardization back into raw-feature weights', () => {
    // The boundary a = 10, whatever b is: b (around 1000) must get a weight near 0.
    const data: TrainingData = {
      features: ['a', 'b'],
      ...points(2, 2000, (a) => Number(a > 10)),
    };
    const model = asModel(fitLogistic(data, 'y'));
    const score = compileModel(model);
    const right = data.rows.filter(
      ([a, b], i) => score({ a: a as number, b: b as number }).label === (data.targets[i] === 1),
    );
    assert.ok(right.length / data.rows.length > 0.98, `${right.length} of 2000`);
    assert.equal(score({ a: 5, b: 1005 }).label, false);
    assert.equal(score({ a: 15, b: 1005 }).label, true);
  });

  it('boosted trees find a step and an interaction a linear boundary cannot', () => {
    const data: TrainingData = {
      features: ['a', 'b'],
      ...points(3, 2000, (a, b) => Number(a > 0 !== b > 1005)),
    };
    const model = asModel(fitBoostedTrees(data, 'y'));
    assert.equal(model.kind === 'tree-ensemble' && model.trees.length, 20);
    const score = compileModel(model);
    const right = data.rows.filter(
      ([a, b], i) => score({ a: a as number, b: b as number }).label === (data.targets[i] === 1),
    ).length;
    assert.ok(right / data.rows.length > 0.97, `trees: ${right} of 2000`);
    const linear = compileModel(asModel(fitLogistic(data, 'y')));
    const linearRight = data.rows.filter(
      ([a, b], i) => linear({ a: a as number, b: b as number }).label === (data.targets[i] === 1),
    ).length;
    assert.ok(linearRight / data.rows.length < 0.75, `logistic: ${linearRight} of 2000`);
  });
});

describe('the training script', () => {
  for (const seed of [7, 11]) {
    it(`fits a logistic model that classifies holdout hours well (seed ${seed})`, () => {
      const result = train({ kind: 'logistic', seed, samples: 4000, date });
      assert.ok(result.holdout > 0.86, `holdout accuracy ${result.holdout}`);
      assert.ok(result.holdout > result.majorityAccuracy + 0.12, 'well above the majority');
      assert.ok(result.holdout <= result.truthAccuracy + 0.02, 'not above the ground truth');
    });
  }

  it('fits a tree ensemble as good as the logistic model', () => {
    const result = train({ kind: 'tree-ensemble', seed: 11, samples: 4000, date });
    assert.ok(result.holdout > 0.86, `holdout accuracy ${result.holdout}`);
    assert.ok(result.holdout > result.majorityAccuracy + 0.12, 'well above the majority');
    assert.equal(result.model.kind === 'tree-ensemble' && result.model.link, 'sigmoid');
  });

  it('fits a linear model of the share of uncomfortable readings with R² above 0.6', () => {
    const result = train({ kind: 'linear', seed: 11, samples: 4000, date });
    assert.ok(result.holdout > 0.6, `holdout R² ${result.holdout}`);
    assert.ok(result.train > 0.6, `train R² ${result.train}`);
  });

  it('is deterministic for a seed and versions the model by kind, date and content', () => {
    const a = train({ kind: 'logistic', seed: 5, samples: 1000, date });
    const b = train({ kind: 'logistic', seed: 5, samples: 1000, date });
    const c = train({ kind: 'logistic', seed: 6, samples: 1000, date });
    assert.deepEqual(a.model, b.model);
    assert.match(a.model.version, /^logistic-2026-11-21-[0-9a-f]{8}$/);
    assert.notEqual(a.model.version, c.model.version);
  });

  it('wrote the committed model: seed 7, 5000 samples', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../models/sensor-model.json', import.meta.url), 'utf8'),
    ) as Model;
    const day = /-(\d{4}-\d{2}-\d{2})-/.exec(committed.version)?.[1] ?? '';
    const again = train({ kind: committed.kind, seed: 7, samples: 5000, date: day });
    assert.deepEqual(again.model, committed);
  });
});
