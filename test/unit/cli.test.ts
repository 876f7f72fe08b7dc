// The `tributary` command as users run it: a separate process, its output and exit code. No
// server is involved: these commands stop (or finish) before connecting to anything.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Command } from 'commander';

import { program } from '../../src/cli/program.ts';
import { runCli, runTool } from '../integration/cli.ts';

const readings = 'topologies/readings.ts';
const weather = 'topologies/weather.ts';

/** Malformed values of the connectors' settings, none of which describe or topics reads. */
const badConnectors = {
  TRIBUTARY_MQTT_URL: 'http://not-an-mqtt-url',
  TRIBUTARY_CASSANDRA_CONTACT_POINTS: 'cassandra-without-port',
  TRIBUTARY_CASSANDRA_USERNAME: 'user-without-password',
  TRIBUTARY_REGISTRY_URL: 'ftp://registry',
};

/** A command of the program by its path (`['source', 'sensors']`). */
function commandAt(path: string[]): Command {
  let command = program();
  for (const name of path) {
    const sub = command.commands.find((c) => c.name() === name);
    assert.ok(sub, `no command ${path.join(' ')}`);
    command = sub;
  }
  return command;
}

/** The settings (environment variables) a command's --help lists. */
function helpSettings(path: string[]): Set<string> {
  return new Set(
    commandAt(path)
      .helpInformation()
      .match(/TRIBUTARY_[A-Z_]+/g) ?? [],
  );
}

const expectedText = `Topology: readings-hourly
  Sub-topology 0
    Source: readings (topics: readings)
      --> hourly
    Processor: hourly (aggregate, store: hourly, window: tumbling 3600000 ms, grace 300000 ms)
      --> to-hourly
      <-- readings
    Sink: to-hourly (topic: readings-hourly)
      <-- hourly
Topics read: readings
Topics written: readings-hourly
Internal topics: readings-hourly-dlq (dead letters), readings-hourly-hourly-changelog (changelog)
`;

const expectedMermaid = `flowchart LR
  topic_readings[("readings")]
  topic_readings_hourly[("readings-hourly")]
  subgraph sub0["Sub-topology 0"]
    op_readings["readings<br/>source"]
    op_hourly["hourly<br/>aggregate"]
    store_hourly[("hourly<br/>store")]
    op_to_hourly["to-hourly<br/>sink"]
  end
  topic_readings --> op_readings
  op_readings --> op_hourly
  op_hourly --> op_to_hourly
  op_hourly -.- store_hourly
  op_to_hourly --> topic_readings_hourly
`;

