/**
 * What a task sees of the worker's global tables (src/runtime/global-tables.ts, or the test
 * driver's in-memory ones): per store, the latest decoded value per encoded key.
 */
export interface GlobalStoreView {
  /** The decoded value of the key (its bytes as the table's key serde writes them), if present. */
  get(key: Buffer): unknown;
  readonly size: number;
}

/** The global tables of one worker, by store name. */
export interface GlobalStores {
  view(store: string): GlobalStoreView | undefined;
}
