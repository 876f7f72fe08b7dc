import type { TopologyGraph } from './graph.ts';
import type { TableView } from './plan.ts';
import type { GlobalTable } from './stream.ts';

/** A global table of a topology: its store name, and how joins look it up. */
export class GlobalTableHandle<K, V> implements GlobalTable<K, V> {
  declare readonly types?: { key: K; value: V };

  constructor(
    readonly graph: TopologyGraph,
    readonly store: string,
    readonly view: TableView & { kind: 'global' },
  ) {}
}
