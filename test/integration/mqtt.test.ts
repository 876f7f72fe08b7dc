import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import mqtt from 'mqtt';
import type { IPublishPacket } from 'mqtt';

import { endpoints, uniqueName } from './helpers.ts';

describe('MQTT (real Mosquitto)', () => {
  it('delivers a QoS 1 message from a publisher to a subscriber', async () => {
    const topic = `tributary/it/${uniqueName('sensors')}`;
    const subscriber = await mqtt.connectAsync(endpoints.mqttUrl, {
      clientId: uniqueName('sub'),
      reconnectPeriod: 0,
    });
    const publisher = await mqtt.connectAsync(endpoints.mqttUrl, {
      clientId: uniqueName('pub'),
      reconnectPeriod: 0,
    });
    try {
      const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
      assert.equal(granted[0]?.qos, 1);
      const received = new Promise<{ payload: string; packet: IPublishPacket }>((resolve) =>
        subscriber.once('message', (_topic, payload, packet) =>
          resolve({ payload: payload.toString(), packet }),
        ),
      );
      const reading = JSON.stringify({ sensor: 'greenhouse-3', temperature: 21.5, at: Date.now() });
      // With QoS 1, publishAsync resolves (with the sent packet) once the broker's PUBACK arrives.
      const sent = await publisher.publishAsync(topic, reading, { qos: 1 });
      assert.ok(sent?.cmd === 'publish', 'publishAsync resolves with the sent PUBLISH packet');
      assert.equal(sent.qos, 1);
      assert.ok(sent.messageId !== undefined, 'a QoS 1 publish carries a packet id');
      const { payload, packet } = await received;
      assert.equal(payload, reading);
      assert.equal(packet.qos, 1);
    } finally {
      await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
    }
  });
});
