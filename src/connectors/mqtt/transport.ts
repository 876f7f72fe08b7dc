import mqtt from 'mqtt';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';

import { silentLogger } from '../../core/index.ts';
import type { Logger } from '../../core/index.ts';
import { backoffDelay } from './backoff.ts';
import type { Backoff } from './backoff.ts';
import { MqttSourceError } from './errors.ts';

/** A message as the broker delivered it. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** The broker sent it before (the DUP flag): an earlier delivery was not acknowledged. */
  redelivered: boolean;
  /**
   * Acknowledges the message to the broker (PUBACK; nothing for QoS 0). Returns false when the
   * connection it came on is gone: the broker keeps it in the session and delivers it again.
   */
  ack(): boolean;
}

export type TransportEvent =
  | { type: 'connected'; sessionPresent: boolean; reconnect: boolean }
  | { type: 'offline' }
  | { type: 'reconnecting'; attempt: number; nextDelayMs: number }
  | { type: 'error'; error: Error };

export interface TransportHandlers {
  message(message: InboundMessage): void;
  event(event: TransportEvent): void;
}

/** The MQTT side of the source: the mqtt.js adapter, or a fake in tests. */
export interface MqttTransport {
  /**
   * Connects and subscribes; resolves once the broker granted every filter QoS 1. Rejects when
   * the broker refuses the connection or a subscription, or is not reachable within
   * startTimeoutMs. Once open, it reconnects on its own until closed.
   */
  open(handlers: TransportHandlers): Promise<void>;
  /** Sends DISCONNECT (the broker keeps the session and what arrives for it) and closes. */
  close(): Promise<void>;
}

export interface MqttTransportOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Topic filters, each subscribed at QoS 1. */
  filters: readonly string[];
  /** How long the broker keeps the session while we are away (MQTT 5 session expiry). */
  sessionExpirySeconds: number;
  /** QoS 1 messages the broker may have unacknowledged with us at once (MQTT 5 receive maximum). */
  receiveMaximum: number;
  reconnect: Backoff;
  connectTimeoutMs: number;
  startTimeoutMs: number;
  keepaliveSeconds: number;
  logger?: Logger;
  random?: () => number;
}

