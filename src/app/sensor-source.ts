import { createMqttSource } from '../connectors/mqtt/index.ts';
import type { Logger } from '../core/index.ts';
import type { Settings } from './config.ts';
import { toolClient } from './operations.ts';

export interface SensorSourceOptions {
  /** MQTT topic filters, e.g. `sensors/+/data`; the `+` level is the sensor id (the key). */
  filters: string[];
  topic: string;
  deadLetterTopic: string;
  /** Fixed, so the broker keeps the session (and queued messages) while the source is away. */
  clientId: string;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * `tributary source sensors`: bridges MQTT readings into a Kafka topic until the signal aborts.
 * A message is acknowledged to the broker only after Kafka acknowledged its record.
 */
export async function runSensorSource(
  settings: Pick<Settings, 'kafka' | 'mqtt'>,
  options: SensorSourceOptions,
): Promise<void> {
  const producer = toolClient(settings.kafka, options.clientId).recordProducer();
  await producer.connect();
  const { credentials } = settings.mqtt;
  const source = createMqttSource({
    url: settings.mqtt.url,
    clientId: options.clientId,
    ...(credentials === undefined ? {} : credentials),
    topics: options.filters,
    kafkaTopic: options.topic,
    deadLetterTopic: options.deadLetterTopic,
    send: (records) => producer.send(records),
    logger: options.logger,
  });
  try {
    await source.start();
    options.logger.info({ filters: options.filters, topic: options.topic }, 'MQTT source started');
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await source.stop();
    await producer.disconnect();
    options.logger.info({ ...source.stats() }, 'MQTT source stopped');
  }
}
