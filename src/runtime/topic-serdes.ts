import type { FetchedBatch } from '../kafka/index.ts';
import type { AnySerde, Plan } from '../topology/plan.ts';

/** The serdes used on one topic, keys and values apart. */
export interface TopicSerdes {
  keys: AnySerde[];
  values: AnySerde[];
}

/** The serdes of every topic read or written, keys and values apart. */
export function serdesByTopic(plan: Plan): Map<string, TopicSerdes> {
  const map = new Map<string, TopicSerdes>();
  const add = (topic: string, key: AnySerde, value: AnySerde): void => {
    const entry = map.get(topic) ?? { keys: [], values: [] };
    entry.keys.push(key);
    entry.values.push(value);
    map.set(topic, entry);
  };
  for (const sub of plan.subtopologies) {
    for (const node of sub.nodes) {
      if (node.kind === 'source') for (const t of node.topics) add(t, node.key, node.value);
      if (node.kind === 'sink') add(node.topic, node.key, node.value);
    }
    // A Processor API store's serdes write its changelog (an Avro serde registers its schema).
    for (const store of sub.stores)
      if (store.serdes !== undefined)
        add(store.changelogTopic, store.serdes.key, store.serdes.value);
  }
  // A global table's serdes read its topic (outside the tasks).
  for (const g of plan.globalTables) add(g.topic, g.key, g.value);
  return map;
}

/** At start: each serde's `init` for each topic it is used on (the Avro serde registers its schema). */
export async function initSerdes(serdes: Map<string, TopicSerdes>): Promise<void> {
  for (const [topic, { keys, values }] of serdes)
    for (const serde of [...keys, ...values]) await serde.init?.(topic);
}

/** True when a serde of the topic has a `prepareBatch` hook (I/O before a batch is decoded). */
export function preparesBatches(entry: TopicSerdes | undefined): boolean {
  return [...(entry?.keys ?? []), ...(entry?.values ?? [])].some(
    (s) => s.prepareBatch !== undefined,
  );
}

/**
 * Before a fetched batch is processed: each serde's `prepareBatch`, key serdes with the keys and
 * value serdes with the values (an Avro serde fetches the schema ids it has not met).
 */
export async function prepareBatch(
  entry: TopicSerdes | undefined,
  batch: {
    topic: string;
    records: readonly Pick<FetchedBatch['records'][number], 'key' | 'value'>[];
  },
): Promise<void> {
  if (entry === undefined) return;
  for (const serde of entry.keys) {
    await serde.prepareBatch?.(
      batch.records.map((r) => r.key),
      batch.topic,
    );
  }
  for (const serde of entry.values) {
    await serde.prepareBatch?.(
      batch.records.map((r) => r.value),
      batch.topic,
    );
  }
}
