/**
 * `tributary/models`: the model inference operator and the JSON model format it reads
 * (docs/models.md, docs/api.md). Training (the fit-* code) is a tool, not part of this.
 *
 * @example
 *   import { predict } from 'tributary/models';
 *
 *   hourly.process(
 *     predict({
 *       modelPath: new URL('./model.json', import.meta.url),
 *       features: (a) => ({ temperature_mean: a.temperature.mean }),
 *       output: (a, p) => ({ ...a, risk: p.value, modelVersion: p.modelVersion }),
 *     }),
 *     { name: 'score' },
 *   );
 */
export { predict } from './operators/model/index.ts';
export type { ModelSource, Prediction, PredictOptions } from './operators/model/index.ts';
export { loadModel, prepareModel, validateModel } from './operators/model/index.ts';
export type { LoadedModel, LoadModelOptions, ModelProblem } from './operators/model/index.ts';
export type { Score, Scorer } from './operators/model/index.ts';
export type { FeatureValues } from './operators/model/index.ts';
export type {
  LeafNode,
  LinearModel,
  LogisticModel,
  Model,
  ModelKind,
  SplitNode,
  TreeEnsembleModel,
  TreeNode,
} from './operators/model/index.ts';
