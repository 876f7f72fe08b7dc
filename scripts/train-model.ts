// Trains a model for the sensor pipeline on generated hourly aggregates and writes its JSON
// (docs/models.md). Deterministic for a seed: the same seed writes the same model; only the date
// in the version changes with the day (--date fixes it).
//
//   tsx scripts/train-model.ts [--kind logistic|linear|tree-ensemble] [--out models/sensor-model.json]
//                              [--seed N] [--samples N] [--date YYYY-MM-DD]
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

import { format, resolveConfig } from 'prettier';

import { compileModel, sigmoid, validateModel } from '../src/operators/model/index.ts';
import type { Model, ModelKind } from '../src/operators/model/index.ts';
import { fitBoostedTrees, fitLinear, fitLogistic } from '../tools/model-training/index.ts';
import type { TrainingData } from '../tools/model-training/index.ts';

export const sensorFeatures = [
  'temperature_mean',
  'temperature_min',
  'temperature_max',
  'humidity_mean',
  'count',
];
export const sensorOutput = 'comfort_risk';

/** One generated hour: the aggregate's features, the true risk, and what happened next. */
export interface SensorSample {
  features: Record<string, number>;
  /** The ground truth: probability that the next hour is uncomfortable (hot and humid). */
  risk: number;
  /** Whether it was (drawn from risk). */
  uncomfortable: boolean;
  /** The share of the next hour's readings that were uncomfortable: the linear model's target. */
  share: number;
}

/** mulberry32: a small seeded generator, so training is reproducible. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Hourly aggregates as the sensor pipeline makes them (a reading a minute, some lost), and the
 * invented truth behind the next hour: it gets hotter after an hour with a wide temperature
 * swing (sun), and it is uncomfortable when it is hot, worse when it is also humid.
 */
