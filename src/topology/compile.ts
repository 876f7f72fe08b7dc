import { TributaryError } from '../core/index.ts';
import type { GraphNode, NodeSpec, TopologyGraph } from './graph.ts';
import { dlqTopic } from './names.ts';
import { storesOf } from './plan.ts';
import type { InternalTopic, Plan, PlanNode, SubTopology } from './plan.ts';

/** What a node is, in messages: its kind, or a stateful node's label (`aggregate`, `dedup`). */
const kindOf = (spec: NodeSpec): string => (spec.kind === 'process' ? spec.label : spec.kind);

const describeNode = (node: GraphNode): string => `${kindOf(node.spec)} (operator #${node.index})`;

/** Sources and sinks of repartition topics, which the topology made, not the user. */
const isInternal = (spec: NodeSpec): boolean =>
  (spec.kind === 'source' || spec.kind === 'sink') && spec.internal;

const unique = (items: Iterable<string>): string[] => [...new Set(items)];

/** Each name once; the error names both operators, so the user finds them. */
function checkNames(nodes: readonly GraphNode[]): void {
  const byName = new Map<string, GraphNode>();
  for (const node of nodes) {
    const first = byName.get(node.spec.name);
    if (first !== undefined) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `operator name '${node.spec.name}' is used twice: by ${describeNode(first)} and ${describeNode(node)}`,
      );
    }
    byName.set(node.spec.name, node);
  }
}

/**
 * A topic is read by one source only (a second would make two tasks consume the same records),
 * and user topics never take the name of an internal one.
 */
function checkTopics(graph: TopologyGraph, internal: ReadonlySet<string>): void {
  const readers = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    const { spec } = node;
    const topics = spec.kind === 'source' ? spec.topics : spec.kind === 'sink' ? [spec.topic] : [];
    for (const topic of topics) {
      if (!isInternal(spec) && internal.has(topic)) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `topic '${topic}' of ${spec.kind} '${spec.name}' is an internal topic of application '${graph.appId}'`,
        );
      }
      if (spec.kind !== 'source') continue;
      const other = readers.get(topic);
      if (other !== undefined) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `topic '${topic}' is read by two sources: '${other.spec.name}' (operator #${other.index}) and '${spec.name}' (operator #${node.index}); read it once and share the stream`,
        );
      }
      readers.set(topic, node);
    }
  }
  for (const { topic, store } of graph.globalTables) {
    const reader = readers.get(topic);
    if (reader !== undefined || internal.has(topic)) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `topic '${topic}' of global table '${store}' is ${reader === undefined ? 'an internal topic' : `also read by source '${reader.spec.name}'`}; a global table's topic is read by every worker outside the consumer group, so no task may read it`,
      );
    }
  }
}

/**
 * The sub-topology of each node: connected components over parent edges. Repartition topics
 * are no edges (their source has no parent), which is exactly where the graph is cut. Because
 * parents precede children, a component's first node is its first source, so numbering
 * components as they are first met gives ids in the order of their first source.
 */
function components(nodes: readonly GraphNode[]): number[] {
  const root = nodes.map((node) => node.index);
  const find = (i: number): number => {
    let r = i;
    while (root[r] !== r) r = root[r] ?? r;
    root[i] = r;
    return r;
  };
  const union = (x: number, y: number): void => {
    const [a, b] = [find(x), find(y)];
    root[Math.max(a, b)] = Math.min(a, b);
  };
  // A node using another's store (a join and a table's store) runs in the same tasks as the
  // owner, so their inputs meet per partition: one sub-topology, co-partitioned.
  const owners = new Map<string, number>();
  for (const node of nodes)
    for (const store of storesOf(node.spec)) owners.set(store.name, node.index);
  for (const node of nodes) {
    for (const parent of node.parents) union(node.index, parent);
    const { spec } = node;
    for (const store of spec.kind === 'process' ? (spec.connected ?? []) : []) {
      const owner = owners.get(store);
      if (owner === undefined)
        throw new RangeError(`node '${spec.name}' uses unknown store ${store}`);
      union(node.index, owner);
    }
  }
  const ids = new Map<number, number>();
  return nodes.map((node) => {
    const r = find(node.index);
    const id = ids.get(r) ?? ids.size;
    ids.set(r, id);
    return id;
  });
}

