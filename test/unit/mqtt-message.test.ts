import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  classifyMessage,
  mqttHeaders,
  payloadFieldKey,
  payloadFieldTimestamp,
  topicLevelKey,
  topicMatches,
  validateTopicFilter,
  wildcardKey,
} from '../../src/connectors/mqtt/index.ts';
import { deadLetterHeaders } from '../../src/runtime/dead-letter.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('MQTT topic filters', () => {
  it('matches + as one level and # as the rest', () => {
    assert.ok(topicMatches('sensors/+/data', 'sensors/s-1/data'));
    assert.ok(!topicMatches('sensors/+/data', 'sensors/s-1/status'));
    assert.ok(!topicMatches('sensors/+/data', 'sensors/a/b/data'));
    assert.ok(topicMatches('sensors/#', 'sensors/a/b/data'));
    assert.ok(topicMatches('sensors/#', 'sensors'));
    assert.ok(!topicMatches('sensors/+', 'sensors'));
    assert.ok(topicMatches('$share/workers/sensors/+/data', 'sensors/s-1/data'));
    assert.ok(!topicMatches('+/status', '$SYS/status'), 'wildcards skip $ topics');
  });

  it('refuses filters that are not MQTT topic filters, naming them', () => {
    for (const bad of ['', 'sensors/#/data', 'sensors/a+/data', 'sensors/x#', '$share/g']) {
      assert.throws(
        () => validateTopicFilter(bad),
        (error: Error) => {
          assert.match(error.message, /not an MQTT topic filter/);
          return true;
        },
      );
    }
    validateTopicFilter('sensors/+/data');
    validateTopicFilter('#');
  });
});

describe('MQTT record keys', () => {
  it('takes the level at the first + of the matching filter by default', () => {
    const key = wildcardKey(['plant/+/status', 'sensors/+/data']);
    assert.equal(key('sensors/greenhouse-3/data', undefined), 'greenhouse-3');
    assert.equal(key('plant/p7/status', undefined), 'p7');
  });

  it('takes the levels under # for a filter without +, and the topic when nothing matches', () => {
    const key = wildcardKey(['site/#']);
    assert.equal(key('site/hall-2/s-9', undefined), 'hall-2/s-9');
    assert.equal(key('elsewhere/x', undefined), 'elsewhere/x');
  });

  it('can take a topic level or a payload field instead', () => {
    assert.equal(topicLevelKey(1)('sensors/s-4/data', undefined), 's-4');
    assert.equal(topicLevelKey(-1)('a/b/c', undefined), 'c');
    const field = payloadFieldKey('sensorId');
    assert.equal(field('t', { sensorId: 's-5' }), 's-5');
    assert.equal(field('t', { sensorId: 42 }), '42');
    assert.equal(field('t', { sensorId: { nested: true } }), undefined);
    assert.equal(field('t', undefined), undefined);
  });

  it('reads the event time from the payload, in ms or ISO-8601', () => {
    const ts = payloadFieldTimestamp();
    assert.equal(ts({ timestamp: 1_700_000_000_000 }), 1_700_000_000_000);
    assert.equal(ts({ timestamp: '2026-01-01T00:00:00Z' }), Date.UTC(2026, 0, 1));
    assert.equal(ts({ timestamp: 'yesterday' }), undefined);
    assert.equal(ts({ timestamp: -5 }), undefined);
    assert.equal(ts({}), undefined);
  });
});

describe('MQTT message classification', () => {
  const key = wildcardKey(['sensors/+/data']);
  const topic = 'sensors/s-1/data';

  it('passes a UTF-8 JSON object with a key, whatever its fields', () => {
    const result = classifyMessage(topic, bytes('{"temperature":"hot"}'), key);
    assert.deepEqual(result, { kind: 'record', key: 's-1', payload: { temperature: 'hot' } });
  });

  it('dead-letters bytes that are not UTF-8', () => {
    const result = classifyMessage(topic, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), key);
    assert.equal(result.kind, 'malformed');
    assert.equal(result.kind === 'malformed' && result.code, 'MQTT_PAYLOAD_NOT_UTF8');
    assert.equal(result.kind === 'malformed' && result.key, 's-1', 'the topic still gives a key');
  });

  it('dead-letters text that is not JSON, with the parser message', () => {
    const result = classifyMessage(topic, bytes('temperature=21.5'), key);
    assert.equal(result.kind === 'malformed' && result.code, 'MQTT_PAYLOAD_NOT_JSON');
    assert.match(result.kind === 'malformed' ? result.message : '', /^payload is not JSON: /);
  });

  it('dead-letters JSON that is not an object', () => {
    for (const [text, what] of [
      ['[1,2]', 'an array'],
      ['21.5', 'number'],
      ['null', 'null'],
      ['"x"', 'string'],
    ] as const) {
      const result = classifyMessage(topic, bytes(text), key);
      assert.equal(result.kind === 'malformed' && result.code, 'MQTT_PAYLOAD_NOT_OBJECT', text);
      assert.match(result.kind === 'malformed' ? result.message : '', new RegExp(what));
    }
  });

  it('dead-letters an object without a key', () => {
    const result = classifyMessage(topic, bytes('{"temperature":1}'), payloadFieldKey('sensorId'));
    assert.equal(result.kind === 'malformed' && result.code, 'MQTT_KEY_MISSING');
    const empty = classifyMessage('sensors//data', bytes('{}'), key);
    assert.equal(empty.kind === 'malformed' && empty.code, 'MQTT_KEY_MISSING');
  });

  it('uses the dead-letter header names of the runtime', () => {
    assert.equal(mqttHeaders.reason, deadLetterHeaders.reason);
    assert.equal(mqttHeaders.code, deadLetterHeaders.code);
    assert.equal(mqttHeaders.message, deadLetterHeaders.message);
    assert.equal(mqttHeaders.operator, deadLetterHeaders.operator);
    assert.equal(mqttHeaders.mqttTopic, 'tributary.source.mqtt-topic');
  });
});
