import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { featureReader, loopReader } from '../../src/operators/model/feature-reader.ts';
import { compileModel, prepareModel, sigmoid } from '../../src/operators/model/index.ts';
import type { Model, TreeEnsembleModel } from '../../src/operators/model/index.ts';

const header = { version: 'v1', features: ['a', 'b'], output: 'y' };
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

// tree 0:            a < 10 ?
//             yes: 1          no (and missing): b < 0 ?
//                       yes (and missing): 2        no: 3
// tree 1: a single leaf, 0.5
const ensemble: TreeEnsembleModel = {
  kind: 'tree-ensemble',
  ...header,
  aggregation: 'sum',
  base: 1,
  trees: [
    [
      { feature: 'a', threshold: 10, left: 1, right: 2, missing: 'right' },
      { value: 1 },
      { feature: 'b', threshold: 0, left: 3, right: 4 },
      { value: 2 },
      { value: 3 },
    ],
    [{ value: 0.5 }],
  ],
};

function inputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TributaryError);
    assert.equal(error.code, 'MODEL_INPUT_INVALID');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('scoring a linear model', () => {
  const model: Model = { kind: 'linear', ...header, weights: [2, -1], intercept: 0.5 };

  it('is w·x + b, without a label unless a threshold is set', () => {
    const score = compileModel(model);
    assert.deepEqual(score({ a: 3, b: 4 }), { value: 2.5 });
    assert.deepEqual(score({ b: 1, a: -1, extra: 99 }), { value: -2.5 });
    const labelled = compileModel({ ...model, threshold: 0 });
    assert.deepEqual(labelled({ a: 3, b: 4 }), { value: 2.5, label: true });
    assert.deepEqual(labelled({ a: 0, b: 1 }), { value: -0.5, label: false });
  });

  it('refuses an absent, null, non-finite or string feature, naming it', () => {
    const score = compileModel(model);
    inputError(() => score({ a: 1 }), /model v1: feature 'b' is absent/);
    inputError(() => score({ a: null, b: 1 }), /feature 'a' is null; it needs a finite number/);
    inputError(() => score({ a: 1, b: Infinity }), /feature 'b' is Infinity/);
    inputError(() => score({ a: 1, b: '2' as unknown as number }), /feature 'b' is '2'/);
  });
});

describe('scoring a logistic model', () => {
  it('is sigmoid(w·x + b), labelled at the threshold (default 0.5)', () => {
    const score = compileModel({ kind: 'logistic', ...header, weights: [1, 2], intercept: -1 });
    assert.deepEqual(score({ a: 1, b: 0 }), { value: 0.5, label: true });
    const p = score({ a: Math.log(3) + 1, b: 0 });
    close(p.value, 0.75);
    assert.equal(p.label, true);
    const q = score({ a: 0, b: 0 });
    close(q.value, 1 / (1 + Math.E));
    assert.equal(q.label, false);
    const strict = compileModel({
      kind: 'logistic',
      ...header,
      weights: [1, 2],
      intercept: -1,
      threshold: 0.8,
    });
    assert.equal(strict({ a: Math.log(3) + 1, b: 0 }).label, false);
  });

  it('keeps the sigmoid finite and exact at the extremes', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    close(sigmoid(-2) + sigmoid(2), 1);
  });
});

describe('scoring a tree ensemble', () => {
  it('sums the leaves reached on the base, going left below the threshold', () => {
    const score = compileModel(ensemble);
    assert.deepEqual(score({ a: 5, b: 100 }), { value: 1 + 1 + 0.5 });
    assert.deepEqual(score({ a: 10, b: -1 }), { value: 1 + 2 + 0.5 });
    assert.deepEqual(score({ a: 11, b: 0 }), { value: 1 + 3 + 0.5 });
  });

  it('follows the missing direction for null and NaN, left by default', () => {
    const score = compileModel(ensemble);
    assert.deepEqual(score({ a: null, b: 5 }), { value: 1 + 3 + 0.5 });
    assert.deepEqual(score({ a: NaN, b: null }), { value: 1 + 2 + 0.5 });
    inputError(() => score({ a: 1 }), /feature 'b' is absent; it needs a number, or null/);
  });

  it('averages with the mean aggregation and links with the sigmoid', () => {
    assert.deepEqual(compileModel({ ...ensemble, aggregation: 'mean' })({ a: 5, b: 0 }), {
      value: 1 + (1 + 0.5) / 2,
    });
    const linked = compileModel({ ...ensemble, base: -3.5, link: 'sigmoid' });
    const p = linked({ a: 5, b: 0 });
    close(p.value, sigmoid(-2));
    assert.equal(p.label, false);
    assert.equal(linked({ a: 11, b: 0 }).label, true);
    assert.deepEqual(compileModel({ ...ensemble, threshold: 4 })({ a: 11, b: 0 }), {
      value: 4.5,
      label: true,
    });
  });

  it('walks trees whose nodes are in any order, and a tree that is one leaf', () => {
    const score = compileModel({
      kind: 'tree-ensemble',
      ...header,
      aggregation: 'sum',
      trees: [
        [
          { feature: 'b', threshold: 0, left: 2, right: 1 },
          { value: 7 },
          { feature: 'a', threshold: 0, left: 3, right: 4 },
          { value: -1 },
          { value: 1 },
        ],
      ],
    });
    assert.equal(score({ a: -1, b: -1 }).value, -1);
    assert.equal(score({ a: 1, b: -1 }).value, 1);
    assert.equal(score({ a: 1, b: 1 }).value, 7);
  });

  it('scores a deep tree without recursion', () => {
    // A chain 100,000 nodes deep: node i splits on a < i, its right child goes on.
    const depth = 100_000;
    const nodes = [];
    for (let i = 0; i < depth; i++)
      nodes.push({ feature: 'a', threshold: i, left: depth + 1 + i, right: i + 1 });
    nodes.push({ value: -1 });
    for (let i = 0; i < depth; i++) nodes.push({ value: i });
    const deep = prepareModel({
      kind: 'tree-ensemble',
      ...header,
      aggregation: 'sum',
      trees: [nodes],
    });
    assert.equal(deep.score({ a: 54_321.5, b: 0 }).value, 54_322);
    assert.equal(deep.score({ a: 1e9, b: 0 }).value, -1);
  });
});

describe('reading features', () => {
  const odd = ['plain', 'with space', '"]; throw new Error("injected"); //', '__proto__'];

  it('reads names literally, whatever characters they hold', () => {
    const features = Object.fromEntries(odd.map((name, i) => [name, i]));
    Object.defineProperty(features, '__proto__', { value: 3, enumerable: true });
    for (const read of [featureReader(odd), loopReader(odd)]) {
      const buffer = new Float64Array(odd.length);
      assert.equal(read(features, buffer), -1);
      assert.deepEqual([...buffer], [0, 1, 2, 3]);
    }
  });

  it('gives NaN for null and the index of the first unusable feature', () => {
    for (const read of [featureReader(['a', 'b', 'c']), loopReader(['a', 'b', 'c'])]) {
      const buffer = new Float64Array(3);
      assert.equal(read({ a: null, b: 2, c: 3 }, buffer), -1);
      assert.ok(Number.isNaN(buffer[0]));
      assert.equal(read({ a: 1, c: 3 }, buffer), 1);
      assert.equal(read({ a: 1, b: 2, c: 'x' as unknown as number }, buffer), 2);
    }
  });
});
