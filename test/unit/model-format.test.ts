import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { jsonPath, loadModel, validateModel } from '../../src/operators/model/index.ts';

const logistic = {
  kind: 'logistic',
  version: 'logistic-test-1',
  features: ['a', 'b'],
  output: 'risk',
  weights: [1, -1],
  intercept: 0,
};

const trees = (nodes: unknown[]) => ({
  kind: 'tree-ensemble',
  version: 'trees-test-1',
  features: ['a', 'b'],
  output: 'risk',
  aggregation: 'sum',
  trees: [nodes],
});

const split = (left: number, right: number, feature = 'a') => ({
  feature,
  threshold: 1,
  left,
  right,
});

/** Asserts that validating `value` fails with MODEL_INVALID naming the source and every path. */
function assertInvalid(value: unknown, paths: string[], message?: RegExp): void {
  assert.throws(
    () => validateModel(value, 'file models/bad.json'),
    (error: unknown) => {
      assert.ok(error instanceof TributaryError, String(error));
      assert.equal(error.code, 'MODEL_INVALID');
      assert.match(error.message, /^model file models\/bad\.json is invalid: /);
      for (const path of paths) assert.ok(error.message.includes(`${path}: `), error.message);
      if (message !== undefined) assert.match(error.message, message);
      return true;
    },
  );
}

describe('model format validation', () => {
  it('accepts each kind of model as it is documented', () => {
    assert.equal(validateModel(logistic, 'x').kind, 'logistic');
    assert.equal(validateModel({ ...logistic, kind: 'linear' }, 'x').kind, 'linear');
    const ensemble = trees([split(1, 2), { value: -1 }, { value: 1 }]);
    assert.deepEqual(validateModel(ensemble, 'x'), ensemble);
  });

  it('refuses an unknown or absent kind at $.kind', () => {
    assertInvalid({ ...logistic, kind: 'svm' }, ['$.kind'], /linear.*logistic.*tree-ensemble/);
    const { kind: _kind, ...noKind } = logistic;
    assertInvalid(noKind, ['$.kind']);
    assertInvalid([logistic], ['$']);
  });

  it('refuses weights that do not match the features, one for one', () => {
    assertInvalid({ ...logistic, weights: [1, 2, 3] }, ['$.weights'], /3 weights for 2 features/);
  });

  it('refuses NaN and infinite numbers', () => {
    assertInvalid({ ...logistic, weights: [1, NaN] }, ['$.weights[1]']);
    assertInvalid({ ...logistic, intercept: Infinity }, ['$.intercept']);
    assertInvalid(trees([{ value: NaN }]), ['$.trees[0][0].value']);
  });

  it('refuses missing fields, unknown fields and bad header values', () => {
    const { version: _version, ...noVersion } = logistic;
    assertInvalid(noVersion, ['$.version']);
    assertInvalid({ ...logistic, weight: [1, 2] }, ['$'], /weight/);
    assertInvalid({ ...logistic, features: [] }, ['$.features']);
    assertInvalid({ ...logistic, features: ['a', 'a'] }, ['$.features[1]'], /duplicate/);
    assertInvalid({ ...logistic, threshold: 1.5 }, ['$.threshold']);
    assertInvalid({ ...trees([{ value: 1 }]), aggregation: 'max' }, ['$.aggregation']);
    assertInvalid({ ...trees([{ value: 1 }]), trees: [] }, ['$.trees']);
  });

  it('refuses a node pointing outside its tree', () => {
    assertInvalid(
      trees([split(1, 5), { value: 0 }, { value: 1 }]),
      ['$.trees[0][0].right'],
      /points to node 5, outside the tree's 3 nodes/,
    );
  });

  it('refuses a cycle, a node with two parents and an unreachable node', () => {
    assertInvalid(
      trees([split(1, 2), { value: 0 }, split(0, 1)]),
      ['$.trees[0][2].left'],
      /a cycle/,
    );
    assertInvalid(
      trees([split(1, 2), split(3, 3), { value: 0 }, { value: 1 }]),
      ['$.trees[0][1].right'],
      /already the child of node 1/,
    );
    assertInvalid(
      trees([split(1, 2), { value: 0 }, { value: 1 }, { value: 2 }]),
      ['$.trees[0][3]'],
      /not reachable/,
    );
    assertInvalid(trees([split(0, 0)]), ['$.trees[0][0].left'], /a cycle/);
  });

  it('refuses half a split node, a leaf with children, and an unknown feature', () => {
    assertInvalid(trees([{ feature: 'a', left: 1, right: 2 }, { value: 0 }, { value: 1 }]), [
      '$.trees[0][0].threshold',
    ]);
    assertInvalid(trees([{ value: 1, left: 1 }]), ['$.trees[0][0].left'], /leaf/);
    assertInvalid(
      trees([split(1, 2, 'c'), { value: 0 }, { value: 1 }]),
      ['$.trees[0][0].feature'],
      /unknown feature 'c'/,
    );
  });

  it('names at most five problems and counts the rest', () => {
    assertInvalid({ ...logistic, weights: Array(9).fill('x') }, ['$.weights[0]'], /and 4 more/);
  });

  it('writes JSON paths as $.a[0]["odd key"]', () => {
    assert.equal(jsonPath(['trees', 0, 3, 'left']), '$.trees[0][3].left');
    assert.equal(jsonPath(['metadata', 'odd key']), '$.metadata["odd key"]');
    assert.equal(jsonPath([]), '$');
  });
});

