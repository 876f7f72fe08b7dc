import { sigmoid } from '../../src/operators/model/compile-model.ts';
import { checkTrainingData, round, scalingOf, standardized, unstandardize } from './fit-data.ts';
import type { TrainingData } from './fit-data.ts';
import type { LogisticModel } from '../../src/operators/model/model-format.ts';

export interface LogisticFitOptions {
  /** Full-batch gradient steps. Default 3000. */
  iterations?: number;
  /** Step size on standardized features. Default 1. */
  learningRate?: number;
  /** L2 penalty on the (standardized) weights. Default 1e-4. */
  l2?: number;
}

/**
 * Logistic regression by full-batch gradient descent on the mean log loss, on standardized
 * features (one step size suits every feature), folded back into weights on the raw features.
 * Targets are 0 or 1 (or probabilities).
 */
export function fitLogistic(
  data: TrainingData,
  output: string,
  options: LogisticFitOptions = {},
): Omit<LogisticModel, 'version' | 'metadata'> {
  checkTrainingData(data);
  const { iterations = 3000, learningRate = 1, l2 = 1e-4 } = options;
  const p = data.features.length;
  const n = data.rows.length;
  const scaling = scalingOf(data);
  const z = standardized(data, scaling);
  const y = Float64Array.from(data.targets);
  const prior = Math.min(Math.max(y.reduce((a, b) => a + b, 0) / n, 1e-6), 1 - 1e-6);
  const w = new Float64Array(p);
  let b = Math.log(prior / (1 - prior));
  const grad = new Float64Array(p);
  for (let step = 0; step < iterations; step++) {
    grad.fill(0);
    let gradB = 0;
    for (let i = 0; i < n; i++) {
      let s = b;
      for (let j = 0; j < p; j++) s += (w[j] as number) * (z[i * p + j] as number);
      const err = sigmoid(s) - (y[i] as number);
      gradB += err;
      for (let j = 0; j < p; j++) grad[j] = (grad[j] as number) + err * (z[i * p + j] as number);
    }
    for (let j = 0; j < p; j++)
      w[j] = (w[j] as number) - learningRate * ((grad[j] as number) / n + l2 * (w[j] as number));
    b -= (learningRate * gradB) / n;
  }
  const raw = unstandardize(w, b, scaling);
  return {
    kind: 'logistic',
    features: [...data.features],
    output,
    weights: raw.weights.map((v) => round(v)),
    intercept: round(raw.intercept),
    threshold: 0.5,
  };
}
