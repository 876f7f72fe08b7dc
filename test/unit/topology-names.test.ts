import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import { string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';

const serdes = { key: string(), value: string() };

const topologyInvalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof TributaryError &&
  error.code === 'TOPOLOGY_INVALID' &&
  pattern.test(error.message);

describe('topology names', () => {
  it('accepts application ids and topics made of Kafka topic characters', () => {
    const t = topology('Weather_app.v2-prod');
    t.stream('in.readings_v2-x', serdes).to('x'.repeat(249), serdes);
    assert.equal(t.build().plan.dlqTopic, 'Weather_app.v2-prod-dlq');
  });

  for (const appId of ['', 'weather app', 'wetter/ü', 'a'.repeat(246)]) {
    it(`rejects the application id ${JSON.stringify(appId.slice(0, 20))}`, () => {
      assert.throws(() => topology(appId), topologyInvalid(/application id/));
    });
  }

  for (const topic of ['', 'has space', 'a:b', '.', '..', 'x'.repeat(250)]) {
    it(`rejects the topic name ${JSON.stringify(topic.slice(0, 20))} for sources and sinks`, () => {
      const t = topology('app');
      assert.throws(() => t.stream(topic, serdes), topologyInvalid(/source topic .* not a valid/));
      const s = t.stream('ok', serdes);
      assert.throws(() => s.to(topic, serdes), topologyInvalid(/sink topic .* not a valid/));
    });
  }

  it('rejects operator names that cannot be part of a topic name', () => {
    const s = topology('app').stream('in', serdes);
    assert.throws(() => s.peek(() => {}, { name: 'my step' }), topologyInvalid(/operator name/));
    assert.throws(() => s.peek(() => {}, { name: '' }), topologyInvalid(/operator name/));
  });

  it('rejects a keyBy name that makes the repartition topic too long', () => {
    const s = topology('app').stream('in', serdes);
    const name = 'k'.repeat(240);
    assert.throws(
      () => s.keyBy((key) => key, { name, ...serdes }),
      topologyInvalid(/repartition topic/),
    );
  });
});
