import { silentLogger, systemClock, TributaryError } from '../../core/index.ts';
import type { Clock, Headers, Logger } from '../../core/index.ts';
import type { Backoff, Schedule, Sleep } from './backoff.ts';
import {
  classifyMessage,
  payloadFieldTimestamp,
  validateTopicFilter,
  wildcardKey,
} from './message.ts';
import type { KeyExtractor, TimestampExtractor } from './message.ts';
import { createPublishQueue } from './publish-queue.ts';
import { mqttHeaders } from './records.ts';
import type { KafkaRecordOut, SendRecords } from './records.ts';
import { mqttTransport } from './transport.ts';
import type { InboundMessage, MqttTransport, TransportEvent } from './transport.ts';

export interface MqttSourceOptions {
  /** The broker: `mqtt://host:1883`, `mqtts://...`, `ws://...`. */
  url: string;
  /**
   * Fixed per source instance: the broker keeps this client's session (its subscriptions and
   * the QoS 1 messages that arrive while it is away) under this id. Two live clients with one
   * id throw each other off the broker.
   */
  clientId: string;
  username?: string;
  password?: string;
  /** Topic filters subscribed at QoS 1, e.g. `sensors/+/data`. */
  topics: readonly string[];
  /** The Kafka topic records go to. */
  kafkaTopic: string;
  /** The Kafka topic for messages that are not UTF-8 JSON objects or have no key. */
  deadLetterTopic: string;
  /** Writes records to Kafka; resolves once Kafka acknowledged them all. */
  send: SendRecords;
  /** The record key (default: the level at the filter's first `+`, see wildcardKey). */
  key?: KeyExtractor;
  /** The record timestamp (default: the payload's `timestamp`, ms or ISO-8601; else arrival). */
  timestamp?: TimestampExtractor;
  /** Records per Kafka send at most (default 500). */
  maxBatch?: number;
  /** How long a record waits for others to fill its batch (default 50 ms). */
  lingerMs?: number;
  /** Unacknowledged messages the broker may have out with us (default 2 x maxBatch). */
  receiveMaximum?: number;
  /** How long the broker keeps the session while we are away (default 7 days). */
  sessionExpirySeconds?: number;
  /** Reconnect waits (default 0.5 s doubling to 30 s, jitter 0.2). */
  reconnect?: Backoff;
  /** Waits between attempts of a failed Kafka send (default 0.2 s doubling to 10 s, jitter 0.2). */
  sendRetry?: Backoff;
  /** Per connection attempt (default 10 s). */
  connectTimeoutMs?: number;
  /** start() fails when the first connection and subscription take longer (default 30 s). */
  startTimeoutMs?: number;
  /** stop() gives up waiting for Kafka after this long (default 30 s); the rest is redelivered. */
  stopTimeoutMs?: number;
  keepaliveSeconds?: number;
  /** Names the source in logs and in the `tributary.error.operator` header (default `mqtt-source`). */
  name?: string;
  logger?: Logger;
  clock?: Clock;
  /** The MQTT side; tests pass a fake. Default: mqtt.js with the settings above. */
  transport?: MqttTransport;
  sleep?: Sleep;
  schedule?: Schedule;
  random?: () => number;
}

/** Counters since the source was created. */
export interface MqttSourceStats {
  /** Messages taken from the broker (redeliveries included). */
  received: number;
  /** Records acknowledged by Kafka on the records topic. */
  published: number;
  /** Messages classified as malformed (on their way to the dead-letter topic). */
  malformed: number;
  /** Malformed messages acknowledged by Kafka on the dead-letter topic. */
  deadLettered: number;
  /** PUBACKs written to the broker (after Kafka acknowledged the record). */
  acked: number;
  /** Acks not written because the connection the message came on was gone (it is redelivered). */
  acksDropped: number;
  /** Messages the broker marked as sent before (DUP): their earlier delivery was not acknowledged. */
  redelivered: number;
  /** Messages taken while stopping: not published, not acknowledged (redelivered next session). */
  refused: number;
  /** Kafka sends that failed (each attempt counts). */
  sendFailures: number;
  /** Connections after the first. */
  reconnects: number;
  /** Reconnects on which the broker no longer had our session (what it had queued is gone). */
  sessionsLost: number;
  /** Records queued or being sent to Kafka now. */
  pending: number;
  connected: boolean;
}

/**
 * Lifecycle:
 *
 *   idle --start()--> starting --(connected, subscribed)--> running --stop()--> stopping --> stopped
 *                        \--(refused, timeout)--> stopped
 */
