import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { json, string } from '../../src/serde/index.ts';
import { counter, topology, withAppId } from '../../src/topology/index.ts';

describe('withAppId', () => {
  it('renames the group and every internal topic, and no user topic', () => {
    const t = topology('orders');
    t.stream('orders-in', { key: string(), value: json<{ customer: string }>() })
      .groupBy((_k, v) => v.customer, {
        name: 'by-customer',
        key: string(),
        value: json<{ customer: string }>(),
      })
      .aggregate(counter(), { store: 'counts', name: 'count' })
      .to('orders-out', { key: string(), value: json<number>() });
    const original = t.build();
    const renamed = withAppId(original, 'orders-eu');
    const { plan } = renamed;
    assert.equal(plan.appId, 'orders-eu');
    assert.deepEqual(plan.internalTopics.map((x) => x.name).sort(), [
      'orders-eu-by-customer-repartition',
      'orders-eu-counts-changelog',
      'orders-eu-dlq',
    ]);
    assert.deepEqual(plan.sourceTopics, ['orders-in']);
    assert.deepEqual(plan.sinkTopics, ['orders-out']);
    const topics = plan.subtopologies.flatMap((s) => [...s.sourceTopics, ...s.sinkTopics]);
    assert.ok(topics.includes('orders-eu-by-customer-repartition'));
    assert.ok(!JSON.stringify(topics).includes('orders-by-customer'));
    assert.deepEqual(
      plan.subtopologies.flatMap((s) => s.stores.map((x) => x.changelogTopic)),
      ['orders-eu-counts-changelog'],
    );
    assert.match(renamed.describe().text, /^Topology: orders-eu/);
    // The original is untouched.
    assert.equal(original.plan.dlqTopic, 'orders-dlq');
    assert.throws(
      () => withAppId(original, 'not valid'),
      /application id 'not valid' is not valid/,
    );
  });
});
