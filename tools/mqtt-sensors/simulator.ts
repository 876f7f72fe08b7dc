import mqtt from 'mqtt';

import { silentLogger, systemClock, TributaryError } from '../../src/core/index.ts';
import type { Clock, Logger } from '../../src/core/index.ts';
import { realSleep } from '../../src/connectors/mqtt/backoff.ts';
import type { Sleep } from '../../src/connectors/mqtt/backoff.ts';
import { historicalSlots, messageSequence, resolveModel, simulatedKinds } from './sensor-model.ts';
import type {
  HistoricalTime,
  SensorModelOptions,
  SimulatedKind,
  SimulatedMessage,
} from './sensor-model.ts';

export interface SimulateSensorsOptions extends SensorModelOptions {
  /** The broker, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** Default `tributary-simulator-<seed>-<pid>`. */
  clientId?: string;
  username?: string;
  password?: string;
  /**
   * Messages per second, all sensors together (default 50; for a historical run: as fast as
   * the broker acknowledges, within maxInFlight). Each sensor reports every sensors / rate s.
   */
  ratePerSecond?: number;
  /** Live: wall-clock run time. Historical: simulated time (each sensor: duration / interval readings). */
  durationSeconds?: number;
  /** Reading slots in all (duplicates come on top). Without count and duration: until aborted. */
  count?: number;
  /** Historical timestamps instead of the clock: deterministic payloads, sent as fast as allowed. */
  history?: HistoricalTime;
  /** Publishes awaiting the broker's PUBACK at most (default 100). */
  maxInFlight?: number;
  /** After the last publish, how long to wait for the outstanding PUBACKs (default 60 s). */
  drainTimeoutMs?: number;
  /** Wait between reconnect attempts (default 500 ms). */
  reconnectPeriodMs?: number;
  /** Stops publishing; what is in flight is still awaited (up to drainTimeoutMs). */
  signal?: AbortSignal;
  /**
   * Called for each message the broker acknowledged (QoS 1 PUBACK), in acknowledgement order.
   * `matched` is false when the PUBACK said "no matching subscribers" (MQTT 5 reason 16): the
   * broker took the message but had no subscription (no session) to deliver it to.
   */
  onAcknowledged?: (message: SimulatedMessage, ack: { matched: boolean }) => void;
  clock?: Clock;
  logger?: Logger;
  sleep?: Sleep;
}

export interface SimulationReport {
  /** Messages handed to the MQTT client. */
  sent: number;
  /** Messages the broker acknowledged. */
  acknowledged: number;
  /** Messages without an acknowledgement at the end (drain timeout, or the client failed them). */
  unacknowledged: number;
  /** Acknowledged with "no matching subscribers": nobody was subscribed, so nobody got them. */
  noMatchingSubscribers: number;
  /** Sent messages per kind. */
  byKind: Record<SimulatedKind, number>;
  /** Connections after the first (the client resends unacknowledged publishes on each). */
  reconnects: number;
  seconds: number;
}

/**
 * Publishes simulated sensor readings at QoS 1 to `<topicPrefix>/<sensorId>/data` as JSON
 * `{ sensorId, timestamp, temperature, humidity }`, with some spikes, duplicates and bad
 * payloads (see sensor-model.ts). The sequence is fixed by the seed; with `history` the
 * timestamps (and so the payloads) are too: `sensorMessages` recomputes them.
 *
 * One client for the whole run: while the broker is away it stops taking new readings, and
 * mqtt.js sends the unacknowledged publishes again once it is back, so every message ends
 * acknowledged (some maybe twice at the broker: a PUBACK lost with the connection).
 */
