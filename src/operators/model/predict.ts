import type { ProcessorSupplier } from '../../core/index.ts';
import type { FeatureValues } from './feature-reader.ts';
import { loadModel } from './load-model.ts';
import type { LoadedModel } from './load-model.ts';

/** What predict() hands to `output` for each record. */
export interface Prediction {
  value: number;
  /** Present when the model classifies (logistic, sigmoid-linked trees, or a set threshold). */
  label?: boolean;
  /** The version of the model that scored the record. */
  modelVersion: string;
}

interface PredictFunctions<K, V, O> {
  /** The record's features by name; every name in the model's `features` must be present. */
  features: (value: V, key: K) => FeatureValues;
  /** The record's new value, from its old value and the prediction. */
  output: (value: V, prediction: Prediction, key: K) => O;
}

/**
 * Where the model comes from: a file (loaded now), a loaded model, or a function returning one.
 * The function is called now, so a bad model stops the topology's build, and again for each
 * task the worker creates (loadModel's cache makes that free).
 */
export type ModelSource =
  | { modelPath: string | URL; model?: never }
  | { model: LoadedModel | (() => LoadedModel); modelPath?: never };

export type PredictOptions<K, V, O> = PredictFunctions<K, V, O> & ModelSource;

/**
 * The model inference operator, for `stream.process(predict({...}), { name: 'score' })`: scores
 * each record's features with the model and forwards `output(value, prediction)` under the same
 * key, timestamp and headers. The model is loaded when predict() is called, that is when the
 * topology is built, so a missing or malformed model file stops `tributary run` before it joins
 * its group, with MODEL_NOT_FOUND or MODEL_INVALID naming the file. A record whose features do
 * not fit the model fails with MODEL_INPUT_INVALID and meets the operator's onError policy.
 *
 * @example
 *   hourly.process(
 *     predict({
 *       modelPath: 'models/sensor-model.json',
 *       features: (a) => ({ temperature_mean: a.temperature.mean, count: a.count }),
 *       output: (a, p) => ({ ...a, risk: p.value, model: p.modelVersion }),
 *     }),
 *     { name: 'score' },
 *   );
 */
export function predict<K, V, O>(options: PredictOptions<K, V, O>): ProcessorSupplier<K, V, K, O> {
  const get = modelGetter(options);
  get();
  const { features, output } = options;
  return () => {
    const { score, version } = get();
    return {
      process(record, context) {
        const { value, label } = score(features(record.value, record.key));
        const prediction: Prediction =
          label === undefined
            ? { value, modelVersion: version }
            : { value, label, modelVersion: version };
        context.forward({
          key: record.key,
          value: output(record.value, prediction, record.key),
          timestamp: record.timestamp,
          headers: record.headers,
        });
      },
    };
  };
}

function modelGetter(source: ModelSource): () => LoadedModel {
  if (source.modelPath !== undefined) {
    const path = source.modelPath;
    return () => loadModel(path);
  }
  const { model } = source;
  if (model === undefined) throw new TypeError('predict() needs modelPath or model');
  return typeof model === 'function' ? model : () => model;
}
