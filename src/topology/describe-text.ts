import type { AggregateNode, InternalTopic, Plan, PlanNode, ProcessNode } from './plan.ts';
import { windowText } from './windows.ts';

const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

const internalLabel: Record<InternalTopic['kind'], string> = {
  repartition: 'repartition',
  dlq: 'dead letters',
  changelog: 'changelog',
};

/** `store: s, window: tumbling 60000 ms, grace 0 ms`, and emit and idle timeout when set. */
function aggregateDetails(node: AggregateNode): string {
  const parts = [`store: ${node.stores[0]?.name}`];
  if (node.window !== undefined) {
    parts.push(`window: ${windowText(node.window)}`);
    if (node.emit !== 'final') parts.push(`emit: ${node.emit}`);
    if (node.time === 'key') parts.push('time: per key');
    if (node.idleTimeoutMs !== undefined) parts.push(`idle timeout: ${node.idleTimeoutMs} ms`);
  }
  return parts.join(', ');
}

function header(node: PlanNode): string {
  switch (node.kind) {
    case 'source':
      return `Source: ${node.name} (topics: ${node.topics.join(', ')})`;
    case 'sink':
      return `Sink: ${node.name} (topic: ${node.topic})`;
    case 'external':
      return `Sink: ${node.name} (external: ${node.sink.name})`;
    case 'process':
      return `Processor: ${node.name} (${processDetails(node)})`;
    default:
      return `Processor: ${node.name} (${node.kind})`;
  }
}

/** What describe() says of a stateful node: its label, then its stores and parameters. */
function processDetails(node: ProcessNode): string {
  switch (node.label) {
    case 'aggregate':
      return `aggregate, ${aggregateDetails(node)}`;
    case 'dedup':
      return `dedup, store: ${node.stores[0]?.name}, retention: ${node.retentionMs} ms${node.id === undefined ? '' : ', by id'}`;
    case 'table':
    case 'join': {
      const what =
        node.op.type === 'window' || node.op.type === 'table'
          ? `${node.op.join} ${node.op.type}, ${node.op.side}`
          : node.op.type === 'lookup'
            ? `${node.op.join} lookup`
            : node.op.type;
      const stores = [
        ...node.stores.map((st) => st.name),
        ...(node.connected ?? []),
        ...(node.globals ?? []),
      ];
      return `${node.label} (${what})${stores.length === 0 ? '' : `, stores: ${stores.join(', ')}`}`;
    }
    case 'process': {
      const stores = node.stores.filter((st) => st.kind !== 'timers').map((st) => st.name);
      const timers = node.stores.find((st) => st.kind === 'timers');
      const parts = [
        ...(stores.length === 0 ? [] : [`stores: ${stores.join(', ')}`]),
        ...(timers === undefined ? [] : [`timers: ${timers.name}`]),
      ];
      return `process${parts.map((p) => `, ${p}`).join('')}`;
    }
  }
}

/**
 * The plan as text, in the shape of Kafka Streams' TopologyDescription: each sub-topology's
 * nodes with `-->` to their children and `<--` from their parents, then the topics.
 */
export function describeText(plan: Plan): string {
  const lines = [`Topology: ${plan.appId}`];
  for (const sub of plan.subtopologies) {
    lines.push(`  Sub-topology ${sub.id}`);
    // Parents are looked up within the sub-topology: no edge crosses one.
    const parents = new Map<string, string[]>();
    for (const node of sub.nodes) {
      for (const child of node.children)
        parents.set(child, [...(parents.get(child) ?? []), node.name]);
    }
    for (const node of sub.nodes) {
      lines.push(`    ${header(node)}`);
      if (node.kind !== 'sink' && node.kind !== 'external')
        lines.push(`      --> ${list(node.children)}`);
      if (node.kind !== 'source') lines.push(`      <-- ${list(parents.get(node.name) ?? [])}`);
    }
  }
  lines.push(`Topics read: ${list(plan.sourceTopics)}`);
  lines.push(`Topics written: ${list(plan.sinkTopics)}`);
  const internal = plan.internalTopics.map((t) => `${t.name} (${internalLabel[t.kind]})`);
  lines.push(`Internal topics: ${list(internal)}`);
  return lines.join('\n');
}
