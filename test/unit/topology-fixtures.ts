import assert from 'node:assert/strict';

import type { Plan, PlanNode } from '../../src/topology/index.ts';

/** The parts of a plan that tests compare: names, kinds and edges, without functions and serdes. */
export function shape(plan: Plan): { id: number; sources: string[]; nodes: string[] }[] {
  return plan.subtopologies.map((sub) => ({
    id: sub.id,
    sources: sub.sources,
    nodes: sub.nodes.map(
      (n) => `${n.name}:${n.kind === 'process' ? n.label : n.kind} -> [${n.children.join(', ')}]`,
    ),
  }));
}

/** The plan node of that name, failing the test when there is none. */
export function node(plan: Plan, name: string): PlanNode {
  const found = plan.subtopologies.flatMap((sub) => sub.nodes).find((n) => n.name === name);
  assert.ok(found, `no node ${name}`);
  return found;
}
