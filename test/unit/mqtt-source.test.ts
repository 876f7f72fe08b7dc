import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createMqttSource, createPublishQueue } from '../../src/connectors/mqtt/index.ts';
import type {
  KafkaRecordOut,
  MqttSourceOptions,
  MqttTransport,
  Schedule,
  Sleep,
  TransportHandlers,
} from '../../src/connectors/mqtt/index.ts';
import { ManualClock } from '../../src/testing/index.ts';

/** Lets pending promise callbacks run (no timers involved). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A broker side: delivers messages, records which were acknowledged, can drop the connection. */
class FakeTransport implements MqttTransport {
  handlers: TransportHandlers | undefined;
  acked: string[] = [];
  connection = 1;
  closed = false;

  async open(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
    handlers.event({ type: 'connected', sessionPresent: false, reconnect: false });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  deliver(topic: string, payload: string | Buffer, options: { redelivered?: boolean } = {}): void {
    const connection = this.connection;
    const id = `${topic} ${payload.toString()}`;
    this.handlers?.message({
      topic,
      payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
      qos: 1,
      redelivered: options.redelivered ?? false,
      ack: () => {
        if (connection !== this.connection || this.closed) return false;
        this.acked.push(id);
        return true;
      },
    });
  }

  reading(sensor: string, n: number): void {
    this.deliver(`sensors/${sensor}/data`, JSON.stringify({ n, timestamp: 1000 + n }));
  }

  dropConnection(): void {
    this.connection++;
    this.handlers?.event({ type: 'offline' });
  }
}

/** Kafka's side: each send waits until the test resolves or rejects it. */
class FakeKafka {
  calls: { records: KafkaRecordOut[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  send = (records: KafkaRecordOut[]): Promise<void> =>
    new Promise((resolve, reject) => this.calls.push({ records, resolve, reject }));

  last(): (typeof this.calls)[number] {
    const call = this.calls.at(-1);
    assert.ok(call !== undefined, 'no send yet');
    return call;
  }
}

/** Timers that fire only when the test says so. */
function manualSchedule(): { schedule: Schedule; fire: () => void; armed: () => number } {
  let timers: (() => void)[] = [];
  return {
    schedule: (_ms, fn) => {
      timers.push(fn);
      return () => {
        timers = timers.filter((t) => t !== fn);
      };
    },
    fire: () => {
      const due = timers;
      timers = [];
      for (const fn of due) fn();
    },
    armed: () => timers.length,
  };
}

function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}

function setup(overrides: Partial<MqttSourceOptions> = {}) {
  const transport = new FakeTransport();
  const kafka = new FakeKafka();
  const timers = manualSchedule();
  const { sleep, waits } = recordingSleep();
  const source = createMqttSource({
    url: 'mqtt://broker.test:1883',
    clientId: 'unit',
    topics: ['sensors/+/data'],
    kafkaTopic: 'readings',
    deadLetterTopic: 'readings-dlq',
    send: kafka.send,
    transport,
    schedule: timers.schedule,
    sleep,
    random: () => 0.5,
    clock: new ManualClock(5_000),
    maxBatch: 3,
    ...overrides,
  });
  return { source, transport, kafka, timers, waits };
}

describe('MQTT source', () => {
  it('acknowledges a message only after Kafka acknowledged its batch', async () => {
    const { source, transport, kafka, timers } = setup();
    await source.start();
    transport.reading('s-1', 1);
    transport.reading('s-2', 2);
    await settle();
    assert.equal(kafka.calls.length, 0, 'the batch lingers for more');
    timers.fire();
    await settle();
    assert.equal(kafka.calls.length, 1);
    assert.deepEqual(
      kafka.last().records.map((r) => r.key?.toString()),
      ['s-1', 's-2'],
    );
    assert.deepEqual(transport.acked, [], 'nothing acknowledged while Kafka has not answered');
    kafka.last().resolve();
    await settle();
    assert.equal(transport.acked.length, 2);
    assert.deepEqual(source.stats().acked, 2);
    assert.deepEqual(source.stats().published, 2);
  });

  it('sends a full batch at once, one send at a time, and acknowledges in arrival order', async () => {
    const { source, transport, kafka } = setup();
    await source.start();
    for (let n = 1; n <= 7; n++) transport.reading(`s-${n}`, n);
    await settle();
    assert.equal(kafka.calls.length, 1, 'the second full batch waits for the first send');
    assert.equal(kafka.last().records.length, 3);
    kafka.last().resolve();
    await settle();
    assert.equal(transport.acked.length, 3);
    assert.equal(kafka.calls.length, 2);
    assert.equal(kafka.last().records.length, 3);
    kafka.last().resolve();
    await settle();
    // The seventh lingers until its timer (or a flush).
    assert.equal(kafka.calls.length, 2);
    const stopped = source.stop();
    await settle();
    assert.equal(kafka.calls.length, 3, 'stop flushes the lingering record');
    kafka.last().resolve();
    await stopped;
    assert.deepEqual(
      transport.acked.map((id) => id.split(' ')[0]),
      [1, 2, 3, 4, 5, 6, 7].map((n) => `sensors/s-${n}/data`),
    );
    assert.ok(transport.closed);
    assert.equal(source.state, 'stopped');
  });

  it('retries a failed send with backoff and acknowledges nothing until it succeeds', async () => {
    const { source, transport, kafka, waits } = setup();
    await source.start();
    for (let n = 1; n <= 3; n++) transport.reading('s-1', n);
    await settle();
    kafka.last().reject(new Error('NOT_ENOUGH_REPLICAS'));
    await settle();
    assert.equal(kafka.calls.length, 2, 'sent again');
    kafka.last().reject(new Error('NOT_ENOUGH_REPLICAS'));
    await settle();
    assert.deepEqual(transport.acked, []);
    assert.equal(source.stats().sendFailures, 2);
    // 200 ms doubling, with jitter 0.2 at random 0.5: 180, 360.
    assert.deepEqual(waits, [180, 360]);
    // Meanwhile more messages queue behind the failing batch.
    transport.reading('s-2', 4);
    kafka.last().resolve();
    await settle();
    assert.deepEqual(kafka.calls[0]?.records, kafka.calls[2]?.records, 'the same records again');
    assert.equal(transport.acked.length, 3);
    assert.equal(source.stats().acked, 3);
  });

  it('writes the payload bytes unchanged, keyed by sensor, at the payload timestamp', async () => {
    const { source, transport, kafka, timers } = setup();
    await source.start();
    const payload = '{"sensorId":"s-9","timestamp":1700000000000,"temperature":21.5}';
    transport.deliver('sensors/s-9/data', payload);
    transport.deliver('sensors/s-8/data', '{"temperature":20}');
    timers.fire();
    await settle();
    const [first, second] = kafka.last().records;
    assert.deepEqual(first, {
      topic: 'readings',
      key: Buffer.from('s-9'),
      value: Buffer.from(payload),
      timestamp: 1_700_000_000_000,
      headers: { 'tributary.source.mqtt-topic': 'sensors/s-9/data' },
    });
    assert.equal(second?.timestamp, 5_000, 'no timestamp in the payload: the arrival time');
    kafka.last().resolve();
    await source.stop();
  });

  it('sends malformed payloads to the dead-letter topic with the reason, in order with the rest', async () => {
    const { source, transport, kafka, timers } = setup({ maxBatch: 10 });
    await source.start();
    transport.reading('s-1', 1);
    transport.deliver('sensors/s-2/data', 'temperature=21.5');
    transport.deliver('sensors/s-3/data', Buffer.from([0xff, 0xfe]));
    transport.deliver('sensors/s-4/data', '[1,2,3]');
    timers.fire();
    await settle();
    const records = kafka.last().records;
    assert.deepEqual(
      records.map((r) => [r.topic, r.key?.toString(), r.headers['tributary.error.code']]),
      [
        ['readings', 's-1', undefined],
        ['readings-dlq', 's-2', 'MQTT_PAYLOAD_NOT_JSON'],
        ['readings-dlq', 's-3', 'MQTT_PAYLOAD_NOT_UTF8'],
        ['readings-dlq', 's-4', 'MQTT_PAYLOAD_NOT_OBJECT'],
      ],
    );
    const dead = records[1];
    assert.equal(dead?.headers['tributary.error.reason'], 'invalid');
    assert.equal(dead?.headers['tributary.error.operator'], 'mqtt-source');
    assert.equal(dead?.headers['tributary.source.mqtt-topic'], 'sensors/s-2/data');
    assert.match(String(dead?.headers['tributary.error.message']), /not JSON/);
    assert.deepEqual(dead?.value, Buffer.from('temperature=21.5'));
    kafka.last().resolve();
    await settle();
    assert.equal(transport.acked.length, 4, 'dead-lettered messages are acknowledged too');
    assert.equal(source.stats().malformed, 3);
    assert.equal(source.stats().deadLettered, 3);
    assert.equal(source.stats().published, 1);
  });

  it('drops the acks of a connection that is gone, so the broker delivers those again', async () => {
    const { source, transport, kafka, timers } = setup();
    await source.start();
    transport.reading('s-1', 1);
    timers.fire();
    await settle();
    transport.dropConnection();
    kafka.last().resolve();
    await settle();
    assert.deepEqual(transport.acked, []);
    assert.equal(source.stats().acksDropped, 1);
    assert.equal(source.stats().connected, false);
    // The broker redelivers after the reconnect (DUP set); it is published again and acked.
    transport.handlers?.event({ type: 'connected', sessionPresent: true, reconnect: true });
    transport.reading('s-1', 1);
    timers.fire();
    await settle();
    kafka.last().resolve();
    await settle();
    assert.equal(transport.acked.length, 1);
    assert.equal(source.stats().reconnects, 1);
    assert.equal(source.stats().sessionsLost, 0);
  });

  it('counts reconnects that found the session gone', async () => {
    const { source, transport } = setup();
    await source.start();
    transport.handlers?.event({ type: 'offline' });
    transport.handlers?.event({ type: 'reconnecting', attempt: 1, nextDelayMs: 1000 });
    transport.handlers?.event({ type: 'connected', sessionPresent: false, reconnect: true });
    assert.equal(source.stats().reconnects, 1);
    assert.equal(source.stats().sessionsLost, 1);
    assert.equal(source.stats().connected, true);
  });

  it('takes no message once stopping: it stays unacknowledged for the next session', async () => {
    const { source, transport, kafka } = setup();
    await source.start();
    transport.reading('s-1', 1);
    const stopped = source.stop();
    transport.reading('s-1', 2);
    await settle();
    kafka.last().resolve();
    await stopped;
    assert.equal(kafka.calls.length, 1);
    assert.deepEqual(
      kafka.calls[0]?.records.map((r) => JSON.parse(String(r.value)).n),
      [1],
    );
    assert.equal(source.stats().refused, 1);
    assert.equal(transport.acked.length, 1);
  });

  it('refuses settings it cannot use, naming them', () => {
    const base = {
      url: 'mqtt://h:1883',
      clientId: 'c',
      topics: ['a/+'],
      kafkaTopic: 't',
      deadLetterTopic: 'd',
      send: async () => undefined,
    };
    assert.throws(() => createMqttSource({ ...base, url: 'h:1883' }), /url must be mqtt:\/\//);
    assert.throws(() => createMqttSource({ ...base, topics: [] }), /at least one topic filter/);
    assert.throws(() => createMqttSource({ ...base, topics: ['a/#/b'] }), /'a\/#\/b'/);
    assert.throws(() => createMqttSource({ ...base, maxBatch: 0 }), /maxBatch must be/);
    assert.throws(() => createMqttSource({ ...base, receiveMaximum: 70_000 }), /at most 65535/);
    assert.throws(() => createMqttSource({ ...base, clientId: ' ' }), /clientId/);
  });
});

describe('MQTT publish queue', () => {
  it('on close with the signal aborted, gives up retrying and acknowledges nothing', async () => {
    const kafka = new FakeKafka();
    const acked: number[] = [];
    const timers = manualSchedule();
    const queue = createPublishQueue({
      send: kafka.send,
      maxBatch: 2,
      lingerMs: 50,
      retry: { baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 },
      schedule: timers.schedule,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    });
    const record = (n: number): KafkaRecordOut => ({
      topic: 't',
      key: null,
      value: Buffer.from(String(n)),
      timestamp: n,
      headers: {},
    });
    for (let n = 0; n < 3; n++) queue.push({ record: record(n), ack: () => acked.push(n) });
    await settle();
    kafka.last().reject(new Error('down'));
    await settle();
    const stop = new AbortController();
    const closing = queue.close(stop.signal);
    stop.abort();
    assert.equal(await closing, 3, 'the failing batch and the one behind it');
    assert.deepEqual(acked, []);
    assert.equal(timers.armed(), 0);
  });

  it('flush sends what lingers without waiting for the timer', async () => {
    const kafka = new FakeKafka();
    const acked: number[] = [];
    const queue = createPublishQueue({
      send: kafka.send,
      maxBatch: 10,
      lingerMs: 60_000,
      retry: { baseDelayMs: 1, maxDelayMs: 1, jitter: 0 },
      schedule: manualSchedule().schedule,
    });
    queue.push({
      record: { topic: 't', key: null, value: null, timestamp: 0, headers: {} },
      ack: () => acked.push(1),
    });
    assert.equal(queue.pending, 1);
    const flushed = queue.flush();
    await settle();
    kafka.last().resolve();
    await flushed;
    assert.deepEqual(acked, [1]);
    assert.equal(queue.pending, 0);
  });
});
