import { storesOf } from './plan.ts';
import type { Plan } from './plan.ts';

/**
 * Mermaid ids from names: only letters, digits and `_` are safe in every position, so other
 * characters become `_`; a prefix keeps operators and topics apart, and a numeric suffix keeps
 * two names that sanitize alike (`a.b`, `a-b`) apart.
 */
function idMaker(prefix: string): (name: string) => string {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  return (name) => {
    const known = ids.get(name);
    if (known !== undefined) return known;
    const base = `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    ids.set(name, id);
    taken.add(id);
    return id;
  };
}

/**
 * The plan as a Mermaid flowchart: one subgraph per sub-topology, topics as cylinders outside
 * them, so a repartition topic shows where one sub-topology feeds the next; stores as cylinders
 * inside their sub-topology. Stable order: the plan's order, nothing random.
 */
export function describeMermaid(plan: Plan): string {
  const nodeId = idMaker('op');
  const topicId = idMaker('topic');
  const storeId = idMaker('store');
  // Each topic is declared once, where it is first met.
  const topicLines: string[] = [];
  const declared = new Set<string>();
  const topic = (name: string): string => {
    if (!declared.has(name)) {
      declared.add(name);
      topicLines.push(`  ${topicId(name)}[("${name}")]`);
    }
    return topicId(name);
  };

  const externalId = idMaker('ext');
  const externalLines: string[] = [];
  const graphLines: string[] = [];
  const edges: string[] = [];
  for (const sub of plan.subtopologies) {
    graphLines.push(`  subgraph sub${sub.id}["Sub-topology ${sub.id}"]`);
    for (const node of sub.nodes) {
      const id = nodeId(node.name);
      const kind = node.kind === 'process' ? node.label : node.kind;
      graphLines.push(`    ${id}["${node.name}<br/>${kind}"]`);
      if (node.kind === 'source')
        for (const t of node.topics) edges.push(`  ${topic(t)} --> ${id}`);
      for (const child of node.children) edges.push(`  ${id} --> ${nodeId(child)}`);
      if (node.kind === 'sink') edges.push(`  ${id} --> ${topic(node.topic)}`);
      if (node.kind === 'external') {
        const target = externalId(node.sink.name);
        externalLines.push(`  ${target}[/"${node.sink.name}"/]`);
        edges.push(`  ${id} --> ${target}`);
      }
      for (const { name } of storesOf(node)) {
        // A store is drawn in its sub-topology, joined to its operator by a dotted line.
        const store = storeId(name);
        graphLines.push(`    ${store}[("${name}<br/>store")]`);
        edges.push(`  ${id} -.- ${store}`);
      }
    }
    graphLines.push('  end');
  }
  return ['flowchart LR', ...topicLines, ...graphLines, ...externalLines, ...edges].join('\n');
}
