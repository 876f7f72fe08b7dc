import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { down, serviceContext, status, up } from '../../infra/stack/stack.ts';
import { createMqttSource } from '../../src/connectors/mqtt/index.ts';
import type {
  MqttSourceOptions,
  MqttSourceStats,
  SendRecords,
} from '../../src/connectors/mqtt/index.ts';
import type { Logger } from '../../src/core/index.ts';
import type { RecordProducer } from '../../src/kafka/index.ts';
import { endpoints, eventually, uniqueName } from './helpers.ts';
import { createTopics, kafka, readTopic } from './topics.ts';
import type { ReadRecord } from './topics.ts';
import { sensorMessages, simulateSensors } from '../../tools/mqtt-sensors/index.ts';
import type {
  SimulateSensorsOptions,
  SimulatedKind,
  SimulatedMessage,
  SimulationReport,
} from '../../tools/mqtt-sensors/index.ts';

const minute = 60_000;
const historyStart = Date.UTC(2026, 2, 9, 6, 0);

const deadLetterCodes: Partial<Record<SimulatedKind, string>> = {
  'not-json': 'MQTT_PAYLOAD_NOT_JSON',
  'not-utf8': 'MQTT_PAYLOAD_NOT_UTF8',
  'not-object': 'MQTT_PAYLOAD_NOT_OBJECT',
};

/** A logger that keeps the messages, to check what the source said about its connection. */
function capturingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (_fields: object, msg: string): void => {
      lines.push({ level, msg });
    };
  const logger: Logger = {
    debug: () => undefined,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return { logger, lines };
}