export async function simulateSensors(options: SimulateSensorsOptions): Promise<SimulationReport> {
  const model = resolveModel(options);
  const {
    url,
    history,
    clock = systemClock,
    logger = silentLogger,
    sleep = realSleep,
    signal,
    maxInFlight = 100,
    drainTimeoutMs = 60_000,
    reconnectPeriodMs = 500,
  } = options;
  const rate = options.ratePerSecond ?? (history === undefined ? 50 : Infinity);
  if (!(rate > 0)) throw new TributaryError('CONFIG_INVALID', `rate must be > 0, got ${rate}`);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw new TributaryError('CONFIG_INVALID', `maxInFlight must be >= 1, got ${maxInFlight}`);
  const slotLimit =
    options.count ??
    (history !== undefined && options.durationSeconds !== undefined
      ? historicalSlots({ ...options, history })
      : Infinity);
  const endAt =
    history === undefined && options.durationSeconds !== undefined
      ? clock.now() + options.durationSeconds * 1000
      : Infinity;
  const began = clock.now();
  const timeOf =
    history === undefined
      ? () => clock.now()
      : (s: { tick: number; phase: number }) =>
          history.start + (s.tick + s.phase) * history.intervalMs;

  const client = await mqtt.connectAsync(url, {
    clientId: options.clientId ?? `tributary-simulator-${model.seed}-${process.pid}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: reconnectPeriodMs,
    reconnectOnConnackError: true,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  const report: SimulationReport = {
    sent: 0,
    acknowledged: 0,
    unacknowledged: 0,
    noMatchingSubscribers: 0,
    byKind: Object.fromEntries(simulatedKinds.map((k) => [k, 0])) as Record<SimulatedKind, number>,
    reconnects: 0,
    seconds: 0,
  };
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const changed = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const changes = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  client.on('connect', () => {
    report.reconnects++;
    logger.info({ reconnects: report.reconnects }, 'simulator reconnected');
    changed();
  });
  client.on('offline', () => logger.warn({ inFlight }, 'simulator lost the broker; waiting'));
  // The publish callback gets the stored PUBLISH, not the PUBACK: note the reason codes first.
  const unmatched = new Set<number>();
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.reasonCode === 16 && packet.messageId !== undefined)
      unmatched.add(packet.messageId);
  });
  client.on('error', (error) => logger.debug({ err: error.message }, 'simulator MQTT error'));
  signal?.addEventListener('abort', changed, { once: true });
  const aborted = (): boolean => signal?.aborted === true;

  try {
    const sequence = messageSequence(model, timeOf);
    let slots = 0;
    for (;;) {
      if (aborted() || clock.now() >= endAt) break;
      if (rate !== Infinity) {
        const wait = began + (report.sent * 1000) / rate - clock.now();
        if (wait > 1) await sleep(wait, signal).catch(() => undefined);
      }
      while ((inFlight >= maxInFlight || !client.connected) && !aborted()) {
        await changes();
      }
      if (aborted()) break;
      const next = sequence.next();
      if (next.done === true) break;
      const message = next.value;
      if (message.kind !== 'duplicate') {
        if (slots === slotLimit) break;
        slots++;
      }
      inFlight++;
      report.sent++;
      report.byKind[message.kind]++;
      client.publish(message.topic, message.payload, { qos: 1 }, (error, packet) => {
        inFlight--;
        if (error === undefined || error === null) {
          const id = packet?.messageId;
          const matched = id === undefined || !unmatched.delete(id);
          report.acknowledged++;
          if (!matched) report.noMatchingSubscribers++;
          options.onAcknowledged?.(message, { matched });
        } else {
          logger.warn({ err: error.message, topic: message.topic }, 'publish failed');
        }
        changed();
      });
    }
    const drainBy = clock.now() + drainTimeoutMs;
    while (inFlight > 0 && clock.now() < drainBy) {
      await Promise.race([changes(), sleep(Math.min(1000, drainBy - clock.now()))]);
    }
  } finally {
    signal?.removeEventListener('abort', changed);
    report.unacknowledged = report.sent - report.acknowledged;
    report.seconds = (clock.now() - began) / 1000;
    await client.endAsync(report.unacknowledged > 0);
  }
  return report;
}
