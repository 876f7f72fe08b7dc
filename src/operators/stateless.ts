import type { Processor } from '../core/index.ts';

// The built-in stateless operators. Each is a Processor over erased types: the DSL has already
// checked the types of the functions they run. They forward synchronously.

type Fn<R> = (key: unknown, value: unknown) => R;
type AnyProcessor = Processor<unknown, unknown, unknown, unknown>;

export function mapOperator(fn: Fn<readonly [unknown, unknown]>): AnyProcessor {
  return {
    process(record, ctx) {
      const [key, value] = fn(record.key, record.value);
      ctx.forward({ ...record, key, value });
    },
  };
}

/** fn is called (value, key), as the DSL's mapValues. */
export function mapValuesOperator(fn: Fn<unknown>): AnyProcessor {
  return {
    process(record, ctx) {
      ctx.forward({ ...record, value: fn(record.value, record.key) });
    },
  };
}

export function filterOperator(fn: Fn<unknown>): AnyProcessor {
  return {
    process(record, ctx) {
      if (fn(record.key, record.value) === true) ctx.forward(record);
    },
  };
}

export function flatMapOperator(fn: Fn<Iterable<readonly [unknown, unknown]>>): AnyProcessor {
  return {
    process(record, ctx) {
      for (const [key, value] of fn(record.key, record.value))
        ctx.forward({ ...record, key, value });
    },
  };
}

export function peekOperator(fn: Fn<unknown>): AnyProcessor {
  return {
    process(record, ctx) {
      fn(record.key, record.value);
      ctx.forward(record);
    },
  };
}

/** Forwards to the child of the first predicate that holds; drops the record otherwise. */
export function branchOperator(predicates: Fn<unknown>[], children: string[]): AnyProcessor {
  return {
    process(record, ctx) {
      for (let i = 0; i < predicates.length; i++) {
        if (predicates[i]?.(record.key, record.value) === true) {
          ctx.forward(record, children[i]);
          return;
        }
      }
    },
  };
}

export function passThroughOperator(): AnyProcessor {
  return {
    process(record, ctx) {
      ctx.forward(record);
    },
  };
}

export function selectKeyOperator(fn: Fn<unknown>): AnyProcessor {
  return {
    process(record, ctx) {
      ctx.forward({ ...record, key: fn(record.key, record.value) });
    },
  };
}
