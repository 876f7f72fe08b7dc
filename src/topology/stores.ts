import { TributaryError } from '../core/index.ts';
import type { KeyValueStoreDefinition, StoreSerde, WindowStoreDefinition } from '../core/index.ts';
import { eraseSerde } from './erase.ts';
import { changelogTopic, checkStoreName, checkTopicName } from './names.ts';
import type { StoreSpec } from './plan.ts';
import type { DeclaredStore } from './stream.ts';

/**
 * A key-value store for a processor: `process(supplier, { stores: [counts] })`, then
 * `context.getStore(counts)` in the processor gives a `KeyValueStore<K, V>`. The name is
 * stable and unique in the topology: the changelog topic is `<appId>-<name>-changelog`.
 */
export function keyValueStore<K, V>(
  name: string,
  serdes: { key: StoreSerde<K>; value: StoreSerde<V> },
): KeyValueStoreDefinition<K, V> {
  return { name, kind: 'key-value', key: serdes.key, value: serdes.value };
}

/** A window store for a processor: values per (key, window start), scanned by key and time. */
export function windowStore<K, V>(
  name: string,
  serdes: { key: StoreSerde<K>; value: StoreSerde<V> },
): WindowStoreDefinition<K, V> {
  return { name, kind: 'window', key: serdes.key, value: serdes.value };
}

const isSerde = (serde: unknown): serde is StoreSerde<unknown> =>
  typeof serde === 'object' &&
  serde !== null &&
  typeof (serde as StoreSerde<unknown>).serialize === 'function' &&
  typeof (serde as StoreSerde<unknown>).deserialize === 'function';

/**
 * The plan's stores of a processor: its declared stores and its timer store, checked (names
 * valid and each once; serdes present), so a rejected call leaves the graph as it was.
 * Uniqueness across operators is compile()'s check, which sees them all.
 */
export function processStores(
  appId: string,
  operator: string,
  declared: readonly DeclaredStore[],
  timers: string | undefined,
): StoreSpec[] {
  const specs: StoreSpec[] = [];
  const spec = (name: string, kind: NonNullable<StoreSpec['kind']>): StoreSpec => {
    checkStoreName(name, operator);
    const topic = changelogTopic(appId, name);
    checkTopicName(topic, `the changelog topic of store '${name}'`);
    if (specs.some((s) => s.name === name)) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `processor '${operator}' declares store '${name}' twice; give each store its own name`,
      );
    }
    return { name, changelogTopic: topic, kind };
  };
  for (const store of declared) {
    if (store.kind !== 'key-value' && store.kind !== 'window') {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `store '${String(store.name)}' of processor '${operator}' is neither a key-value nor a window store: declare it with keyValueStore() or windowStore()`,
      );
    }
    const s = spec(store.name, store.kind);
    if (!isSerde(store.key) || !isSerde(store.value)) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `store '${store.name}' of processor '${operator}' needs a key serde and a value serde (keyValueStore(name, { key, value }))`,
      );
    }
    specs.push({ ...s, serdes: { key: eraseSerde(store.key), value: eraseSerde(store.value) } });
  }
  if (timers !== undefined) specs.push(spec(timers, 'timers'));
  return specs;
}