describe('loading a model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-model-'));

  it('names the file and the JSON path of a malformed model', () => {
    const file = join(dir, 'bad-weights.json');
    writeFileSync(file, JSON.stringify({ ...logistic, weights: [1] }));
    assert.throws(
      () => loadModel(file),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'MODEL_INVALID' &&
        error.message.includes(file) &&
        error.message.includes('$.weights: 1 weights for 2 features'),
    );
  });

  it('refuses a file that is not JSON, and the Infinity that 1e999 parses to', () => {
    const text = join(dir, 'text.json');
    writeFileSync(text, 'weights: [1, 2]');
    assert.throws(() => loadModel(text), /model file .*text\.json is not JSON/);
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, JSON.stringify(logistic).replace('"intercept":0', '"intercept":1e999'));
    assert.throws(() => loadModel(huge), /huge\.json.* is invalid: \$\.intercept/);
  });

  it('throws MODEL_NOT_FOUND naming the path of a missing file', () => {
    const missing = join(dir, 'nowhere', 'model.json');
    assert.throws(
      () => loadModel(missing),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'MODEL_NOT_FOUND' &&
        error.message === `model file ${missing} does not exist`,
    );
    assert.throws(
      () => loadModel('models/no-such-model.json'),
      /model file models\/no-such-model\.json \(\/.*models\/no-such-model\.json\) does not exist/,
    );
    assert.throws(() => loadModel(dir), /model file .* cannot be read: EISDIR/);
  });

  it('loads a file once per path, unless asked to reload', () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify(logistic));
    const first = loadModel(file);
    assert.equal(first.source, file);
    assert.equal(first.version, 'logistic-test-1');
    writeFileSync(file, JSON.stringify({ ...logistic, version: 'logistic-test-2' }));
    assert.equal(loadModel(file), first);
    assert.equal(loadModel(new URL(`file://${file}`)), first);
    assert.equal(loadModel(file, { reload: true }).version, 'logistic-test-2');
  });

  it('loads the committed sensor model', () => {
    const loaded = loadModel(new URL('../../models/sensor-model.json', import.meta.url));
    assert.equal(loaded.model.output, 'comfort_risk');
    assert.match(loaded.version, /^(logistic|tree-ensemble)-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    assert.deepEqual(loaded.model.features, [
      'temperature_mean',
      'temperature_min',
      'temperature_max',
      'humidity_mean',
      'count',
    ]);
  });
});
