// Model training (npm run train-model): a tool; the package scores models (tributary/models).
export { fitBoostedTrees } from './fit-boosted-trees.ts';
export type { BoostedTreesFitOptions } from './fit-boosted-trees.ts';
export type { TrainingData } from './fit-data.ts';
export { fitLinear } from './fit-linear.ts';
export { fitLogistic } from './fit-logistic.ts';
export type { LogisticFitOptions } from './fit-logistic.ts';
