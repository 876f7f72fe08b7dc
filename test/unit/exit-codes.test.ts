import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CommanderError } from 'commander';

import { exitCodeOf as cliExitCodeOf } from '../../src/cli/exit.ts';
import { HttpSourceError, httpErrorCodes } from '../../src/connectors/open-meteo/index.ts';
import { MqttSourceError, mqttErrorCodes } from '../../src/connectors/mqtt/index.ts';
import { errorCodes, exitCodeOf, TributaryError } from '../../src/core/index.ts';
import type { ErrorCode } from '../../src/core/index.ts';

// The exit codes users have seen (README "Exit codes"): 2 for these, which mean bad usage or
// configuration found before anything started, 1 for every other error. Written out here, not
// derived from the registry, so a domain moved by mistake fails this test.
const exitsTwo = new Set<string>([
  'CONFIG_INVALID',
  'TOPOLOGY_FILE_INVALID',
  'TOPOLOGY_INVALID',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'TOPIC_NOT_FOUND',
]);

describe('exit codes from the registry domains', () => {
  it('gives 2 to the config errors and 1 to every other code', () => {
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      const expected = exitsTwo.has(code) ? 2 : 1;
      assert.equal(exitCodeOf(new TributaryError(code, 'x')), expected, code);
    }
  });

  it('gives 1 to errors that are not TributaryErrors', () => {
    assert.equal(exitCodeOf(new TypeError('bug')), 1);
    assert.equal(exitCodeOf('a string'), 1);
    assert.equal(exitCodeOf(Object.assign(new Error('x'), { code: 'CONFIG_INVALID' })), 1);
  });

  it('maps the connectors errors through the same registry', () => {
    assert.equal(exitCodeOf(new HttpSourceError('HTTP_REQUEST_FAILED', 'down')), 1);
    assert.equal(exitCodeOf(new MqttSourceError('MQTT_CONNECTION_REFUSED', 'no')), 1);
  });

  it('gives the CLI 0 for --help, 2 for a usage error, else the domain code', () => {
    assert.equal(cliExitCodeOf(new CommanderError(0, 'commander.helpDisplayed', '')), 0);
    assert.equal(cliExitCodeOf(new CommanderError(1, 'commander.unknownOption', 'x')), 2);
    assert.equal(cliExitCodeOf(new TributaryError('TOPIC_NOT_FOUND', 'x')), 2);
    assert.equal(cliExitCodeOf(new TributaryError('KAFKA_UNAVAILABLE', 'x')), 1);
    assert.equal(cliExitCodeOf(new Error('x')), 1);
  });
});

describe('the connectors codes in the registry', () => {
  it('lists every HTTP and MQTT code in the registry with the same entry', () => {
    for (const [code, entry] of Object.entries({ ...httpErrorCodes, ...mqttErrorCodes }))
      assert.deepEqual(errorCodes[code as ErrorCode], entry, code);
    assert.deepEqual(Object.keys(httpErrorCodes).sort(), [
      'HTTP_PROGRESS_FAILED',
      'HTTP_REQUEST_FAILED',
      'HTTP_RESPONSE_INVALID',
    ]);
    assert.equal(Object.keys(mqttErrorCodes).length, 7);
  });

  it('makes the connectors errors TributaryErrors with their own name and fields', () => {
    const http = new HttpSourceError('HTTP_REQUEST_FAILED', 'status 404', {
      status: 404,
      retriable: false,
    });
    assert.ok(http instanceof TributaryError);
    assert.equal(http.name, 'HttpSourceError');
    assert.equal(http.code, 'HTTP_REQUEST_FAILED');
    assert.equal(http.domain, 'external');
    assert.equal(http.retriable, false);
    assert.equal(http.status, 404);
    assert.equal(new HttpSourceError('HTTP_REQUEST_FAILED', 'status 503').retriable, true);
    const mqtt = new MqttSourceError('MQTT_UNAVAILABLE', 'down', { cause: new Error('x') });
    assert.ok(mqtt instanceof TributaryError);
    assert.equal(mqtt.name, 'MqttSourceError');
    assert.equal(mqtt.domain, 'external');
    assert.equal(mqtt.retriable, true);
    assert.ok(mqtt.cause instanceof Error);
  });
});
