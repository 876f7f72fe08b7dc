import { sigmoid } from '../../src/operators/model/compile-model.ts';
import { checkTrainingData, round } from './fit-data.ts';
import type { TrainingData } from './fit-data.ts';
import type { TreeEnsembleModel, TreeNode } from '../../src/operators/model/model-format.ts';

export interface BoostedTreesFitOptions {
  /** Boosting rounds, one tree each. Default 20. */
  trees?: number;
  /** Depth of each tree (3: at most 8 leaves). Default 3. */
  depth?: number;
  /** Shrinks each tree's leaves. Default 0.3. */
  learningRate?: number;
  /** Candidate split points per feature (quantiles). Default 32. */
  bins?: number;
  /** L2 penalty on leaf values, as in XGBoost's lambda. Default 1. */
  l2?: number;
  /** Smallest sum of hessians p(1-p) a child may have. Default 1. */
  minChildWeight?: number;
}

type Required_ = Required<BoostedTreesFitOptions>;

/**
 * Gradient boosting on the logistic loss (Newton steps, as XGBoost): each round fits a
 * regression tree to the gradients y - p, splits chosen by the gain
 * G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ) over quantile split points, leaves
 * learningRate·G/(H+λ). The ensemble sums the trees on a base of logit(mean y) and links with
 * the sigmoid. Targets are 0 or 1. With no missing values in training, a split sends missing
 * values to the side that took more rows.
 */
export function fitBoostedTrees(
  data: TrainingData,
  output: string,
  options: BoostedTreesFitOptions = {},
): Omit<TreeEnsembleModel, 'version' | 'metadata'> {
  checkTrainingData(data);
  const o: Required_ = {
    trees: 20,
    depth: 3,
    learningRate: 0.3,
    bins: 32,
    l2: 1,
    minChildWeight: 1,
    ...options,
  };
  const n = data.rows.length;
  const mean = data.targets.reduce((a, b) => a + b, 0) / n;
  const prior = Math.min(Math.max(mean, 1e-6), 1 - 1e-6);
  const base = round(Math.log(prior / (1 - prior)), 6);
  const margin = new Float64Array(n).fill(base);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const edges = data.features.map((_, j) => splitPoints(data.rows, j, o.bins));
  const trees: TreeNode[][] = [];
  for (let t = 0; t < o.trees; t++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin[i] as number);
      grad[i] = (data.targets[i] as number) - p;
      hess[i] = p * (1 - p);
    }
    const nodes: TreeNode[] = [];
    const all = Array.from({ length: n }, (_, i) => i);
    grow({ data, edges, grad, hess, margin, nodes, o }, all, 0);
    trees.push(nodes);
  }
  return {
    kind: 'tree-ensemble',
    features: [...data.features],
    output,
    aggregation: 'sum',
    base,
    link: 'sigmoid',
    threshold: 0.5,
    trees,
  };
}

interface Growth {
  data: TrainingData;
  edges: number[][];
  grad: Float64Array;
  hess: Float64Array;
  margin: Float64Array;
  nodes: TreeNode[];
  o: Required_;
}

/** Candidate thresholds of feature j: midpoints between neighbouring distinct quantiles. */
function splitPoints(rows: TrainingData['rows'], j: number, bins: number): number[] {
  const sorted = rows.map((r) => r[j] as number).sort((a, b) => a - b);
  const points = new Set<number>();
  for (let q = 1; q < bins; q++) {
    const at = Math.floor((q * sorted.length) / bins);
    const lo = sorted[at - 1] as number;
    const hi = sorted[at] as number;
    if (lo < hi) points.add(round((lo + hi) / 2, 6));
  }
  return [...points].sort((a, b) => a - b);
}

/** Adds the node for `rows` (and its subtree) to g.nodes, pre-order, and returns its index. */
function grow(g: Growth, rows: number[], depth: number): number {
  const index = g.nodes.length;
  const { grad, hess, o } = g;
  let gSum = 0;
  let hSum = 0;
  for (const i of rows) {
    gSum += grad[i] as number;
    hSum += hess[i] as number;
  }
  const split = depth < o.depth ? bestSplit(g, rows, gSum, hSum) : undefined;
  if (split === undefined) {
    const value = round((o.learningRate * gSum) / (hSum + o.l2), 6);
    g.nodes.push({ value });
    for (const i of rows) g.margin[i] = (g.margin[i] as number) + value;
    return index;
  }
  const node = {
    feature: g.data.features[split.feature] as string,
    threshold: split.threshold,
    left: 0,
    right: 0,
    missing: 'left' as 'left' | 'right',
  };
  g.nodes.push(node);
  const left = rows.filter((i) => (g.data.rows[i]?.[split.feature] as number) < split.threshold);
  const right = rows.filter((i) => (g.data.rows[i]?.[split.feature] as number) >= split.threshold);
  node.missing = left.length >= right.length ? 'left' : 'right';
  node.left = grow(g, left, depth + 1);
  node.right = grow(g, right, depth + 1);
  return index;
}

function bestSplit(
  g: Growth,
  rows: number[],
  gSum: number,
  hSum: number,
): { feature: number; threshold: number } | undefined {
  const { o } = g;
  const score = (gs: number, hs: number) => (gs * gs) / (hs + o.l2);
  const parent = score(gSum, hSum);
  let best: { feature: number; threshold: number; gain: number } | undefined;
  g.edges.forEach((edges, j) => {
    // Histogram of gradients over the bins the edges make; bin k holds x in [e_{k-1}, e_k).
    const gBins = new Float64Array(edges.length + 1);
    const hBins = new Float64Array(edges.length + 1);
    for (const i of rows) {
      const k = binOf(edges, g.data.rows[i]?.[j] as number);
      gBins[k] = (gBins[k] as number) + (g.grad[i] as number);
      hBins[k] = (hBins[k] as number) + (g.hess[i] as number);
    }
    let gLeft = 0;
    let hLeft = 0;
    for (let k = 0; k < edges.length; k++) {
      gLeft += gBins[k] as number;
      hLeft += hBins[k] as number;
      const hRight = hSum - hLeft;
      if (hLeft < o.minChildWeight || hRight < o.minChildWeight) continue;
      const gain = score(gLeft, hLeft) + score(gSum - gLeft, hRight) - parent;
      if (gain > 1e-9 && (best === undefined || gain > best.gain))
        best = { feature: j, threshold: edges[k] as number, gain };
    }
  });
  return best;
}

/** The number of edges <= x: x < edges[k] exactly when its bin is at most k. */
function binOf(edges: number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