export type MqttSourceState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface MqttSource {
  /** Connects, subscribes and starts publishing; resolves once the broker granted QoS 1. */
  start(): Promise<void>;
  /**
   * Stops taking messages, sends the records in flight and acknowledges them, then disconnects
   * (the broker keeps the session: what arrives meanwhile waits for the next start).
   */
  stop(): Promise<void>;
  readonly state: MqttSourceState;
  stats(): MqttSourceStats;
}

const positiveInteger = (value: number): boolean => Number.isInteger(value) && value > 0;

function validate(options: MqttSourceOptions): void {
  const invalid = (message: string): never => {
    throw new TributaryError('CONFIG_INVALID', `MQTT source: ${message}`);
  };
  if (!/^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(options.url))
    invalid(`url must be mqtt://host:port (or mqtts, ws, wss), got '${options.url}'`);
  if (options.clientId.trim() === '') invalid('clientId must not be empty');
  if (options.topics.length === 0) invalid('topics must name at least one topic filter');
  for (const filter of options.topics) validateTopicFilter(filter, 'MQTT source topics');
  if (options.kafkaTopic === '') invalid('kafkaTopic must not be empty');
  if (options.deadLetterTopic === '') invalid('deadLetterTopic must not be empty');
  for (const [name, value] of Object.entries({
    maxBatch: options.maxBatch,
    receiveMaximum: options.receiveMaximum,
  })) {
    if (value !== undefined && !positiveInteger(value))
      invalid(`${name} must be an integer > 0, got ${value}`);
  }
  if (options.receiveMaximum !== undefined && options.receiveMaximum > 65_535)
    invalid(`receiveMaximum must be at most 65535, got ${options.receiveMaximum}`);
  if (options.lingerMs !== undefined && !(options.lingerMs >= 0))
    invalid(`lingerMs must be >= 0, got ${options.lingerMs}`);
}

/**
 * An MQTT source: subscribes at QoS 1 and publishes each message to Kafka as a keyed record
 * (value = the payload bytes, unchanged), in batches. The guarantee rests on this order:
 *
 *   1. the broker delivers a QoS 1 message and keeps it in our session until we PUBACK it;
 *   2. the message is classified: a UTF-8 JSON object with a key becomes a record on kafkaTopic;
 *      anything else a record on deadLetterTopic, with the reason in headers;
 *   3. the record is sent to Kafka in a batch (retried with backoff while Kafka fails);
 *   4. only after Kafka acknowledged the batch is each message acknowledged to the broker.
 *
 * A crash or a lost connection between 3 and 4 means the broker delivers the message again, so
 * Kafka may hold a record twice (at-least-once; the broker sets DUP, counted as `redelivered`),
 * but a message the broker considers delivered is in Kafka. Two broker settings bound this:
 * across a broker restart it holds only if the broker persists sessions (Mosquitto:
 * `persistence true`); without, the restarted broker has neither our queued messages nor our
 * subscription, and until we subscribe again it acknowledges publishes with "no matching
 * subscribers" and drops them. And the broker must not drop what it queues for us while we are
 * slow or away (Mosquitto: `max_queued_messages`, 1000 per client by default).
 */
