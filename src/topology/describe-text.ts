import type { InternalTopic, Plan, PlanNode } from './plan.ts';
import { windowText } from './windows.ts';

const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

const internalLabel: Record<InternalTopic['kind'], string> = {
  repartition: 'repartition',
  dlq: 'dead letters',
  changelog: 'changelog',
};

/** `store: s, window: tumbling 60000 ms, grace 0 ms`, and emit and idle timeout when set. */
function aggregateDetails(node: Extract<PlanNode, { kind: 'aggregate' }>): string {
  const parts = [`store: ${node.store.name}`];
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
    case 'aggregate':
      return `Processor: ${node.name} (aggregate, ${aggregateDetails(node)})`;
    case 'dedup':
      return `Processor: ${node.name} (dedup, store: ${node.store.name}, retention: ${node.retentionMs} ms${node.id === undefined ? '' : ', by id'})`;
    case 'external':
      return `Sink: ${node.name} (external: ${node.sink.name})`;
    case 'process': {
      const stores = node.stores.filter((st) => st.kind !== 'timers').map((st) => st.name);
      const timers = node.stores.find((st) => st.kind === 'timers');
      const parts = [
        ...(stores.length === 0 ? [] : [`stores: ${stores.join(', ')}`]),
        ...(timers === undefined ? [] : [`timers: ${timers.name}`]),
      ];
      return `Processor: ${node.name} (process${parts.map((p) => `, ${p}`).join('')})`;
    }
    default:
      return `Processor: ${node.name} (${node.kind})`;
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