/**
 * The user source topics upstream of each node, through repartition topics (a repartition
 * source inherits what is upstream of its sink), each list in the order of `sourceTopics`.
 */
function upstreamTopics(nodes: readonly GraphNode[], sourceTopics: string[]): string[][] {
  const upstream: Set<string>[] = [];
  const viaTopic = new Map<string, Set<string>>();
  for (const node of nodes) {
    const { spec } = node;
    const topics = new Set<string>();
    if (spec.kind === 'source') {
      for (const topic of spec.topics) {
        for (const t of spec.internal ? (viaTopic.get(topic) ?? []) : [topic]) topics.add(t);
      }
    }
    for (const parent of node.parents) for (const t of upstream[parent] ?? []) topics.add(t);
    upstream[node.index] = topics;
    if (spec.kind === 'sink' && spec.internal) viaTopic.set(spec.topic, topics);
  }
  return upstream.map((topics) => sourceTopics.filter((t) => topics.has(t)));
}

/** For each repartition topic, the user source topics upstream of it, through earlier ones. */
function repartitionTopics(nodes: readonly GraphNode[], upstream: string[][]): InternalTopic[] {
  const found = new Map<string, string[]>();
  for (const node of nodes) {
    const { spec } = node;
    if (spec.kind === 'sink' && spec.internal) found.set(spec.topic, upstream[node.index] ?? []);
  }
  return [...found].map(([name, partitionsFrom]) => ({
    name,
    kind: 'repartition' as const,
    partitionsFrom,
  }));
}

/**
 * One changelog topic per store. A store has a partition per task of its sub-topology, so its
 * changelog takes its partition count from the user topics upstream of the whole sub-topology.
 */
function changelogTopics(
  nodes: readonly GraphNode[],
  componentOf: readonly number[],
  upstream: string[][],
  sourceTopics: string[],
): InternalTopic[] {
  const ofComponent = new Map<number, Set<string>>();
  for (const node of nodes) {
    const id = componentOf[node.index] ?? 0;
    const topics = ofComponent.get(id) ?? new Set<string>();
    for (const t of upstream[node.index] ?? []) topics.add(t);
    ofComponent.set(id, topics);
  }
  return nodes.flatMap(({ spec, index }): InternalTopic[] => {
    const topics = ofComponent.get(componentOf[index] ?? 0) ?? new Set<string>();
    // A table's store restored from the topic it reads has no changelog topic of its own.
    return storesOf(spec)
      .filter((store) => store.source === undefined)
      .map((store) => ({
        name: store.changelogTopic,
        kind: 'changelog',
        partitionsFrom: sourceTopics.filter((t) => topics.has(t)),
      }));
  });
}

/** Each store once: two operators writing one store would corrupt each other's state. */
function checkStores(nodes: readonly GraphNode[], globals: readonly string[]): void {
  const byStore = new Map<string, GraphNode>();
  const global = new Set<string>();
  for (const store of globals) {
    if (global.has(store)) {
      throw new TributaryError(
        'TOPOLOGY_INVALID',
        `global table store name '${store}' is used twice`,
      );
    }
    global.add(store);
  }
  for (const node of nodes) {
    for (const { name: store } of storesOf(node.spec)) {
      if (global.has(store)) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `store name '${store}' of ${kindOf(node.spec)} '${node.spec.name}' is also a global table's store; each store needs its own name`,
        );
      }
      const first = byStore.get(store);
      if (first !== undefined) {
        throw new TributaryError(
          'TOPOLOGY_INVALID',
          `store name '${store}' is used twice: by ${kindOf(first.spec)} '${first.spec.name}' (operator #${first.index}) and ${kindOf(node.spec)} '${node.spec.name}' (operator #${node.index}); each stateful operator needs its own store`,
        );
      }
      byStore.set(store, node);
    }
  }
}

