import { TributaryError } from '../../core/index.ts';
import type {
  LinearModel,
  LogisticModel,
  Model,
  TreeEnsembleModel,
  TreeNode,
} from './model-format.ts';
import { featureReader } from './feature-reader.ts';
import type { FeatureValues } from './feature-reader.ts';
import { isLeaf } from './model-format.ts';

/** A model's answer for one input: the output value, and a label when the model classifies. */
export interface Score {
  value: number;
  label?: boolean;
}

/**
 * Scores one input. Allocates nothing but its result and runs trees iteratively. Throws
 * MODEL_INPUT_INVALID when a feature is absent, or missing where the model needs a number.
 */
export type Scorer = (features: FeatureValues) => Score;

/** The logistic function, without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Turns a validated model into a scorer; see validateModel. */
export function compileModel(model: Model): Scorer {
  switch (model.kind) {
    case 'linear':
    case 'logistic':
      return compileLinear(model);
    case 'tree-ensemble':
      return compileTrees(model);
  }
}

function inputError(model: Model, features: FeatureValues, feature: string): TributaryError {
  const value = features[feature];
  const what =
    value === undefined ? 'absent' : typeof value === 'string' ? `'${value}'` : String(value);
  const need =
    model.kind === 'tree-ensemble'
      ? 'a number, or null when missing'
      : `a finite number (a ${model.kind} model has no rule for missing values)`;
  return new TributaryError(
    'MODEL_INPUT_INVALID',
    `model ${model.version}: feature '${feature}' is ${what}; it needs ${need}`,
  );
}

function compileLinear(model: LinearModel | LogisticModel): Scorer {
  const names = [...model.features];
  const read = featureReader(names);
  const buffer = new Float64Array(names.length);
  const weights = Float64Array.from(model.weights);
  const { intercept } = model;
  const n = names.length;
  const logistic = model.kind === 'logistic';
  const threshold = logistic ? (model.threshold ?? 0.5) : model.threshold;
  return (features) => {
    const bad = read(features, buffer);
    if (bad >= 0) throw inputError(model, features, names[bad] as string);
    let z = intercept;
    for (let i = 0; i < n; i++) {
      const x = buffer[i] as number;
      // x - x is 0 for a finite number, NaN for NaN (null) and the infinities.
      if (x - x !== 0) throw inputError(model, features, names[i] as string);
      z += (weights[i] as number) * x;
    }
    const value = logistic ? sigmoid(z) : z;
    return threshold === undefined ? { value } : { value, label: value >= threshold };
  };
}

/**
 * The ensemble is flattened into typed arrays (one slot per node of every tree) and the input's
 * features are copied once per call into a reused buffer, NaN for missing, so each tree walk is
 * a few array reads per level.
 */
function compileTrees(model: TreeEnsembleModel): Scorer {
  const names = [...model.features];
  const featureIndex = new Map(names.map((name, i) => [name, i]));
  const total = model.trees.reduce((sum, tree) => sum + tree.length, 0);
  const feature = new Int32Array(total); // -1 marks a leaf
  const threshold = new Float64Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const missingLeft = new Uint8Array(total);
  const leafValue = new Float64Array(total);
  const roots = new Int32Array(model.trees.length);
  let offset = 0;
  model.trees.forEach((tree, t) => {
    roots[t] = offset;
    tree.forEach((node: TreeNode, i) => {
      const at = offset + i;
      if (isLeaf(node)) {
        feature[at] = -1;
        leafValue[at] = node.value;
        return;
      }
      feature[at] = featureIndex.get(node.feature) ?? -1;
      threshold[at] = node.threshold;
      left[at] = offset + node.left;
      right[at] = offset + node.right;
      missingLeft[at] = node.missing === 'right' ? 0 : 1;
    });
    offset += tree.length;
  });
  const read = featureReader(names);
  const buffer = new Float64Array(names.length);
  const base = model.base ?? 0;
  const scale = model.aggregation === 'mean' ? 1 / model.trees.length : 1;
  const useSigmoid = model.link === 'sigmoid';
  const labelAt = useSigmoid ? (model.threshold ?? 0.5) : model.threshold;
  const treeCount = roots.length;

  return (features) => {
    const bad = read(features, buffer);
    if (bad >= 0) throw inputError(model, features, names[bad] as string);
    let sum = 0;
    for (let t = 0; t < treeCount; t++) {
      let i = roots[t] as number;
      let f = feature[i] as number;
      while (f >= 0) {
        const x = buffer[f] as number;
        // x !== x: NaN, the missing value.
        if (x !== x) i = missingLeft[i] === 1 ? (left[i] as number) : (right[i] as number);
        else i = x < (threshold[i] as number) ? (left[i] as number) : (right[i] as number);
        f = feature[i] as number;
      }
      sum += leafValue[i] as number;
    }
    const raw = base + sum * scale;
    const value = useSigmoid ? sigmoid(raw) : raw;
    return labelAt === undefined ? { value } : { value, label: value >= labelAt };
  };
}
