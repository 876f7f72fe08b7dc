// The JSON model format (docs/models.md). A model reads the numbers named by `features` from an
// input object, in that order, and produces one number named `output`, optionally with a label.

export type ModelKind = 'linear' | 'logistic' | 'tree-ensemble';

interface ModelHeader {
  /** Carried on every prediction, e.g. `logistic-2026-11-21-3f9a0c12`. */
  version: string;
  /** Names of the features, in the order of `weights`; tree nodes name them too. */
  features: string[];
  /** What the model predicts, e.g. `comfort_risk`. */
  output: string;
  description?: string;
  /** Free-form: how and on what the model was trained. Ignored by scoring. */
  metadata?: Record<string, unknown>;
}

/** y = w·x + b; with a threshold, label = y >= threshold. */
export interface LinearModel extends ModelHeader {
  kind: 'linear';
  weights: number[];
  intercept: number;
  threshold?: number;
}

/** p = sigmoid(w·x + b), label = p >= threshold (default 0.5). */
export interface LogisticModel extends ModelHeader {
  kind: 'logistic';
  weights: number[];
  intercept: number;
  threshold?: number;
}

/**
 * An inner node: goes `left` when the feature's value is below `threshold`, `right` otherwise,
 * and `missing` (default left) when the value is null or NaN. `left` and `right` are indexes of
 * nodes in the same tree.
 */
export interface SplitNode {
  feature: string;
  threshold: number;
  left: number;
  right: number;
  missing?: 'left' | 'right';
}

export interface LeafNode {
  value: number;
}

export type TreeNode = SplitNode | LeafNode;

/**
 * Trees, each an array of nodes whose root is node 0. raw = base + sum (or mean) of the leaves
 * reached; value = raw (identity link) or sigmoid(raw). A label is given with the sigmoid link
 * (threshold default 0.5) or when a threshold is set.
 */
export interface TreeEnsembleModel extends ModelHeader {
  kind: 'tree-ensemble';
  aggregation: 'sum' | 'mean';
  base?: number;
  link?: 'identity' | 'sigmoid';
  threshold?: number;
  trees: TreeNode[][];
}

export type Model = LinearModel | LogisticModel | TreeEnsembleModel;

export const isLeaf = (node: TreeNode): node is LeafNode => 'value' in node;