/** PUBACK with reason Success and no properties: remaining length 2 (valid in MQTT 3.1.1 and 5). */
function pubackBytes(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

/**
 * The mqtt.js adapter. Why it writes PUBACKs itself: mqtt.js handles incoming packets one at a
 * time, and the next only after the PUBACK of the current one is written (client.js `work`,
 * handlers/publish.js); `customHandleAcks` withholds the PUBACK until its callback runs, but so
 * it also withholds every later message, which makes batches of one. Instead, `handleMessage`
 * (documented as overridable) takes each QoS 1 message and answers mqtt.js with an error, which
 * makes mqtt.js go on to the next packet without a PUBACK (publish.js: `if (err) return done(err)`);
 * the message's `ack` later writes the PUBACK to the connection it arrived on, if it is still open.
 * Packet ids need no bookkeeping on our side: the broker does not reuse one before its PUBACK.
 */
export function mqttTransport(options: MqttTransportOptions): MqttTransport {
  const { logger = silentLogger, random = Math.random } = options;
  let client: MqttClient | undefined;
  let reconnectAttempt = 0;
  let everConnected = false;
  /** Rejects a pending open() (close() during start-up). */
  let cancelOpen: ((error: Error) => void) | undefined;

  function clientOptions(): IClientOptions {
    return {
      clientId: options.clientId,
      protocolVersion: 5,
      clean: false,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      keepalive: options.keepaliveSeconds,
      connectTimeout: options.connectTimeoutMs,
      reconnectPeriod: options.reconnect.baseDelayMs,
      // Once open, a refused CONNACK (a broker starting up: 'server unavailable') is retried too;
      // open() itself fails at once on a refusal, since that is a setting to fix.
      reconnectOnConnackError: true,
      resubscribe: true,
      properties: {
        sessionExpiryInterval: options.sessionExpirySeconds,
        receiveMaximum: options.receiveMaximum,
      },
    };
  }

  function subscribe(c: MqttClient): Promise<void> {
    const map = Object.fromEntries(
      // rh 1: retained messages only for a new subscription, not again on each restart.
      options.filters.map((filter) => [filter, { qos: 1 as const, rh: 1 }]),
    );
    return c.subscribeAsync(map).then((granted) => {
      const refused = granted.filter((g) => g.qos !== 1);
      if (refused.length > 0) {
        throw new MqttSourceError(
          'MQTT_SUBSCRIBE_REFUSED',
          `${options.url} refused ${refused
            .map((g) => `'${g.topic}' (granted ${g.qos === 128 ? 'failure' : `QoS ${g.qos}`})`)
            .join(', ')}: the source needs QoS 1`,
        );
      }
    });
  }

  return {
    open(handlers) {
      if (client !== undefined) throw new Error('the MQTT transport is already open');
      const c = mqtt.connect(options.url, clientOptions());
      client = c;

      c.handleMessage = (packet: IPublishPacket, callback) => {
        const stream = c.stream;
        const qos = packet.qos;
        const messageId = packet.messageId;
        handlers.message({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          qos,
          redelivered: packet.dup,
          ack: () => {
            if (qos === 0 || messageId === undefined) return true;
            if (c.stream !== stream || !c.connected || stream.destroyed) return false;
            stream.write(pubackBytes(messageId));
            return true;
          },
        });
        // An error makes mqtt.js skip its own PUBACK and go on with the next packet.
        if (qos === 0) callback();
        else callback(new Error('acknowledged later, once Kafka has the record'));
      };

      c.on('connect', (connack) => {
        const reconnect = everConnected;
        everConnected = true;
        reconnectAttempt = 0;
        c.options.reconnectPeriod = options.reconnect.baseDelayMs;
        handlers.event({ type: 'connected', sessionPresent: connack.sessionPresent, reconnect });
      });
      c.on('offline', () => handlers.event({ type: 'offline' }));
      c.on('reconnect', () => {
        // mqtt.js waits a fixed reconnectPeriod; changing it before each attempt makes the
        // wait after this attempt (should it fail) grow: exponential backoff.
        reconnectAttempt++;
        const nextDelayMs = backoffDelay(reconnectAttempt + 1, options.reconnect, random);
        c.options.reconnectPeriod = nextDelayMs;
        handlers.event({ type: 'reconnecting', attempt: reconnectAttempt, nextDelayMs });
      });
      c.on('error', (error) => handlers.event({ type: 'error', error }));

      return new Promise<void>((resolve, reject) => {
        const fail = (error: Error): void => {
          cancelOpen = undefined;
          clearTimeout(timer);
          c.removeListener('error', onError);
          client = undefined;
          c.end(true);
          reject(error);
        };
        const timer = setTimeout(
          () =>
            fail(
              new MqttSourceError(
                'MQTT_UNAVAILABLE',
                `no connection to the MQTT broker ${options.url} within ${options.startTimeoutMs} ms`,
              ),
            ),
          options.startTimeoutMs,
        );
        const onError = (error: Error & { code?: unknown }): void => {
          // A CONNACK with a failure reason (a number): credentials, client id, authorization.
          if (typeof error.code === 'number') {
            fail(
              new MqttSourceError(
                'MQTT_CONNECTION_REFUSED',
                `the MQTT broker ${options.url} refused client '${options.clientId}': ${error.message}`,
                { cause: error },
              ),
            );
          }
        };
        cancelOpen = fail;
        c.on('error', onError);
        c.once('connect', () => {
          subscribe(c).then(
            () => {
              cancelOpen = undefined;
              clearTimeout(timer);
              c.removeListener('error', onError);
              logger.debug({ filters: options.filters }, 'subscribed');
              resolve();
            },
            (error: unknown) =>
              fail(error instanceof Error ? error : new Error(String(error), { cause: error })),
          );
        });
      });
    },
    async close() {
      cancelOpen?.(
        new MqttSourceError('MQTT_UNAVAILABLE', `closed while connecting to ${options.url}`),
      );
      const c = client;
      client = undefined;
      if (c === undefined) return;
      await c.endAsync();
    },
  };
}