export function sensorSamples(seed: number, count: number): SensorSample[] {
  const next = random(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const samples: SensorSample[] = [];
  for (let s = 0; s < count; s++) {
    const temperature = clamp(22 + 7 * normal(), -15, 42);
    const humidity = clamp(60 - 0.4 * (temperature - 22) + 18 * normal(), 5, 100);
    const readings = Math.max(1, 60 - Math.floor(-8 * Math.log(1 - next())));
    const swing = 0.3 + 1.5 * Math.abs(normal());
    // The aggregate's mean is noisier when fewer readings made it.
    const mean = temperature + (1.5 * normal()) / Math.sqrt(readings);
    const low = mean - swing * (0.3 + 0.7 * next());
    const high = mean + swing * (0.3 + 0.7 * next());
    const nextTemperature = temperature + 0.4 * (high - low) + 0.8 * normal();
    const nextHumidity = clamp(humidity + 4 * normal(), 0, 100);
    const heat =
      nextTemperature -
      27 +
      0.08 * (nextHumidity - 55) +
      0.006 * Math.max(0, nextTemperature - 20) * (nextHumidity - 55);
    const risk = sigmoid(heat / 1.2);
    samples.push({
      features: {
        temperature_mean: round2(mean),
        temperature_min: round2(low),
        temperature_max: round2(high),
        humidity_mean: round2(humidity + normal()),
        count: readings,
      },
      risk,
      uncomfortable: next() < risk,
      share: clamp(risk + 0.05 * normal(), 0, 1),
    });
  }
  return samples;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function trainingData(samples: SensorSample[], target: 'label' | 'share'): TrainingData {
  return {
    features: sensorFeatures,
    rows: samples.map((s) => sensorFeatures.map((f) => s.features[f] as number)),
    targets: samples.map((s) => (target === 'label' ? Number(s.uncomfortable) : s.share)),
  };
}

/** Accuracy of a classifier, or R² of a regression, on samples (scored as predict() would). */
export function evaluate(model: Model, samples: SensorSample[]): number {
  const score = compileModel(model);
  if (model.kind === 'linear') {
    const mean = samples.reduce((a, s) => a + s.share, 0) / samples.length;
    let residual = 0;
    let total = 0;
    for (const s of samples) {
      residual += (s.share - score(s.features).value) ** 2;
      total += (s.share - mean) ** 2;
    }
    return 1 - residual / total;
  }
  const right = samples.filter((s) => score(s.features).label === s.uncomfortable).length;
  return right / samples.length;
}

/** The model's version: `<kind>-<date>-<first 8 hex of sha256 of the rest of the model>`. */
export function versionOf(content: Omit<Model, 'version'>, date: string): string {
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 8);
  return `${content.kind}-${date}-${hash}`;
}

export interface TrainOptions {
  kind: ModelKind;
  seed: number;
  samples: number;
  /** YYYY-MM-DD for the version. */
  date: string;
}

export interface TrainResult {
  model: Model;
  /** Accuracy (logistic, tree-ensemble) or R² (linear). */
  train: number;
  holdout: number;
  /** Holdout accuracy of the ground truth itself (risk >= 0.5) and of always saying "no". */
  truthAccuracy: number;
  majorityAccuracy: number;
}

/** Generates the data (80% train, 20% holdout), fits the kind of model and evaluates it. */
export function train(options: TrainOptions): TrainResult {
  const all = sensorSamples(options.seed, options.samples);
  const cut = Math.floor(all.length * 0.8);
  const fitted = all.slice(0, cut);
  const holdout = all.slice(cut);
  const fit =
    options.kind === 'linear'
      ? fitLinear(trainingData(fitted, 'share'), sensorOutput)
      : options.kind === 'logistic'
        ? fitLogistic(trainingData(fitted, 'label'), sensorOutput)
        : fitBoostedTrees(trainingData(fitted, 'label'), sensorOutput);
  const metric = options.kind === 'linear' ? 'r2' : 'accuracy';
  const content = {
    ...fit,
    description:
      options.kind === 'linear'
        ? 'Expected share of uncomfortable (hot and humid) readings in the next hour, from an hourly aggregate of one sensor.'
        : 'Probability that the next hour is uncomfortable (hot and humid), from an hourly aggregate of one sensor.',
    metadata: {
      trainedOn: 'generated hourly sensor aggregates (scripts/train-model.ts)',
      seed: options.seed,
      samples: { train: fitted.length, holdout: holdout.length },
      [metric]: {
        train: round3(evaluate({ ...fit, version: '' } as Model, fitted)),
        holdout: round3(evaluate({ ...fit, version: '' } as Model, holdout)),
      },
    },
  } as Omit<Model, 'version'>;
  const model = validateModel(
    { version: versionOf(content, options.date), ...content },
    'trained model',
  );
  const truth = holdout.filter((s) => s.risk >= 0.5 === s.uncomfortable).length;
  const yes = holdout.filter((s) => s.uncomfortable).length;
  return {
    model,
    train: evaluate(model, fitted),
    holdout: evaluate(model, holdout),
    truthAccuracy: truth / holdout.length,
    majorityAccuracy: Math.max(yes, holdout.length - yes) / holdout.length,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The model as JSON, formatted by the repository's prettier settings (so lint passes). */
export async function modelJson(model: Model, file: string): Promise<string> {
  const config = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(model), { ...config, filepath: file });
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kind: { type: 'string', default: 'logistic' },
      out: { type: 'string', default: 'models/sensor-model.json' },
      seed: { type: 'string', default: '7' },
      samples: { type: 'string', default: '5000' },
      date: { type: 'string', default: new Date().toISOString().slice(0, 10) },
    },
  });
  const kinds: ModelKind[] = ['linear', 'logistic', 'tree-ensemble'];
  const kind = values.kind as ModelKind;
  if (!kinds.includes(kind)) throw new Error(`--kind must be one of ${kinds.join(', ')}`);
  const seed = Number(values.seed);
  const samples = Number(values.samples);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  if (!Number.isSafeInteger(samples) || samples < 100)
    throw new Error(`--samples must be an integer >= 100, got ${values.samples}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.date))
    throw new Error(`--date must be YYYY-MM-DD, got ${values.date}`);
  const result = train({ kind, seed, samples, date: values.date });
  const metric = kind === 'linear' ? 'R²' : 'accuracy';
  const pct = (x: number) => (kind === 'linear' ? x.toFixed(3) : `${(x * 100).toFixed(1)}%`);
  console.log(`${kind} model, seed ${seed}, ${samples} samples (80% train, 20% holdout)`);
  console.log(`  ${metric}: train ${pct(result.train)}, holdout ${pct(result.holdout)}`);
  if (kind !== 'linear') {
    console.log(
      `  holdout accuracy of the ground truth itself ${pct(result.truthAccuracy)}, ` +
        `of the majority class ${pct(result.majorityAccuracy)}`,
    );
  }
  const text = await modelJson(result.model, values.out);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, text);
  console.log(`wrote ${values.out}: ${result.model.version}, ${text.length} bytes`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`train-model: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
