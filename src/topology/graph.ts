import { checkOperatorName } from './names.ts';
import { defaultErrorPolicy } from './plan.ts';
import type { ErrorPolicy, GlobalTableSpec, PlanNode } from './plan.ts';

type DistributiveOmit<T, Key extends PropertyKey> = T extends unknown ? Omit<T, Key> : never;

/** A plan node as the DSL records it: it knows its parents when created, its children later. */
export type NodeSpec = DistributiveOmit<PlanNode, 'children'>;

/** What an operator call says about its node, apart from the name and error policy. */
export type NodeBody = DistributiveOmit<PlanNode, 'children' | 'name' | 'onError'>;

export interface GraphNode {
  /** Position in creation order: the number in derived names and in error messages. */
  readonly index: number;
  readonly parents: readonly number[];
  readonly spec: NodeSpec;
}

/** `mapValues` -> `map-values`: derived names are kebab-case like topic names. */
function kebab(kind: string): string {
  return kind.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * The graph of named nodes a topology builder grows, in creation order. Parents are always
 * created before their children, so creation order is also a topological order; compile()
 * relies on that.
 */
export class TopologyGraph {
  readonly nodes: GraphNode[] = [];
  /** The global tables read (outside the graph: no task consumes their topics). */
  readonly globalTables: GlobalTableSpec[] = [];

  constructor(readonly appId: string) {}

  /**
   * Adds a node and returns its index. The name is the explicit one if given, else derived from
   * the kind and the node's position (`filter-3`), so the same code always yields the same names.
   * Duplicate names are reported by compile(), which sees both operators.
   */
  add(
    body: NodeBody,
    parents: readonly number[],
    options: { name?: string | undefined; onError?: ErrorPolicy | undefined },
  ): number {
    const index = this.nodes.length;
    const name = this.nextName(body.kind, options.name);
    checkOperatorName(name);
    const spec: NodeSpec = { ...body, name, onError: options.onError ?? defaultErrorPolicy };
    this.nodes.push({ index, parents, spec });
    return index;
  }

  /** The name the next node added would get, so a caller can check what derives from it first. */
  nextName(kind: string, explicit: string | undefined): string {
    return explicit ?? `${kebab(kind)}-${this.nodes.length}`;
  }

  nameOf(index: number): string {
    return this.node(index).spec.name;
  }

  node(index: number): GraphNode {
    const node = this.nodes[index];
    if (node === undefined) throw new RangeError(`no node #${index} in the topology graph`);
    return node;
  }
}
