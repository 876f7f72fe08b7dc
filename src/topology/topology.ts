import type { Serdes } from '../serde/index.ts';
import { compile } from './compile.ts';
import { describeMermaid } from './describe-mermaid.ts';
import { describeText } from './describe-text.ts';
import { eraseSerde, eraseTimestamp } from './erase.ts';
import { TopologyGraph } from './graph.ts';
import { checkAppId, checkTopicName } from './names.ts';
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
    table<K, V>(_topic: string, _serdes: Serdes<K, V>, _options: TableOptions<K, V>): Table<K, V> {
      throw new Error('table(): not implemented yet');
    },
    globalTable<K, V>(
      _topic: string,
      _serdes: Serdes<K, V>,
      _options: GlobalTableOptions<K, V>,
    ): GlobalTable<K, V> {
      throw new Error('globalTable(): not implemented yet');
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
