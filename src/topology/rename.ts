import { describeMermaid } from './describe-mermaid.ts';
import { describeText } from './describe-text.ts';
import { checkAppId } from './names.ts';
import type { Plan, PlanNode, SubTopology } from './plan.ts';
import type { Topology } from './topology.ts';

/**
 * The same topology under another application id, as Kafka Streams takes `application.id` from
 * its configuration: the consumer group and every internal topic (repartition, dead-letter,
 * changelog: `<appId>-...`) follow the new id; user topics do not change.
 */
export function withAppId(topology: Topology, appId: string): Topology {
  if (appId === topology.appId) return topology;
  checkAppId(appId);
  const plan = renamePlan(topology.plan, appId);
  return {
    appId,
    plan,
    describe: () => ({ text: describeText(plan), mermaid: describeMermaid(plan) }),
  };
}

function renamePlan(plan: Plan, appId: string): Plan {
  const prefix = `${plan.appId}-`;
  const internal = new Set(plan.internalTopics.map((t) => t.name));
  const topic = (name: string): string =>
    internal.has(name) && name.startsWith(prefix) ? `${appId}-${name.slice(prefix.length)}` : name;
  const node = (n: PlanNode): PlanNode => {
    switch (n.kind) {
      case 'source':
        return { ...n, topics: n.topics.map(topic) };
      case 'sink':
        return { ...n, topic: topic(n.topic) };
      case 'process':
        return {
          ...n,
          stores: n.stores.map((s) => ({ ...s, changelogTopic: topic(s.changelogTopic) })),
        };
      default:
        return n;
    }
  };
  const sub = (s: SubTopology): SubTopology => ({
    ...s,
    nodes: s.nodes.map(node),
    sourceTopics: s.sourceTopics.map(topic),
    sinkTopics: s.sinkTopics.map(topic),
    stores: s.stores.map((store) => ({ ...store, changelogTopic: topic(store.changelogTopic) })),
  });
  return {
    appId,
    subtopologies: plan.subtopologies.map(sub),
    sourceTopics: plan.sourceTopics,
    sinkTopics: plan.sinkTopics,
    globalTables: plan.globalTables,
    internalTopics: plan.internalTopics.map((t) => ({
      ...t,
      name: topic(t.name),
      partitionsFrom: t.partitionsFrom.map(topic),
    })),
    dlqTopic: topic(plan.dlqTopic),
  };
}
