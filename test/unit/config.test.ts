import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  allSettingGroups,
  appSettings,
  cassandraSettings,
  kafkaSettings,
  loadSettings,
  logSettings,
  metricsSettings,
  mqttSettings,
  registrySettings,
  startWorker,
  topologyContext,
  workerSettings,
} from '../../src/app/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import {
  printableSettings,
  rawSettings,
  resolveSettings,
  SettingsSource,
  TributaryError,
} from '../../src/core/index.ts';
import type { SettingGroup } from '../../src/core/index.ts';

function configError(env: Record<string, string>, flags: Record<string, unknown> = {}): string {
  try {
    loadSettings(env, flags);
  } catch (error) {
    assert.ok(error instanceof TributaryError);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error.message;
  }
  assert.fail('the settings were accepted');
}

describe('settings from the environment and flags', () => {
  it('has defaults for everything', () => {
    const settings = loadSettings({});
    assert.deepEqual(settings.kafka, { brokers: ['127.0.0.1:9092'], client: 'platformatic' });
    assert.equal(settings.guarantee, 'at_least_once');
    assert.deepEqual(settings.metrics, { host: '127.0.0.1', port: 9464 });
    assert.equal(settings.appId, undefined);
    assert.equal(settings.replicationFactor, 'auto');
  });

  it('takes the replication of internal topics as auto or a whole number', () => {
    assert.equal(loadSettings({ TRIBUTARY_REPLICATION_FACTOR: '3' }).replicationFactor, 3);
    assert.equal(loadSettings({}, { replicationFactor: 'auto' }).replicationFactor, 'auto');
    for (const bad of ['0', 'three', '2.5', '', '40000'])
      assert.match(
        configError({ TRIBUTARY_REPLICATION_FACTOR: bad }),
        /^TRIBUTARY_REPLICATION_FACTOR must be auto \(min\(3, brokers in the cluster\)\) or an integer from 1 to 32767/,
      );
  });

  it('reads the environment, and flags win over it', () => {
    const settings = loadSettings(
      {
        TRIBUTARY_BROKERS: 'k1:9092, k2:9093',
        TRIBUTARY_GUARANTEE: 'exactly_once',
        TRIBUTARY_METRICS_PORT: '9000',
      },
      { metricsPort: '9100', appId: 'weather-eu' },
    );
    assert.deepEqual(settings.kafka.brokers, ['k1:9092', 'k2:9093']);
    assert.equal(settings.guarantee, 'exactly_once');
    assert.equal(settings.metrics.port, 9100);
    assert.equal(settings.appId, 'weather-eu');
  });

  it('names the setting and the expected form when a value is wrong', () => {
    assert.equal(
      configError({ TRIBUTARY_GUARANTEE: 'exactly-once' }),
      "TRIBUTARY_GUARANTEE must be at_least_once or exactly_once, got 'exactly-once'",
    );
    assert.equal(
      configError({ TRIBUTARY_BROKERS: '' }),
      "TRIBUTARY_BROKERS must be a comma-separated list of host:port, got ''",
    );
    assert.equal(
      configError({ TRIBUTARY_METRICS_PORT: 'ninety' }),
      "TRIBUTARY_METRICS_PORT must be a TCP port number from 0 to 65535 (0: any free port), got 'ninety'",
    );
    assert.match(configError({}, { metricsPort: '70000' }), /^--metrics-port must be a TCP port/);
    assert.match(configError({ TRIBUTARY_BROKERS: 'kafka' }), /^TRIBUTARY_BROKERS must be/);
    assert.match(
      configError({ TRIBUTARY_COMMIT_INTERVAL_MS: '-5' }),
      /^TRIBUTARY_COMMIT_INTERVAL_MS/,
    );
    assert.match(configError({ TRIBUTARY_APP_ID: 'my app' }), /^TRIBUTARY_APP_ID/);
    assert.match(
      configError({
        TRIBUTARY_KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem',
        TRIBUTARY_KAFKA_TLS: 'true',
      }),
      /cannot read '\/nonexistent\/ca.pem' \(ENOENT\)/,
    );
  });

  it('waits for the brokers indefinitely unless a start-up limit is given, and validates it', () => {
    assert.equal(loadSettings({}).kafkaWaitTimeoutMs, undefined);
    assert.equal(
      loadSettings({ TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS: '60000' }).kafkaWaitTimeoutMs,
      60_000,
    );
    assert.equal(loadSettings({}, { kafkaWaitTimeoutMs: '5000' }).kafkaWaitTimeoutMs, 5000);
    assert.match(
      configError({ TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS: '10s' }),
      /^TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS must be an integer number of milliseconds from 1000 .*, got '10s'$/,
    );
    assert.match(configError({ TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS: '999' }), /from 1000 to 86400000/);
    assert.match(configError({ TRIBUTARY_KAFKA_WAIT_TIMEOUT_MS: '' }), /got ''$/);
  });

  it('names the Kafka client library, kafkajs or platformatic', () => {
    assert.match(
      configError({ TRIBUTARY_KAFKA_CLIENT: 'rdkafka' }),
      /^TRIBUTARY_KAFKA_CLIENT must be kafkajs or platformatic.*'rdkafka'/,
    );
  });

  it('checks SASL settings together and never echoes a password', () => {
    assert.match(
      configError({ TRIBUTARY_KAFKA_SASL_MECHANISM: 'plain' }),
      /^TRIBUTARY_KAFKA_SASL_USERNAME must be a name: it is required when TRIBUTARY_KAFKA_SASL_MECHANISM is set/,
    );
    assert.match(
      configError({ TRIBUTARY_KAFKA_SASL_USERNAME: 'u', TRIBUTARY_KAFKA_SASL_PASSWORD: 'p' }),
      /^TRIBUTARY_KAFKA_SASL_MECHANISM .*required when TRIBUTARY_KAFKA_SASL_USERNAME is set/,
    );
    const message = configError({
      TRIBUTARY_KAFKA_SASL_MECHANISM: 'kerberos',
      TRIBUTARY_KAFKA_SASL_USERNAME: 'u',
      TRIBUTARY_KAFKA_SASL_PASSWORD: 'hunter2',
    });
    assert.match(message, /plain, scram-sha-256 or scram-sha-512/);
    assert.ok(!message.includes('hunter2'));
    const settings = loadSettings({
      TRIBUTARY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      TRIBUTARY_KAFKA_SASL_USERNAME: 'svc',
      TRIBUTARY_KAFKA_SASL_PASSWORD: 'hunter2',
      TRIBUTARY_CASSANDRA_USERNAME: 'cass',
      TRIBUTARY_CASSANDRA_PASSWORD: 'pw2',
    });
    assert.deepEqual(settings.kafka.sasl, {
      mechanism: 'scram-sha-512',
      username: 'svc',
      password: 'hunter2',
    });
    assert.deepEqual(settings.cassandra.credentials, { username: 'cass', password: 'pw2' });
  });

  it('prints the effective configuration with its sources and secrets as ***', () => {
    const raw = rawSettings(
      allSettingGroups,
      { TRIBUTARY_KAFKA_SASL_PASSWORD: 'hunter2', TRIBUTARY_GUARANTEE: 'exactly_once' },
      { brokers: 'k:1' },
    );
    const text = printableSettings(raw, [kafkaSettings, workerSettings]);
    assert.match(text, /^TRIBUTARY_BROKERS=k:1 {2}# --brokers$/m);
    assert.match(text, /^TRIBUTARY_GUARANTEE=exactly_once {2}# TRIBUTARY_GUARANTEE$/m);
    assert.match(
      text,
      /^TRIBUTARY_KAFKA_SASL_PASSWORD=\*\*\* {2}# TRIBUTARY_KAFKA_SASL_PASSWORD$/m,
    );
    assert.match(text, /^TRIBUTARY_COMMIT_INTERVAL_MS=100 {2}# default$/m);
    assert.ok(!text.includes('hunter2'));
    assert.ok(!text.includes('TRIBUTARY_CASSANDRA'), 'only the groups asked for');
  });

  it('resolves to exactly the keys each group declares', () => {
    // The lazy settings of a topology's context find a property's group by these keys.
    for (const group of allSettingGroups) {
      const resolved = resolveSettings([group], rawSettings([group], {}));
      assert.deepEqual(Object.keys(resolved).sort(), [...group.keys].sort(), group.name);
    }
    const all = allSettingGroups.flatMap((g) => g.keys);
    assert.equal(new Set(all).size, all.length, 'no key in two groups');
    const envs = allSettingGroups.flatMap((g) => Object.values(g.rows).map((r) => r.env));
    assert.equal(new Set(envs).size, envs.length, 'no variable in two groups');
  });

  it('resolves only the groups asked for: a bad value of another group is not read', () => {
    const env = {
      TRIBUTARY_MQTT_URL: 'http://not-mqtt',
      TRIBUTARY_CASSANDRA_CONTACT_POINTS: 'no-port',
      TRIBUTARY_REGISTRY_URL: 'ftp://x',
      TRIBUTARY_APP_ID: 'eu-1',
    };
    const groups = [kafkaSettings, appSettings] as const;
    const settings = resolveSettings(groups, rawSettings(allSettingGroups, env));
    assert.deepEqual(settings.kafka, { brokers: ['127.0.0.1:9092'], client: 'platformatic' });
    assert.equal(settings.appId, 'eu-1');
    assert.deepEqual(Object.keys(settings).sort(), [
      'appId',
      'kafka',
      'replicationFactor',
      'stateDir',
    ]);
    const bad: [SettingGroup, RegExp][] = [
      [
        mqttSettings,
        /^TRIBUTARY_MQTT_URL must be an mqtt:\/\/ or mqtts:\/\/ URL, got 'http:\/\/not-mqtt'$/,
      ],
      [
        cassandraSettings,
        /^TRIBUTARY_CASSANDRA_CONTACT_POINTS must be a comma-separated list of host:port, got 'no-port'$/,
      ],
      [registrySettings, /^TRIBUTARY_REGISTRY_URL must be an http\(s\) URL/],
    ];
    for (const [group, message] of bad)
      assert.throws(
        () => resolveSettings([group], rawSettings(allSettingGroups, env)),
        (error: unknown) =>
          error instanceof TributaryError &&
          error.code === 'CONFIG_INVALID' &&
          message.test(error.message),
        group.name,
      );
    assert.throws(
      () => loadSettings(env),
      /TRIBUTARY_REGISTRY_URL|TRIBUTARY_CASSANDRA|TRIBUTARY_MQTT/,
    );
  });

  it("reads a topology context's settings group by group, and checks the used ones", () => {
    const source = new SettingsSource(
      rawSettings(allSettingGroups, {
        TRIBUTARY_MQTT_URL: 'tcp://nope',
        TRIBUTARY_CASSANDRA_LOCAL_DC: '',
        TRIBUTARY_METRICS_PORT: '9100',
      }),
    );
    const context = topologyContext(source);
    // Taking the clients (as topologies/weather.ts does) reads nothing yet.
    const { registry, cassandra } = context;
    assert.equal(context.settings.metrics.port, 9100);
    assert.equal(context.settings.guarantee, 'at_least_once');
    assert.equal(registry.url, 'http://127.0.0.1:8081/apis/ccompat/v7');
    // The Cassandra client was taken: the check reads its group, and its bad value stops it.
    assert.throws(
      () => source.check(),
      /^TributaryError: TRIBUTARY_CASSANDRA_LOCAL_DC must be the name of the local data center, got ''$/,
    );
    assert.throws(() => cassandra.connection, /TRIBUTARY_CASSANDRA_LOCAL_DC/);
    // The MQTT group was never read or taken: nothing checks it.
    const untouched = new SettingsSource(source.raw);
    assert.deepEqual(topologyContext(untouched).settings.kafka.brokers, ['127.0.0.1:9092']);
    untouched.check();
    assert.throws(() => context.settings.mqtt, /^TributaryError: TRIBUTARY_MQTT_URL must be/);
  });

  it('keeps each group to its own rows', () => {
    const rowsOf = (g: SettingGroup) => Object.values(g.rows).map((r) => r.env);
    assert.ok(rowsOf(cassandraSettings).every((e) => e.startsWith('TRIBUTARY_CASSANDRA_')));
    assert.ok(rowsOf(mqttSettings).every((e) => e.startsWith('TRIBUTARY_MQTT_')));
    assert.ok(rowsOf(registrySettings).every((e) => e.startsWith('TRIBUTARY_REGISTRY_')));
    assert.deepEqual(rowsOf(logSettings), ['TRIBUTARY_LOG_LEVEL']);
    assert.deepEqual(rowsOf(metricsSettings), ['TRIBUTARY_METRICS_HOST', 'TRIBUTARY_METRICS_PORT']);
  });
});

describe('standby replica settings', () => {
  it('defaults to no standbys, an acceptable lag of 10,000 and 2 warm-ups, and names a bad value', () => {
    const settings = loadSettings({});
    assert.equal(settings.standbyReplicas, 0);
    assert.equal(settings.acceptableRecoveryLag, 10_000);
    assert.equal(settings.maxWarmupReplicas, 2);
    assert.equal(loadSettings({ TRIBUTARY_STANDBY_REPLICAS: '2' }).standbyReplicas, 2);
    for (const bad of ['-1', '17', 'one'])
      assert.match(
        configError({ TRIBUTARY_STANDBY_REPLICAS: bad }),
        /^TRIBUTARY_STANDBY_REPLICAS must be an integer from 0 to 16/,
      );
    assert.match(
      configError({ TRIBUTARY_MAX_WARMUP_REPLICAS: '0' }),
      /^TRIBUTARY_MAX_WARMUP_REPLICAS must be an integer from 1 to 1024/,
    );
  });

  it('refuses standbys on kafkajs at start-up, with one message naming the setting', async () => {
    const t = topology('standby-on-kafkajs');
    t.stream('in', { key: string(), value: string() })
      .groupByKey()
      .count({ store: 'counts' })
      .to('out', { key: string(), value: json<number>() });
    await assert.rejects(
      startWorker(t.build(), {
        brokers: ['127.0.0.1:1'],
        kafkaClient: 'kafkajs',
        standbyReplicas: 1,
        logLevel: 'silent',
      }),
      (error: unknown) =>
        error instanceof TributaryError &&
        error.code === 'CONFIG_INVALID' &&
        /TRIBUTARY_STANDBY_REPLICAS needs the default Kafka client/.test(error.message),
    );
  });
});
