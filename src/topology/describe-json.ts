import type { JoinOp, Plan, PlanNode, TableOp, WindowSpec } from './plan.ts';

/** A plan node as data: what it is and where it connects, without its functions and serdes. */
export interface NodeDescription {
  name: string;
  /**
   * The node's kind; a stateful node's label (`process`, `aggregate`, `dedup`), or a table or
   * join node's label and operation (`table-materialize`, `join-lookup`, ...).
   */
  kind:
    | PlanNode['kind']
    | 'aggregate'
    | 'dedup'
    | `table-${TableOp['type']}`
    | `join-${JoinOp['type']}`;
  children: string[];
  onError: PlanNode['onError'];
  topics?: string[];
  topic?: string;
  store?: string;
  /** A processor's stores (its timer store included). */
  stores?: string[];
  /** An external sink's name. */
  sink?: string;
  window?: WindowSpec;
  emit?: 'final' | 'updates';
}

export interface PlanDescription {
  appId: string;
  subtopologies: { id: number; nodes: NodeDescription[]; stores: string[] }[];
  sourceTopics: string[];
  sinkTopics: string[];
  internalTopics: { name: string; kind: string; partitionsFrom: string[] }[];
  dlqTopic: string;
}

function node(n: PlanNode): NodeDescription {
  const base = { name: n.name, kind: n.kind, children: [...n.children], onError: n.onError };
  switch (n.kind) {
    case 'source':
      return { ...base, topics: [...n.topics] };
    case 'sink':
      return { ...base, topic: n.topic };
    case 'external':
      return { ...base, sink: n.sink.name };
    case 'process': {
      const store = n.stores[0]?.name ?? '';
      if (n.label === 'dedup') return { ...base, kind: 'dedup', store };
      if (n.label === 'aggregate') {
        const windowed = n.window === undefined ? {} : { window: n.window, emit: n.emit };
        return { ...base, kind: 'aggregate', store, ...windowed };
      }
      const stores = [...n.stores.map((s) => s.name), ...(n.connected ?? []), ...(n.globals ?? [])];
      const kind: NodeDescription['kind'] =
        n.label === 'table'
          ? `table-${n.op.type}`
          : n.label === 'join'
            ? `join-${n.op.type}`
            : n.kind;
      return stores.length === 0 ? { ...base, kind } : { ...base, kind, stores };
    }
    default:
      return base;
  }
}

/** The plan as JSON-ready data (`tributary describe --format json`). */
export function describeJson(plan: Plan): PlanDescription {
  return {
    appId: plan.appId,
    subtopologies: plan.subtopologies.map((s) => ({
      id: s.id,
      nodes: s.nodes.map(node),
      stores: s.stores.map((store) => store.name),
    })),
    sourceTopics: [...plan.sourceTopics],
    sinkTopics: [...plan.sinkTopics],
    internalTopics: plan.internalTopics.map((t) => ({
      name: t.name,
      kind: t.kind,
      partitionsFrom: [...t.partitionsFrom],
    })),
    dlqTopic: plan.dlqTopic,
  };
}