export function createMqttSource(options: MqttSourceOptions): MqttSource {
  validate(options);
  const {
    kafkaTopic,
    deadLetterTopic,
    maxBatch = 500,
    lingerMs = 50,
    name = 'mqtt-source',
    clock = systemClock,
    stopTimeoutMs = 30_000,
  } = options;
  const logger = (options.logger ?? silentLogger).child({ source: name, mqtt: options.url });
  const key = options.key ?? wildcardKey(options.topics);
  const timestampOf = options.timestamp ?? payloadFieldTimestamp('timestamp');
  const transport =
    options.transport ??
    mqttTransport({
      url: options.url,
      clientId: options.clientId,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      filters: options.topics,
      sessionExpirySeconds: options.sessionExpirySeconds ?? 7 * 24 * 3600,
      receiveMaximum: options.receiveMaximum ?? Math.min(65_535, 2 * maxBatch),
      reconnect: options.reconnect ?? { baseDelayMs: 500, maxDelayMs: 30_000, jitter: 0.2 },
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      keepaliveSeconds: options.keepaliveSeconds ?? 30,
      logger,
      ...(options.random === undefined ? {} : { random: options.random }),
    });

  const stats: Omit<MqttSourceStats, 'pending'> = {
    received: 0,
    published: 0,
    malformed: 0,
    deadLettered: 0,
    acked: 0,
    acksDropped: 0,
    redelivered: 0,
    refused: 0,
    sendFailures: 0,
    reconnects: 0,
    sessionsLost: 0,
    connected: false,
  };
  let state: MqttSourceState = 'idle';

  const queue = createPublishQueue({
    send: options.send,
    maxBatch,
    lingerMs,
    retry: options.sendRetry ?? { baseDelayMs: 200, maxDelayMs: 10_000, jitter: 0.2 },
    logger,
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    ...(options.random === undefined ? {} : { random: options.random }),
    onSent: (batch) => {
      for (const { record } of batch) {
        if (record.topic === kafkaTopic) stats.published++;
        else stats.deadLettered++;
      }
    },
    onSendFailed: () => {
      stats.sendFailures++;
    },
  });

  function recordOf(message: InboundMessage): KafkaRecordOut {
    const classified = classifyMessage(message.topic, message.payload, key);
    const headers: Headers = { [mqttHeaders.mqttTopic]: message.topic };
    if (classified.kind === 'record') {
      return {
        topic: kafkaTopic,
        key: Buffer.from(classified.key, 'utf8'),
        value: message.payload,
        timestamp: timestampOf(classified.payload) ?? clock.now(),
        headers,
      };
    }
    stats.malformed++;
    logger.debug(
      { topic: message.topic, code: classified.code, bytes: message.payload.length },
      'malformed message to the dead-letter topic',
    );
    return {
      topic: deadLetterTopic,
      key: classified.key === undefined ? null : Buffer.from(classified.key, 'utf8'),
      value: message.payload,
      timestamp: clock.now(),
      headers: {
        ...headers,
        [mqttHeaders.reason]: 'invalid',
        [mqttHeaders.code]: classified.code,
        // Bounded, as the runtime's: a parse error may quote a large payload.
        [mqttHeaders.message]: classified.message.slice(0, 1000),
        [mqttHeaders.operator]: name,
      },
    };
  }

  function onMessage(message: InboundMessage): void {
    if (state !== 'starting' && state !== 'running') {
      // Stopping: not acknowledged, so the broker keeps it for the next session.
      stats.refused++;
      return;
    }
    stats.received++;
    if (message.redelivered) stats.redelivered++;
    queue.push({
      record: recordOf(message),
      ack: () => {
        if (message.ack()) stats.acked++;
        else stats.acksDropped++;
      },
    });
  }

  function onEvent(event: TransportEvent): void {
    switch (event.type) {
      case 'connected':
        stats.connected = true;
        if (event.reconnect) {
          stats.reconnects++;
          if (!event.sessionPresent) stats.sessionsLost++;
          const log = event.sessionPresent ? logger.info : logger.warn;
          log.call(
            logger,
            { sessionPresent: event.sessionPresent, reconnects: stats.reconnects },
            event.sessionPresent
              ? 'reconnected to the MQTT broker; session resumed'
              : 'reconnected to the MQTT broker, which no longer had our session: messages it held for us are lost; subscribing again',
          );
        } else {
          logger.info({ sessionPresent: event.sessionPresent }, 'connected to the MQTT broker');
        }
        return;
      case 'offline':
        stats.connected = false;
        logger.warn(
          { pending: queue.pending },
          'MQTT connection lost; reconnecting (records in flight still go to Kafka; their messages will be redelivered)',
        );
        return;
      case 'reconnecting':
        logger.info(
          { attempt: event.attempt, nextDelayMs: event.nextDelayMs },
          'reconnecting to the MQTT broker',
        );
        return;
      case 'error':
        logger.warn({ err: event.error.message }, 'MQTT client error');
        return;
    }
  }

  return {
    get state() {
      return state;
    },
    async start() {
      if (state !== 'idle') throw new Error(`cannot start an MQTT source that is ${state}`);
      state = 'starting';
      try {
        await transport.open({ message: onMessage, event: onEvent });
      } catch (error) {
        state = 'stopped';
        await queue.close(AbortSignal.abort());
        throw error;
      }
      if (state === 'starting') state = 'running';
      logger.info({ topics: options.topics, kafkaTopic }, 'MQTT source running');
    },
    async stop() {
      if (state === 'stopped' || state === 'stopping') return;
      state = 'stopping';
      const left = await queue.close(AbortSignal.timeout(stopTimeoutMs));
      if (left > 0) {
        logger.warn(
          { records: left, stopTimeoutMs },
          'stopped before Kafka acknowledged these records; the broker delivers their messages again',
        );
      }
      try {
        await transport.close();
      } finally {
        state = 'stopped';
        stats.connected = false;
        logger.info({ ...stats, pending: 0 }, 'MQTT source stopped');
      }
    },
    stats: () => ({ ...stats, pending: queue.pending }),
  };
}
