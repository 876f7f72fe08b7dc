import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { TributaryError } from '../../core/index.ts';
import { compileModel } from './compile-model.ts';
import type { Scorer } from './compile-model.ts';
import type { Model } from './model-format.ts';
import { validateModel } from './validate-model.ts';

/** A validated model with its compiled scorer, ready for predict(). */
export interface LoadedModel {
  /** Where it came from: the file's absolute path, or the name given to prepareModel. */
  readonly source: string;
  readonly model: Model;
  /** model.version, carried on every prediction. */
  readonly version: string;
  readonly score: Scorer;
}

/** Validates a model given as a value (parsed JSON) and compiles it; `source` names it in errors. */
export function prepareModel(value: unknown, source = 'inline model'): LoadedModel {
  const model = validateModel(value, source);
  return { source, model, version: model.version, score: compileModel(model) };
}

// One load per file and process: predict() runs once per topology build, its supplier once per
// task, and they all share what was loaded here.
const loaded = new Map<string, LoadedModel>();

export interface LoadModelOptions {
  /** Read the file again even when this process has loaded it before. */
  reload?: boolean;
}

/**
 * Reads, validates and compiles a model file, once per process and absolute path. A relative
 * path is resolved against the working directory; pass `new URL('../models/x.json',
 * import.meta.url)` to resolve against a topology file instead.
 *
 * Throws MODEL_NOT_FOUND when the file is missing or unreadable and MODEL_INVALID when it is
 * not JSON or not a valid model; both messages name the file.
 */
export function loadModel(path: string | URL, options: LoadModelOptions = {}): LoadedModel {
  const file = typeof path === 'string' ? resolve(path) : fileURLToPath(path);
  const cached = loaded.get(file);
  if (cached !== undefined && options.reload !== true) return cached;
  const named = typeof path === 'string' && path !== file ? `${path} (${file})` : file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TributaryError(
      'MODEL_NOT_FOUND',
      missing
        ? `model file ${named} does not exist`
        : `model file ${named} cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TributaryError(
      'MODEL_INVALID',
      `model file ${named} is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const model = prepareModel(value, `file ${named}`);
  const result: LoadedModel = { ...model, source: file };
  loaded.set(file, result);
  return result;
}
