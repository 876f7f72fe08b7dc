import { checkTrainingData, round, scalingOf, standardized, unstandardize } from './fit-data.ts';
import type { TrainingData } from './fit-data.ts';
import type { LinearModel } from '../../src/operators/model/model-format.ts';

/**
 * Least squares by the normal equations, on standardized features (better conditioned when
 * features are as correlated as a mean and its min and max), with a tiny ridge so a constant
 * or duplicated feature cannot make the system singular. The intercept of centred features is
 * the targets' mean; the weights solve (ZᵀZ + λI) w = Zᵀ(y - ȳ).
 */
export function fitLinear(
  data: TrainingData,
  output: string,
): Omit<LinearModel, 'version' | 'metadata'> {
  checkTrainingData(data);
  const p = data.features.length;
  const n = data.rows.length;
  const scaling = scalingOf(data);
  const z = standardized(data, scaling);
  const mean = data.targets.reduce((a, b) => a + b, 0) / n;
  const a = new Float64Array(p * p);
  const at = (m: Float64Array, r: number, c: number) => m[r * p + c] as number;
  const rhs = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const r = (data.targets[i] as number) - mean;
    for (let j = 0; j < p; j++) {
      const zij = z[i * p + j] as number;
      rhs[j] = (rhs[j] as number) + zij * r;
      for (let k = 0; k < p; k++) a[j * p + k] = at(a, j, k) + zij * (z[i * p + k] as number);
    }
  }
  for (let j = 0; j < p; j++) a[j * p + j] = at(a, j, j) + 1e-8 * n;
  const { weights, intercept } = unstandardize(solve(a, rhs, p), mean, scaling);
  return {
    kind: 'linear',
    features: [...data.features],
    output,
    weights: weights.map((w) => round(w)),
    intercept: round(intercept),
  };
}

/** Solves A x = b (A is p×p, row-major) by Gaussian elimination with partial pivoting. */
export function solve(matrix: Float64Array, vector: Float64Array, p: number): Float64Array {
  const a = Float64Array.from(matrix);
  const b = Float64Array.from(vector);
  const at = (r: number, c: number) => a[r * p + c] as number;
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++)
      if (Math.abs(at(r, col)) > Math.abs(at(pivot, col))) pivot = r;
    if (at(pivot, col) === 0) throw new RangeError('singular system: a feature is redundant');
    if (pivot !== col) {
      for (let c = 0; c < p; c++) {
        const t = at(col, c);
        a[col * p + c] = at(pivot, c);
        a[pivot * p + c] = t;
      }
      [b[col], b[pivot]] = [b[pivot] as number, b[col] as number];
    }
    for (let r = col + 1; r < p; r++) {
      const factor = at(r, col) / at(col, col);
      for (let c = col; c < p; c++) a[r * p + c] = at(r, c) - factor * at(col, c);
      b[r] = (b[r] as number) - factor * (b[col] as number);
    }
  }
  const x = new Float64Array(p);
  for (let r = p - 1; r >= 0; r--) {
    let sum = b[r] as number;
    for (let c = r + 1; c < p; c++) sum -= at(r, c) * (x[c] as number);
    x[r] = sum / at(r, r);
  }
  return x;
}
