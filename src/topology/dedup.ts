import { TributaryError } from '../core/index.ts';
import { eraseFn } from './erase.ts';
import type { TopologyGraph } from './graph.ts';
import { partitionKeySerde } from './grouped-stream.ts';
import { changelogTopic, checkStoreName, checkTopicName } from './names.ts';
import type { DedupOptions } from './stream.ts';

const dedupUse = {
  step: 'dedup()',
  fix: 'seen in different tasks; keyBy(fn, { key, value }) first to repartition by the new key',
};

/**
 * Adds a dedup node after `parent` and returns its index (checked first, so a rejected call
 * leaves the graph as it was). Its store keeps entries per key, so the key must be the one the
 * records are partitioned by, as for groupByKey().
 */
export function addDedup<K, V>(
  graph: TopologyGraph,
  parent: number,
  options: DedupOptions<K, V>,
): number {
  const name = graph.nextName('dedup', options.name ?? options.store);
  checkStoreName(options.store, name);
  const topic = changelogTopic(graph.appId, options.store);
  checkTopicName(topic, `the changelog topic of store '${options.store}'`);
  const retention = options.retentionMs;
  if (!Number.isSafeInteger(retention) || retention <= 0) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `retentionMs of dedup '${name}' must be a positive whole number of milliseconds, got ${String(retention)}`,
    );
  }
  if (options.id !== undefined && typeof options.id !== 'function') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `id of dedup '${name}' must be a function (value, key) => string | number`,
    );
  }
  const key = partitionKeySerde(graph, parent, dedupUse);
  const withIds = options.id !== undefined;
  return graph.add(
    {
      kind: 'process',
      label: 'dedup',
      stores: [{ name: options.store, changelogTopic: topic, kind: 'seen', withIds }],
      key,
      retentionMs: retention,
      id: options.id === undefined ? undefined : eraseFn(options.id),
    },
    [parent],
    { name, onError: options.onError },
  );
}
