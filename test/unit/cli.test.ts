// The `tributary` command as users run it: a separate process, its output and exit code. No
// server is involved: these commands stop (or finish) before connecting to anything.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runCli } from '../integration/cli.ts';

const readings = 'topologies/readings.ts';

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
      ['produce'],
      ['produce', 'readings'],
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
});