async function recordCount(topic: string): Promise<number> {
  const admin = kafka.topicAdmin();
  await admin.connect();
  try {
    return [...(await admin.endOffsets(topic)).values()].reduce((n, o) => n + Number(o), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a whole topic: every record up to the end offsets as they are now. */
async function readAll(topic: string): Promise<ReadRecord[]> {
  const count = await recordCount(topic);
  return count === 0 ? [] : readTopic(topic, (records) => records.length >= count, 120_000);
}

/** One run's topics, producer and source. */
async function pipeline(overrides: Partial<MqttSourceOptions> & { send?: SendRecords } = {}) {
  const name = uniqueName('it-mqtt');
  const topics = { records: `${name}-readings`, deadLetters: `${name}-dlq` };
  await createTopics([
    { topic: topics.records, partitions: 4 },
    { topic: topics.deadLetters, partitions: 1 },
  ]);
  const producer = kafka.recordProducer();
  await producer.connect();
  const prefix = name; // the MQTT topics: <name>/<sensorId>/data
  const { logger, lines } = capturingLogger();
  const options: MqttSourceOptions = {
    url: endpoints.mqttUrl,
    clientId: `${name}-source`,
    topics: [`${prefix}/+/data`],
    kafkaTopic: topics.records,
    deadLetterTopic: topics.deadLetters,
    send: (records) => producer.send(records),
    logger,
    reconnect: { baseDelayMs: 250, maxDelayMs: 2_000, jitter: 0.2 },
    ...overrides,
  };
  return { name, topics, producer, prefix, lines, options };
}

interface Comparison {
  /** Acknowledged messages (matched subscribers) with no record in Kafka. */
  missing: SimulatedMessage[];
  /** Records beyond the acknowledged copies of their payload. */
  duplicates: number;
  records: ReadRecord[];
  deadLetters: ReadRecord[];
}

/**
 * Compares what the broker acknowledged with what Kafka holds, by payload: a payload sent k
 * times (an intended duplicate) must be there at least k times; more copies are duplicates.
 */
function compare(
  acknowledged: SimulatedMessage[],
  records: ReadRecord[],
  deadLetters: ReadRecord[],
): Comparison {
  const inKafka = new Map<string, number>();
  for (const r of [...records, ...deadLetters]) {
    const hex = r.value?.toString('hex') ?? '';
    inKafka.set(hex, (inKafka.get(hex) ?? 0) + 1);
  }
  const wanted = new Map<string, SimulatedMessage[]>();
  for (const m of acknowledged) {
    const hex = m.payload.toString('hex');
    wanted.set(hex, [...(wanted.get(hex) ?? []), m]);
  }
  const missing: SimulatedMessage[] = [];
  let duplicates = 0;
  for (const [hex, messages] of wanted) {
    const have = inKafka.get(hex) ?? 0;
    if (have < messages.length) missing.push(...messages.slice(have));
    duplicates += Math.max(0, have - messages.length);
  }
  return { missing, duplicates, records, deadLetters };
}

function kindCounts(messages: SimulatedMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of messages) counts[m.kind] = (counts[m.kind] ?? 0) + 1;
  return counts;
}

/** Every Kafka record is where its kind belongs, keyed by sensor, with the reason if dead. */
function checkPlacement(sent: SimulatedMessage[], result: Comparison): void {
  const byPayload = new Map(sent.map((m) => [m.payload.toString('hex'), m]));
  for (const record of result.records) {
    const m = byPayload.get(record.value?.toString('hex') ?? '');
    assert.ok(m !== undefined, `a record the simulator did not send: ${String(record.value)}`);
    assert.equal(deadLetterCodes[m.kind], undefined, `${m.kind} on the records topic`);
    assert.equal(record.key, m.sensorId);
    assert.equal(record.headers['tributary.source.mqtt-topic'], m.topic);
  }
  for (const record of result.deadLetters) {
    const m = byPayload.get(record.value?.toString('hex') ?? '');
    assert.ok(m !== undefined, 'a dead letter the simulator did not send');
    assert.equal(record.headers['tributary.error.code'], deadLetterCodes[m.kind], m.kind);
    assert.equal(record.headers['tributary.error.reason'], 'invalid');
    assert.equal(record.headers['tributary.source.mqtt-topic'], m.topic);
    assert.ok((record.headers['tributary.error.message'] ?? '').length > 0);
    assert.equal(record.key, m.sensorId, 'the key from the topic, even for garbage');
  }
}

describe('MQTT source -> Kafka (real Mosquitto and Kafka)', { timeout: 300_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function started(options: MqttSourceOptions, producer: RecordProducer) {
    const source = createMqttSource(options);
    cleanups.push(async () => {
      await source.stop();
      await producer.disconnect();
    });
    await source.start();
    return source;
  }

  it('publishes 100 sensors x 20 minutes of readings, bad payloads to the dead-letter topic', async () => {
    const run = await pipeline();
    const source = await started(run.options, run.producer);
    const simulation: SimulateSensorsOptions = {
      url: endpoints.mqttUrl,
      clientId: `${run.name}-simulator`,
      topicPrefix: run.prefix,
      sensors: 100,
      seed: 20,
      badShare: 0.02,
      history: { start: historyStart, intervalMs: minute },
      durationSeconds: 20 * 60,
    };
    const acknowledged: SimulatedMessage[] = [];
    const began = Date.now();
    const report = await simulateSensors({
      ...simulation,
      onAcknowledged: (m) => acknowledged.push(m),
    });
    const expected = [
      ...sensorMessages({
        ...simulation,
        history: { start: historyStart, intervalMs: minute },
      }),
    ];
    assert.equal(report.sent, expected.length);
    assert.equal(report.acknowledged, expected.length);
    assert.equal(report.noMatchingSubscribers, 0);
    assert.deepEqual(
      acknowledged.map((m) => m.index).sort((a, b) => a - b),
      expected.map((m) => m.index),
      'the simulator sent what the generator computes',
    );
    await eventually('the source to acknowledge every message', async () =>
      source.stats().acked >= expected.length ? true : undefined,
    );
    const seconds = (Date.now() - began) / 1000;
    const result = compare(
      acknowledged,
      await readAll(run.topics.records),
      await readAll(run.topics.deadLetters),
    );
    checkPlacement(expected, result);
    const stats = source.stats();
    console.log(
      `# ${expected.length} messages (${JSON.stringify(kindCounts(expected))}) in ${seconds.toFixed(1)} s; ` +
        `records ${result.records.length}, dead letters ${result.deadLetters.length}, ` +
        `duplicates ${result.duplicates}; source ${JSON.stringify(stats)}`,
    );
    assert.deepEqual(result.missing, []);
    assert.equal(result.duplicates, 0, 'no reconnect, so no copies');
    const dead = expected.filter((m) => deadLetterCodes[m.kind] !== undefined);
    assert.ok(dead.length > 0);
    assert.equal(result.deadLetters.length, dead.length);
    assert.equal(result.records.length, expected.length - dead.length);
    assert.equal(stats.malformed, dead.length);
    // Readings carry their own time as the record time (the reader has no timestamps; keys do).
    assert.equal(stats.received, expected.length);
  });

  describe('when Mosquitto restarts mid-run', () => {
    let outcome:
      | {
          acknowledged: SimulatedMessage[];
          unmatched: SimulatedMessage[];
          report: SimulationReport;
          stats: MqttSourceStats;
          result: Comparison;
          lines: { level: string; msg: string }[];
        }
      | undefined;

    before(async () => {
      const run = await pipeline();
      const source = await started(run.options, run.producer);
      const ctx = serviceContext();
      let mosquittoDown = false;
      cleanups.push(async () => {
        if (mosquittoDown) await up(ctx);
      });
      const acknowledged: SimulatedMessage[] = [];
      const unmatched: SimulatedMessage[] = [];
      const simulation = simulateSensors({
        url: endpoints.mqttUrl,
        clientId: `${run.name}-simulator`,
        topicPrefix: run.prefix,
        sensors: 100,
        seed: 21,
        history: { start: historyStart, intervalMs: minute },
        durationSeconds: 20 * 60,
        ratePerSecond: 250,
        reconnectPeriodMs: 250,
        onAcknowledged: (m, { matched }) => (matched ? acknowledged : unmatched).push(m),
      });
      const began = Date.now();
      await eventually('a third of the run acknowledged', async () =>
        acknowledged.length >= 700 ? true : undefined,
      );
      const acksBefore = acknowledged.length;
      mosquittoDown = true;
      await down(ctx, ['mosquitto']);
      const stoppedAt = Date.now();
      await sleep(1_000);
      await up(ctx);
      mosquittoDown = false;
      const restartMs = Date.now() - stoppedAt;
      const report = await simulation;
      await eventually(
        'the source to reconnect and send what it holds',
        async () => {
          const s = source.stats();
          return s.reconnects >= 1 && s.pending === 0 && s.connected ? true : undefined;
        },
        60_000,
      );
      const read = async (): Promise<Comparison> =>
        compare(
          acknowledged,
          await readAll(run.topics.records),
          await readAll(run.topics.deadLetters),
        );
      // Redeliveries after the reconnect may still be on their way.
      await eventually(
        'Kafka to hold every acknowledged message',
        async () => ((await read()).missing.length === 0 ? true : undefined),
        30_000,
        2_000,
      ).catch(() => undefined);
      const result = await read();
      const stats = source.stats();
      console.log(
        `# restart after ${acksBefore} acks, Mosquitto back after ${restartMs} ms; ` +
          `run ${((Date.now() - began) / 1000).toFixed(1)} s; simulator ${JSON.stringify(report)}; ` +
          `acknowledged as delivered to a subscriber ${acknowledged.length}, with no matching subscriber ${unmatched.length}; ` +
          `missing ${result.missing.length}, duplicates ${result.duplicates}; source ${JSON.stringify(stats)}`,
      );
      outcome = { acknowledged, unmatched, report, stats, result, lines: run.lines };
    });

    it('reconnects and logs the outage', () => {
      assert.ok(outcome !== undefined);
      assert.ok(outcome.stats.reconnects >= 1, 'the source reconnected');
      assert.ok(
        outcome.lines.some((l) => l.level === 'warn' && l.msg.startsWith('MQTT connection lost')),
      );
      assert.ok(outcome.lines.some((l) => l.msg.startsWith('reconnected to the MQTT broker')));
      assert.equal(outcome.report.unacknowledged, 0, 'the simulator got every message through');
      checkPlacement([...outcome.acknowledged, ...outcome.unmatched], outcome.result);
    });

    it('publishes every message the broker acknowledged as delivered to a subscription', () => {
      assert.ok(outcome !== undefined);
      assert.deepEqual(
        outcome.result.missing.map((m) => `${m.index} ${m.kind} ${m.topic}`),
        [],
      );
    });

    it('publishes every message the broker acknowledged at all (the broker keeps sessions across restarts)', () => {
      assert.ok(outcome !== undefined);
      assert.equal(outcome.stats.sessionsLost, 0, 'the broker kept the session');
      assert.equal(outcome.unmatched.length, 0, 'acknowledged with no matching subscribers');
    });
  });

  it('simulates live sensors at the given rate, timestamped now', async () => {
    const run = await pipeline();
    const source = await started(run.options, run.producer);
    const began = Date.now();
    const report = await simulateSensors({
      url: endpoints.mqttUrl,
      clientId: `${run.name}-simulator`,
      topicPrefix: run.prefix,
      sensors: 20,
      ratePerSecond: 100,
      durationSeconds: 2,
      badShare: 0,
    });
    const ended = Date.now();
    // 100 a second for 2 s: 200 (+1, the first goes at once), give or take a timer tick.
    assert.ok(report.sent >= 190 && report.sent <= 202, `${report.sent} sent`);
    assert.equal(report.acknowledged, report.sent);
    await eventually('the source to publish them', async () =>
      source.stats().acked >= report.sent ? true : undefined,
    );
    const records = await readAll(run.topics.records);
    assert.equal(records.length, report.sent);
    const times = records.map(
      (r) => (JSON.parse(String(r.value)) as { timestamp: number }).timestamp,
    );
    assert.ok(
      times.every((t) => t >= began && t <= ended),
      'timestamped when sent',
    );
    assert.equal(new Set(records.map((r) => r.key)).size, 20);
  });

  it('gets a message again from the broker when Kafka never acknowledged it', async () => {
    const run = await pipeline();
    // Source A cannot write to Kafka: it takes messages and never acknowledges them.
    let failedSends = 0;
    const a = createMqttSource({
      ...run.options,
      send: async () => {
        failedSends++;
        throw new Error('Kafka unreachable (test)');
      },
      sendRetry: { baseDelayMs: 20, maxDelayMs: 100, jitter: 0 },
      stopTimeoutMs: 300,
    });
    await a.start();
    const acknowledged: SimulatedMessage[] = [];
    const simulation: SimulateSensorsOptions = {
      url: endpoints.mqttUrl,
      clientId: `${run.name}-simulator`,
      topicPrefix: run.prefix,
      sensors: 10,
      seed: 22,
      badShare: 0,
      history: { start: historyStart, intervalMs: minute },
      count: 50,
      onAcknowledged: (m) => acknowledged.push(m),
    };
    await simulateSensors(simulation);
    await eventually('source A to take the messages', async () =>
      a.stats().received >= acknowledged.length ? true : undefined,
    );
    await a.stop();
    assert.equal(a.stats().acked, 0);
    assert.ok(failedSends > 0);
    // While no source is connected, the broker queues for the session.
    await simulateSensors({ ...simulation, seed: 23, count: 30 });
    const total = acknowledged.length;
    assert.ok(total >= 80);

    // Source B, same client id (same session), a working Kafka.
    const b = await started(run.options, run.producer);
    await eventually('source B to publish every message', async () =>
      b.stats().acked >= total ? true : undefined,
    );
    const result = compare(acknowledged, await readAll(run.topics.records), []);
    const stats = b.stats();
    console.log(
      `# redelivery: ${total} acknowledged by the broker; source A took ${a.stats().received} and ` +
        `acknowledged none; source B ${JSON.stringify(stats)}; duplicates ${result.duplicates}`,
    );
    assert.deepEqual(result.missing, []);
    assert.ok(stats.redelivered >= 50, 'the unacknowledged messages came back with DUP set');
    assert.equal(stats.received, total);
  });
});

// The stack as found: Mosquitto running, whatever happened above.
after(async () => {
  const ctx = serviceContext();
  const mosquitto = (await status(ctx)).find((s) => s.name === 'mosquitto');
  if (mosquitto?.state !== 'healthy') await up(ctx);
});
