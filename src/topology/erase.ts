import type { ProcessorSupplier } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';
import type { AnyKeyValueFn, AnySerde } from './plan.ts';

// The plan holds erased types: the DSL has checked them, the runtime only calls the functions.
// A typed function is not assignable to its erased form (its parameters are narrower), hence
// the casts through unknown, kept in these helpers and nowhere else.

export const eraseFn = <F extends (...args: never[]) => unknown>(fn: F): AnyKeyValueFn =>
  fn as unknown as AnyKeyValueFn;

export const eraseSerde = <T>(serde: Serde<T>): AnySerde => serde as unknown as AnySerde;

export const eraseSupplier = <KIn, VIn, KOut, VOut>(
  supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
): ProcessorSupplier<unknown, unknown, unknown, unknown> =>
  supplier as unknown as ProcessorSupplier<unknown, unknown, unknown, unknown>;
