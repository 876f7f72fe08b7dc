import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StackConfigError, stackConfig, stackEndpoints } from '../../infra/stack/config.ts';

describe('local stack configuration', () => {
  it('uses the default ports when no variable is set', () => {
    const config = stackConfig({});
    assert.equal(config.ports.kafka, 9092);
    assert.equal(stackEndpoints(config).registryUrl, 'http://127.0.0.1:8081/apis/ccompat/v7');
  });

  it('takes a port from its environment variable', () => {
    const endpoints = stackEndpoints(
      stackConfig({ TRIBUTARY_KAFKA_PORT: '19092', TRIBUTARY_MQTT_PORT: '11883' }),
    );
    assert.deepEqual(endpoints.kafkaBrokers, ['127.0.0.1:19092']);
    assert.equal(endpoints.mqttUrl, 'mqtt://127.0.0.1:11883');
  });

  it('names the variable when a port is not a port', () => {
    assert.throws(() => stackConfig({ TRIBUTARY_CASSANDRA_PORT: 'nine' }), {
      name: 'StackConfigError',
      message: "TRIBUTARY_CASSANDRA_PORT must be a TCP port number (1-65535), got 'nine'",
    });
    assert.throws(() => stackConfig({ TRIBUTARY_PROMETHEUS_PORT: '70000' }), StackConfigError);
  });

  it('refuses two services on one port', () => {
    assert.throws(
      () => stackConfig({ TRIBUTARY_MQTT_PORT: '9092' }),
      /TRIBUTARY_MQTT_PORT and TRIBUTARY_KAFKA_PORT both use port 9092/,
    );
  });
});
