import { TributaryError } from '../core/index.ts';
import type { TopologyGraph } from './graph.ts';
import { partitionKeySerde } from './grouped-stream.ts';
import type { AnyJoiner, AnySerde, ErrorPolicy, TableView } from './plan.ts';
import type { JoinWindow } from './stream.ts';
import { storeTopic } from './table-node.ts';

/** The name and error policy every join node takes. */
interface JoinNaming {
  name: string;
  onError: ErrorPolicy | undefined;
}

/**
 * Adds a stream-table or stream-global-table join after `parent`: a node that looks up the
 * table's view (connected to its stores, or to the global table) per record.
 */
export function addLookupJoin(
  graph: TopologyGraph,
  parent: number,
  lookup: {
    view: TableView;
    join: 'inner' | 'left';
    joiner: AnyJoiner;
    keyOf?: (key: unknown, value: unknown) => unknown;
    connected?: readonly string[];
    globals?: readonly string[];
  },
  naming: JoinNaming,
): number {
  return graph.add(
    {
      kind: 'process',
      label: 'join',
      op: {
        type: 'lookup',
        join: lookup.join,
        view: lookup.view,
        keyOf: lookup.keyOf,
        joiner: lookup.joiner,
      },
      stores: [],
      ...(lookup.connected === undefined ? {} : { connected: [...lookup.connected] }),
      ...(lookup.globals === undefined ? {} : { globals: [...lookup.globals] }),
    },
    [parent],
    naming,
  );
}

const streamJoinUse = {
  step: 'a stream-stream join',
  fix: 'joined in different tasks; keyBy(fn, { key, value }) first to repartition by the new key',
};

function checkJoinWindow(window: JoinWindow, name: string): void {
  const ok = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (
    typeof window !== 'object' ||
    window === null ||
    !ok(window.beforeMs) ||
    !ok(window.afterMs) ||
    !ok(window.graceMs)
  ) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `join '${name}' needs a window from joinWindow(difference, { before, after, grace })`,
    );
  }
}

/**
 * Adds a stream-stream join of `left` and `right` within `window`: one node per side, each
 * keeping its side's records in its own store and connected to the other's (so both run in one
 * task per partition), both feeding a merge node named `name`, which is the joined stream.
 * Both streams must still be partitioned by their key (no map, flatMap or process since read).
 */
export function addWindowJoin(
  graph: TopologyGraph,
  sides: { left: number; right: number },
  join: {
    join: 'inner' | 'left' | 'outer';
    joiner: AnyJoiner;
    window: JoinWindow;
    store: string;
  },
  naming: JoinNaming,
): number {
  const { name, onError } = naming;
  checkJoinWindow(join.window, name);
  const key: AnySerde = partitionKeySerde(graph, sides.left, streamJoinUse);
  partitionKeySerde(graph, sides.right, streamJoinUse);
  const stores = { this: `${join.store}-this`, other: `${join.store}-other` };
  const topics = {
    this: storeTopic(graph, stores.this, name),
    other: storeTopic(graph, stores.other, name),
  };
  const window = {
    beforeMs: join.window.beforeMs,
    afterMs: join.window.afterMs,
    graceMs: join.window.graceMs,
  };
  const side = (which: 'this' | 'other', parent: number): number =>
    graph.add(
      {
        kind: 'process',
        label: 'join',
        op: {
          type: 'window',
          join: join.join,
          side: which,
          window,
          joiner: join.joiner,
          key,
          // Keys are encoded as for this side's store on both sides, so they meet.
          topic: topics.this,
          stores,
        },
        stores: [{ name: stores[which], changelogTopic: topics[which], kind: 'key-value' }],
        connected: [which === 'this' ? stores.other : stores.this],
      },
      [parent],
      { name: `${name}-${which}`, onError },
    );
  const mine = side('this', sides.left);
  const theirs = side('other', sides.right);
  return graph.add({ kind: 'merge' }, [mine, theirs], naming);
}
