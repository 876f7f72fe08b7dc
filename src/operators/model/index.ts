/**
 * model: the model inference operator and the JSON model format it reads (docs/models.md):
 * linear and logistic regression and tree ensembles, validated, compiled to fast scorers.
 *
 * @example
 *   const scored = hourly.process(
 *     predict({
 *       modelPath: 'models/sensor-model.json',
 *       features: (a) => ({ temperature_mean: a.temperature.mean, humidity_mean: a.humidity.mean }),
 *       output: (a, p) => ({ ...a, comfortRisk: p.value, modelVersion: p.modelVersion }),
 *     }),
 *     { name: 'score' },
 *   );
 */
export { compileModel, sigmoid } from './compile-model.ts';
export type { Score, Scorer } from './compile-model.ts';
export type { FeatureValues } from './feature-reader.ts';
export { loadModel, prepareModel } from './load-model.ts';
export type { LoadedModel, LoadModelOptions } from './load-model.ts';
export type {
  LeafNode,
  LinearModel,
  LogisticModel,
  Model,
  ModelKind,
  SplitNode,
  TreeEnsembleModel,
  TreeNode,
} from './model-format.ts';
export { predict } from './predict.ts';
export type { ModelSource, Prediction, PredictOptions } from './predict.ts';
export { jsonPath, validateModel } from './validate-model.ts';
export type { ModelProblem } from './validate-model.ts';
