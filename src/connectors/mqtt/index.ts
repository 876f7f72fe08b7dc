/**
 * connectors/mqtt: the MQTT source (QoS 1 messages to keyed Kafka records, each acknowledged to
 * the broker only once Kafka has its record; malformed payloads to the dead-letter topic). The
 * sensor simulator for tests and the sensors demo is a tool: tools/mqtt-sensors.
 *
 * @example
 *   const producer = createKafkaClient({ brokers, clientId }).recordProducer();
 *   await producer.connect();
 *   const source = createMqttSource({
 *     url: 'mqtt://127.0.0.1:1883',
 *     clientId: 'tributary-sensors-source', // fixed: the broker keeps this session
 *     topics: ['sensors/+/data'], // key: the `+` level (the sensor id)
 *     kafkaTopic: 'sensor-readings',
 *     deadLetterTopic: 'sensor-readings-dlq',
 *     send: (records) => producer.send(records),
 *     logger,
 *   });
 *   await source.start();
 *   // on SIGTERM: await source.stop(); await producer.disconnect();
 *
 *   // 100 sensors, 50 messages a second, 1% bad payloads, for a minute:
 *   const report = await simulateSensors({ url, sensors: 100, ratePerSecond: 50, durationSeconds: 60 });
 *   // Two hours of history at one reading a minute, as fast as the broker takes them:
 *   await simulateSensors({ url, durationSeconds: 7200, history: { start, intervalMs: 60_000 } });
 *   // ...and what that run sent, recomputed:
 *   for (const message of sensorMessages({ durationSeconds: 7200, history: { start, intervalMs: 60_000 } })) ...
 */
export { backoffDelay } from './backoff.ts';
export type { Backoff, Schedule, Sleep } from './backoff.ts';
export { MqttSourceError, mqttErrorCodes } from './errors.ts';
export type { MalformedCode, MqttErrorCode } from './errors.ts';
export {
  classifyMessage,
  payloadFieldKey,
  payloadFieldTimestamp,
  topicLevelKey,
  topicMatches,
  validateTopicFilter,
  wildcardKey,
} from './message.ts';
export type { ClassifiedMessage, JsonObject, KeyExtractor, TimestampExtractor } from './message.ts';
export { createPublishQueue } from './publish-queue.ts';
export type { PendingRecord, PublishQueue, PublishQueueOptions } from './publish-queue.ts';
export { mqttHeaders } from './records.ts';
export type { KafkaRecordOut, SendRecords } from './records.ts';
export { mqttSettings } from './settings.ts';
export type { MqttConnection } from './settings.ts';
export { createMqttSource } from './source.ts';
export type { MqttSource, MqttSourceOptions, MqttSourceState, MqttSourceStats } from './source.ts';
export { mqttTransport } from './transport.ts';
export type {
  InboundMessage,
  MqttTransport,
  MqttTransportOptions,
  TransportEvent,
  TransportHandlers,
} from './transport.ts';
