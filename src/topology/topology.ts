import type { Serdes } from '../serde/index.ts';
import { compile } from './compile.ts';
import { describeMermaid } from './describe-mermaid.ts';
import { describeText } from './describe-text.ts';
import { eraseSerde, eraseTimestamp } from './erase.ts';
import { TopologyGraph } from './graph.ts';
import { GlobalTableHandle } from './global-table.ts';
import { checkAppId, checkStoreName, checkTopicName } from './names.ts';
import { materialize, tombstones } from './table-node.ts';
import type { Plan } from './plan.ts';
import type { SourceOptions, Stream } from './stream.ts';
import type { GlobalTable, GlobalTableOptions, Table, TableOptions } from './stream.ts';
import { StreamNode } from './stream-node.ts';

/** A compiled topology: what a worker runs, and how to show it. */
export interface Topology {
  readonly appId: string;
  readonly plan: Plan;
  /** Text in the shape of Kafka Streams' TopologyDescription, and a Mermaid flowchart. */
  describe(): { text: string; mermaid: string };
}

/** Builds a topology: read topics with stream(), chain operators, then build(). */
export interface TopologyBuilder {
  readonly appId: string;
  /**
   * A stream of the records of one topic, decoded by the serdes; `options.timestamp` gives the
   * event time (default: the Kafka record's timestamp).
   */
  stream<K, V>(topic: string, serdes: Serdes<K, V>, options?: SourceOptions<K, V>): Stream<K, V>;
  /**
   * A table of the latest value per key of a (compacted) topic; a null value deletes the key.
   * Its store restores from the topic itself.
   */
  table<K, V>(topic: string, serdes: Serdes<K, V>, options: TableOptions<K, V>): Table<K, V>;
  /** A table every task sees whole (all partitions of the topic), for joinGlobal(). */
  globalTable<K, V>(
    topic: string,
    serdes: Serdes<K, V>,
    options: GlobalTableOptions<K, V>,
  ): GlobalTable<K, V>;
  /**
   * Checks the topology (unique names, at least one source, topics) and compiles it. Each call
   * compiles what has been built so far into a fresh plan.
   */
  build(): Topology;
}

/**
 * Starts a topology for an application. The application id names the consumer group and
 * prefixes every internal topic, so it must be usable in a Kafka topic name.
 */
export function topology(appId: string): TopologyBuilder {
  checkAppId(appId);
  const graph = new TopologyGraph(appId);
  return {
    appId,
    stream<K, V>(topic: string, serdes: Serdes<K, V>, options: SourceOptions<K, V> = {}) {
      checkTopicName(topic, 'source topic');
      const { timestamp } = options;
      const index = graph.add(
        {
          kind: 'source',
          topics: [topic],
          key: eraseSerde(serdes.key),
          value: eraseSerde(serdes.value),
          internal: false,
          ...(timestamp === undefined ? {} : { timestamp: eraseTimestamp(timestamp, topic) }),
        },
        [],
        options,
      );
      return new StreamNode<K, V>(graph, index);
    },
    table<K, V>(topic: string, serdes: Serdes<K, V>, options: TableOptions<K, V>): Table<K, V> {
      checkTopicName(topic, 'table topic');
      const name = options.name ?? graph.nextName('table', options.store);
      checkStoreName(options.store, name);
      const key = eraseSerde(serdes.key);
      const value = tombstones(eraseSerde(serdes.value));
      const { timestamp } = options;
      const source = graph.add(
        {
          kind: 'source',
          topics: [topic],
          key,
          value,
          internal: false,
          ...(timestamp === undefined ? {} : { timestamp: eraseTimestamp(timestamp, topic) }),
        },
        [],
        { name: `${name}-source`, onError: options.onError },
      );
      // The store restores from the topic it reads: no changelog topic of its own.
      const store = { name: options.store, changelogTopic: topic, source: { key, value } };
      const streamAt = <K2, V2>(index: number): Stream<K2, V2> =>
        new StreamNode<K2, V2>(graph, index);
      return materialize({ graph, streamAt }, source, store, key, {
        name,
        onError: options.onError,
      }) as unknown as Table<K, V>;
    },
    globalTable<K, V>(
      topic: string,
      serdes: Serdes<K, V>,
      options: GlobalTableOptions<K, V>,
    ): GlobalTable<K, V> {
      checkTopicName(topic, 'global table topic');
      checkStoreName(options.store, `global table '${options.store}'`);
      const key = eraseSerde(serdes.key);
      graph.globalTables.push({
        store: options.store,
        topic,
        key,
        value: tombstones(eraseSerde(serdes.value)),
      });
      return new GlobalTableHandle<K, V>(graph, options.store, {
        kind: 'global',
        store: options.store,
        key,
        topic,
      });
    },
    build() {
      const plan = compile(graph);
      return {
        appId,
        plan,
        describe: () => ({ text: describeText(plan), mermaid: describeMermaid(plan) }),
      };
    },
  };
}
