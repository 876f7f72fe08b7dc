import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { internalReplication } from '../../src/runtime/index.ts';

describe('replication of internal topics', () => {
  it("'auto' takes min(3, brokers) replicas and min(2, replicas) in sync", () => {
    // Expected values written out per cluster size, not computed by the rule under test.
    const expected: Record<number, [number, number]> = {
      1: [1, 1],
      2: [2, 2],
      3: [3, 2],
      5: [3, 2],
      12: [3, 2],
    };
    for (const [brokers, [replicas, inSync]] of Object.entries(expected)) {
      assert.deepEqual(internalReplication('auto', Number(brokers)), {
        replicationFactor: replicas,
        minInsyncReplicas: inSync,
      });
    }
  });

  it('keeps an explicit count the cluster can hold', () => {
    assert.deepEqual(internalReplication(1, 3), { replicationFactor: 1, minInsyncReplicas: 1 });
    assert.deepEqual(internalReplication(5, 6), { replicationFactor: 5, minInsyncReplicas: 2 });
  });

  it('refuses more replicas than brokers, naming the setting', () => {
    assert.throws(
      () => internalReplication(3, 1),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'CONFIG_INVALID' &&
        /TRIBUTARY_REPLICATION_FACTOR is 3 but the Kafka cluster has 1 broker;/.test(error.message),
    );
  });
});
