// What the fitters share: the training data shape, standardization and number rounding.

/** Rows of feature values (in the order of `features`) and one target per row. */
export interface TrainingData {
  features: string[];
  rows: readonly (readonly number[])[];
  targets: readonly number[];
}

/** Each column's mean and standard deviation (1 for a constant column, so it divides safely). */
export interface Scaling {
  means: Float64Array;
  scales: Float64Array;
}

export function scalingOf(data: TrainingData): Scaling {
  const p = data.features.length;
  const n = data.rows.length;
  const means = new Float64Array(p);
  const scales = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let sum = 0;
    for (const row of data.rows) sum += row[j] as number;
    const mean = sum / n;
    let squares = 0;
    for (const row of data.rows) squares += ((row[j] as number) - mean) ** 2;
    means[j] = mean;
    scales[j] = Math.sqrt(squares / n) || 1;
  }
  return { means, scales };
}

/** The rows standardized (zero mean, unit variance per column), as one flat row-major array. */
export function standardized(data: TrainingData, { means, scales }: Scaling): Float64Array {
  const p = data.features.length;
  const z = new Float64Array(data.rows.length * p);
  data.rows.forEach((row, i) => {
    for (let j = 0; j < p; j++)
      z[i * p + j] = ((row[j] as number) - (means[j] as number)) / (scales[j] as number);
  });
  return z;
}

/**
 * Weights fitted on standardized features, folded back to the raw features:
 * w'·(x - m)/s + b' = (w'/s)·x + (b' - Σ w'm/s).
 */
export function unstandardize(
  weights: Float64Array,
  intercept: number,
  { means, scales }: Scaling,
): { weights: number[]; intercept: number } {
  const raw = Array.from(weights, (w, j) => w / (scales[j] as number));
  const shift = raw.reduce((sum, w, j) => sum + w * (means[j] as number), 0);
  return { weights: raw, intercept: intercept - shift };
}

/** Fewer digits in the model file, no change a prediction would notice. */
export const round = (x: number, digits = 8): number => Number(x.toPrecision(digits));

/** Guards the fitters' input: one row per target, one value per feature, all finite. */
export function checkTrainingData(data: TrainingData): void {
  if (data.rows.length === 0) throw new RangeError('no training rows');
  if (data.rows.length !== data.targets.length)
    throw new RangeError(`${data.rows.length} rows but ${data.targets.length} targets`);
  data.rows.forEach((row, i) => {
    if (row.length !== data.features.length || !row.every(Number.isFinite))
      throw new RangeError(`row ${i} needs ${data.features.length} finite numbers`);
  });
  if (!data.targets.every(Number.isFinite)) throw new RangeError('targets must be finite');
}
