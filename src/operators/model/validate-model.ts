import { z } from 'zod';

import { TributaryError } from '../../core/index.ts';
import type { Model, TreeEnsembleModel, TreeNode } from './model-format.ts';
import { isLeaf } from './model-format.ts';

/** One problem of a model: where (a JSON path such as `$.trees[0][3].left`) and what. */
export interface ModelProblem {
  path: string;
  message: string;
}

// z.number() already refuses NaN; finite() refuses the Infinity that JSON's 1e999 parses to.
const finite = z.number().finite();
const name = z.string().min(1);
const nodeIndex = z.number().int().nonnegative();

const header = {
  version: z.string().min(1),
  features: z.array(name).min(1),
  output: name,
  description: z.string().optional(),
  metadata: z.record(z.unknown()).optional(),
};

const splitKeys = ['feature', 'threshold', 'left', 'right'] as const;

// One object schema for both node shapes, so an error points at the field, not at a union.
const node = z
  .object({
    feature: name.optional(),
    threshold: finite.optional(),
    left: nodeIndex.optional(),
    right: nodeIndex.optional(),
    missing: z.enum(['left', 'right']).optional(),
    value: finite.optional(),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.value !== undefined) {
      for (const key of [...splitKeys, 'missing'] as const) {
        if (n[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'a leaf ({ value }) has no ' + key,
          });
      }
      return;
    }
    for (const key of splitKeys) {
      if (n[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `a split node needs ${key} (or the node is a leaf: { value })`,
        });
      }
    }
  });

const modelSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('linear'),
      ...header,
      weights: z.array(finite),
      intercept: finite,
      threshold: finite.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('logistic'),
      ...header,
      weights: z.array(finite),
      intercept: finite,
      threshold: z.number().min(0).max(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tree-ensemble'),
      ...header,
      aggregation: z.enum(['sum', 'mean']),
      base: finite.optional(),
      link: z.enum(['identity', 'sigmoid']).optional(),
      threshold: finite.optional(),
      trees: z.array(z.array(node).min(1)).min(1),
    })
    .strict(),
]);

/** `$.trees[0][3].left` from zod's ['trees', 0, 3, 'left']. */
export function jsonPath(path: readonly (string | number)[]): string {
  let out = '$';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * Checks a parsed JSON value against the model format and returns it as a Model. Throws
 * MODEL_INVALID naming `source` (the file) and the JSON path of each problem.
 */
export function validateModel(value: unknown, source: string): Model {
  const parsed = modelSchema.safeParse(value);
  const problems: ModelProblem[] = parsed.success
    ? structuralProblems(parsed.data as Model)
    : parsed.error.issues.map((issue) => ({
        path: jsonPath(issue.path),
        message: issue.message,
      }));
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
    if (problems.length > 5) shown.push(`and ${problems.length - 5} more`);
    throw new TributaryError('MODEL_INVALID', `model ${source} is invalid: ${shown.join('; ')}`, {
      cause: parsed.success ? undefined : parsed.error,
    });
  }
  return (parsed as { data: Model }).data;
}

/** What the schema cannot see: lengths that must agree, names that must exist, tree shape. */
function structuralProblems(model: Model): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const seen = new Map<string, number>();
  model.features.forEach((feature, i) => {
    const first = seen.get(feature);
    if (first !== undefined)
      problems.push({
        path: `$.features[${i}]`,
        message: `duplicate feature '${feature}' (also $.features[${first}])`,
      });
    else seen.set(feature, i);
  });
  if (model.kind === 'tree-ensemble') problems.push(...treeProblems(model));
  else if (model.weights.length !== model.features.length) {
    problems.push({
      path: '$.weights',
      message: `${model.weights.length} weights for ${model.features.length} features`,
    });
  }
  return problems;
}

function treeProblems(model: TreeEnsembleModel): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const features = new Set(model.features);
  model.trees.forEach((tree, t) => {
    const at = (i: number) => `$.trees[${t}][${i}]`;
    let linksOk = true;
    tree.forEach((n, i) => {
      if (isLeaf(n)) return;
      if (!features.has(n.feature))
        problems.push({
          path: `${at(i)}.feature`,
          message: `unknown feature '${n.feature}' (not in $.features)`,
        });
      for (const side of ['left', 'right'] as const) {
        if (n[side] >= tree.length) {
          linksOk = false;
          problems.push({
            path: `${at(i)}.${side}`,
            message: `points to node ${n[side]}, outside the tree's ${tree.length} nodes`,
          });
        }
      }
    });
    if (linksOk) problems.push(...shapeProblems(tree, at));
  });
  return problems;
}

/**
 * A tree must be a tree: walked from node 0, no node is reached twice (a cycle, or two parents)
 * and every node is reached. Iterative, as scoring is, so a deep tree cannot overflow the stack.
 */
function shapeProblems(tree: TreeNode[], at: (i: number) => string): ModelProblem[] {
  const problems: ModelProblem[] = [];
  // 0: not reached, 1: on the current path from the root, 2: done.
  const state = new Uint8Array(tree.length);
  const parentOf = new Int32Array(tree.length).fill(-1);
  // Each entry is a node and the next child to visit (0 left, 1 right, 2 done).
  const stack: [number, number][] = [[0, 0]];
  state[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [number, number];
    const [i, next] = top;
    const n = tree[i] as TreeNode;
    if (isLeaf(n) || next === 2) {
      state[i] = 2;
      stack.pop();
      continue;
    }
    top[1] = next + 1;
    const side = next === 0 ? 'left' : 'right';
    const child = n[side];
    if (state[child] === 1) {
      problems.push({
        path: `${at(i)}.${side}`,
        message: `points back to node ${child}, on the path from the root to node ${i} (a cycle)`,
      });
    } else if (state[child] === 2) {
      problems.push({
        path: `${at(i)}.${side}`,
        message: `points to node ${child}, already the child of node ${parentOf[child]}`,
      });
    } else {
      state[child] = 1;
      parentOf[child] = i;
      stack.push([child, 0]);
    }
  }
  state.forEach((s, i) => {
    if (s === 0)
      problems.push({ path: at(i), message: 'not reachable from the root (node 0) of its tree' });
  });
  return problems;
}