describe('tributary command', () => {
  it('describes a topology as text, Mermaid and JSON', async () => {
    const text = await runCli(['describe', readings]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, expectedText);
    const mermaid = await runCli(['describe', readings, '--format', 'mermaid']);
    assert.equal(mermaid.stdout, expectedMermaid);
    const json = await runCli(['describe', readings, '--format', 'json', '--app-id', 'eu-1']);
    const plan = JSON.parse(json.stdout) as { appId: string; internalTopics: { name: string }[] };
    assert.equal(plan.appId, 'eu-1');
    assert.deepEqual(
      plan.internalTopics.map((t) => t.name),
      ['eu-1-dlq', 'eu-1-hourly-changelog'],
    );
  });

  it('exits 2 with one message naming the setting when the configuration is bad', async () => {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        { TRIBUTARY_GUARANTEE: 'twice' },
        [],
        /^tributary: TRIBUTARY_GUARANTEE must be at_least_once or exactly_once, got 'twice'\n$/,
      ],
      [
        { TRIBUTARY_BROKERS: '' },
        [],
        /^tributary: TRIBUTARY_BROKERS must be a comma-separated list of host:port, got ''\n$/,
      ],
      [
        {},
        ['--brokers', ''],
        /^tributary: --brokers must be a comma-separated list of host:port, got ''\n$/,
      ],
      [
        { TRIBUTARY_METRICS_PORT: 'abc' },
        [],
        /^tributary: TRIBUTARY_METRICS_PORT must be a TCP port number/,
      ],
    ];
    for (const [env, flags, message] of cases) {
      const result = await runCli(['run', readings, ...flags], env);
      assert.equal(result.code, 2, `${JSON.stringify(env)}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    }
    const missing = await runCli(['run', 'topologies/nope.ts']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /topology file topologies\/nope.ts does not exist/);
    const unknown = await runCli(['run', readings, '--no-such-flag']);
    assert.equal(unknown.code, 2);
  });

  it('prints the effective configuration with secrets redacted', async () => {
    const result = await runCli(
      ['run', readings, '--print-config', '--guarantee', 'exactly_once'],
      {
        TRIBUTARY_KAFKA_SASL_MECHANISM: 'plain',
        TRIBUTARY_KAFKA_SASL_USERNAME: 'svc',
        TRIBUTARY_KAFKA_SASL_PASSWORD: 'correct-horse',
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^TRIBUTARY_GUARANTEE=exactly_once {2}# --guarantee$/m);
    assert.match(result.stdout, /^TRIBUTARY_KAFKA_SASL_PASSWORD=\*\*\* /m);
    assert.ok(!result.stdout.includes('correct-horse'));
  });

  it('has --help on every command', async () => {
    for (const command of [
      [],
      ['run'],
      ['describe'],
      ['topics'],
      ['reset'],
      ['source', 'sensors'],
    ]) {
      const result = await runCli([...command, '--help']);
      assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /^Usage: tributary/);
    }
    const reset = await runCli(['reset', '--help']);
    assert.match(reset.stdout, /--to-datetime <iso>/);
    assert.match(reset.stdout, /--yes/);
    assert.match(reset.stdout, /TRIBUTARY_BROKERS/);
  });

  it('reset without --yes and without a terminal refuses before touching anything', async () => {
    const result = await runCli(['reset', readings], { TRIBUTARY_BROKERS: '127.0.0.1:1' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pass --yes/);
  });

  it('describe and topics ignore malformed MQTT, Cassandra and registry settings', async () => {
    // topologies/weather.ts takes the registry and Cassandra clients from its context.
    for (const args of [
      ['describe', weather],
      ['describe', readings, '--format', 'json'],
      ['topics', weather],
    ]) {
      const result = await runCli(args, badConnectors);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, args[0] === 'topics' ? /^source topics: / : /readings|weather/);
    }
  });

  it('run and source stop with one message naming the bad setting they use', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      // weather.ts writes to Cassandra: its settings are checked before the worker starts.
      [
        ['run', weather],
        { TRIBUTARY_CASSANDRA_CONTACT_POINTS: 'cassandra-without-port' },
        /^tributary: TRIBUTARY_CASSANDRA_CONTACT_POINTS must be a comma-separated list of host:port, got 'cassandra-without-port'\n$/,
      ],
      [
        ['run', weather],
        { TRIBUTARY_CASSANDRA_PASSWORD: 'secret-pw' },
        /^tributary: TRIBUTARY_CASSANDRA_USERNAME must be a name: it is required when TRIBUTARY_CASSANDRA_PASSWORD is set\n$/,
      ],
      [
        ['run', weather, '--registry-url', 'ftp://registry'],
        {},
        /^tributary: --registry-url must be an http\(s\) URL of a Confluent-compatible schema registry API, got 'ftp:\/\/registry'\n$/,
      ],
      [
        ['source', 'sensors'],
        { TRIBUTARY_MQTT_URL: 'http://not-an-mqtt-url' },
        /^tributary: TRIBUTARY_MQTT_URL must be an mqtt:\/\/ or mqtts:\/\/ URL, got 'http:\/\/not-an-mqtt-url'\n$/,
      ],
      [
        ['source', 'sensors', '--mqtt-username', 'u'],
        {},
        /^tributary: TRIBUTARY_MQTT_PASSWORD must be a password: it is required when TRIBUTARY_MQTT_USERNAME is set\n$/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.ok(!result.stderr.includes('secret-pw'));
    }
    // A worker of a topology without Cassandra does not read its settings.
    const printed = await runCli(['run', readings, '--print-config'], badConnectors);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^TRIBUTARY_CASSANDRA_CONTACT_POINTS=cassandra-without-port /m);
    assert.ok(!printed.stdout.includes('TRIBUTARY_MQTT'), 'run has no MQTT settings');
  });

  it("lists in each command's --help its own settings and no others", () => {
    const kafka = 'TRIBUTARY_BROKERS';
    const app = 'TRIBUTARY_APP_ID';
    const worker = 'TRIBUTARY_GUARANTEE';
    const log = 'TRIBUTARY_LOG_LEVEL';
    const metrics = 'TRIBUTARY_METRICS_PORT';
    const registry = 'TRIBUTARY_REGISTRY_URL';
    const cassandra = 'TRIBUTARY_CASSANDRA_CONTACT_POINTS';
    const mqtt = 'TRIBUTARY_MQTT_URL';
    const all = [kafka, app, worker, log, metrics, registry, cassandra, mqtt];
    const expected: [string[], string[]][] = [
      [['run'], [kafka, app, worker, log, metrics, registry, cassandra]],
      [['describe'], [app]],
      [['topics'], [kafka, app]],
      [['reset'], [kafka, app]],
      [['schemas'], [app, registry]],
      [
        ['source', 'weather'],
        [kafka, registry, log],
      ],
      [
        ['source', 'sensors'],
        [kafka, mqtt, log],
      ],
      [
        ['dlq', 'inspect'],
        [kafka, app],
      ],
      [
        ['dlq', 'replay'],
        [kafka, app],
      ],
    ];
    for (const [path, own] of expected) {
      const listed = helpSettings(path);
      for (const setting of all)
        assert.equal(listed.has(setting), own.includes(setting), `${path.join(' ')}: ${setting}`);
    }
    assert.deepEqual(
      program().commands.map((c) => c.name()),
      ['run', 'describe', 'topics', 'schemas', 'reset', 'source', 'dlq'],
      'no produce: the load generators are tools',
    );
  });

  it('runs the load generators from the tools CLI, with their own settings', async () => {
    const readingsHelp = await runTool(['produce', 'readings', '--help']);
    assert.equal(readingsHelp.code, 0, readingsHelp.stderr);
    assert.match(readingsHelp.stdout, /^Usage: tributary-tools produce readings/);
    assert.match(readingsHelp.stdout, /--malformed <fraction>/);
    assert.match(readingsHelp.stdout, /TRIBUTARY_BROKERS/);
    assert.ok(!readingsHelp.stdout.includes('TRIBUTARY_MQTT'));
    const sensors = await runTool(['produce', 'sensors', '--sensors', '0']);
    assert.equal(sensors.code, 2);
    assert.match(sensors.stderr, /--sensors must be an integer of at least 1/);
    const bad = await runTool(['produce', 'sensors'], { TRIBUTARY_MQTT_URL: 'ws://x' });
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      "tributary-tools: TRIBUTARY_MQTT_URL must be an mqtt:// or mqtts:// URL, got 'ws://x'\n",
    );
    const gone = await runCli(['produce', 'readings']);
    assert.equal(gone.code, 2, 'produce is not a command of the product');
  });
});