/** A fresh node for each build, so a plan never shares a list with the builder or another plan. */
function planNode(spec: NodeSpec): PlanNode {
  if (spec.kind === 'source') return { ...spec, topics: [...spec.topics], children: [] };
  if (spec.kind === 'branch') return { ...spec, predicates: [...spec.predicates], children: [] };
  if (spec.kind === 'process') {
    const stores = spec.stores.map((s) => ({ ...s }));
    const lists = {
      ...(spec.connected === undefined ? {} : { connected: [...spec.connected] }),
      ...(spec.globals === undefined ? {} : { globals: [...spec.globals] }),
    };
    if (spec.label === 'aggregate') {
      // The window is shared, not copied: a kind's windowStarts may live on its prototype.
      return { ...spec, stores, ...lists, children: [] };
    }
    return { ...spec, stores, ...lists, children: [] };
  }
  return { ...spec, children: [] };
}

/** Compiles the graph a topology builder grew into the plan the runtime runs. */
export function compile(graph: TopologyGraph): Plan {
  const { appId, nodes } = graph;
  if (!nodes.some((node) => node.spec.kind === 'source')) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `topology '${appId}' has no source: read a topic with stream(topic, serdes)`,
    );
  }
  // Stores first: two aggregations named after one store would otherwise be reported as a
  // duplicate operator name, which hides the cause.
  checkStores(
    nodes,
    graph.globalTables.map((g) => g.store),
  );
  checkNames(nodes);

  const user = nodes.map((node) => node.spec).filter((spec) => !isInternal(spec));
  const sourceTopics = unique(user.flatMap((s) => (s.kind === 'source' ? s.topics : [])));
  const sinkTopics = unique(user.flatMap((s) => (s.kind === 'sink' ? [s.topic] : [])));
  const dlq = dlqTopic(appId);
  const upstream = upstreamTopics(nodes, sourceTopics);
  const componentOf = components(nodes);
  const internalTopics: InternalTopic[] = [
    ...repartitionTopics(nodes, upstream),
    { name: dlq, kind: 'dlq', partitionsFrom: [...sourceTopics] },
    ...changelogTopics(nodes, componentOf, upstream, sourceTopics),
  ];
  checkTopics(graph, new Set(internalTopics.map((topic) => topic.name)));

  // Parents precede children, so each children list comes out in creation order; for a branch
  // that is the order of its predicates.
  const planNodes = nodes.map((node) => planNode(node.spec));
  for (const node of nodes) {
    for (const parent of node.parents) planNodes[parent]?.children.push(node.spec.name);
  }

  const subtopologies: SubTopology[] = [];
  planNodes.forEach((node, i) => {
    const id = componentOf[i] ?? 0;
    const sub = (subtopologies[id] ??= {
      id,
      sources: [],
      nodes: [],
      sourceTopics: [],
      sinkTopics: [],
      stores: [],
    });
    // Creation order is a topological order (parents first) and is the same on every run.
    sub.nodes.push(node);
    if (node.kind === 'source') {
      sub.sources.push(node.name);
      sub.sourceTopics = unique([...sub.sourceTopics, ...node.topics]);
    }
    if (node.kind === 'sink') sub.sinkTopics = unique([...sub.sinkTopics, node.topic]);
    for (const store of storesOf(node)) sub.stores.push({ ...store });
  });

  return {
    appId,
    subtopologies,
    sourceTopics,
    sinkTopics,
    internalTopics,
    dlqTopic: dlq,
    globalTables: [...graph.globalTables],
  };
}
