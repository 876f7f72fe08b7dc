/**
 * `tributary/connectors/mqtt`: a source from an MQTT broker (MQTT 5, persistent session) into a
 * Kafka topic, with its key and timestamp extractors and error codes (docs/api.md). The caller
 * brings the Kafka producer as `send`. The sensor simulator is a demo tool, not part of this.
 *
 * @example
 *   import { createMqttSource, topicLevelKey } from 'tributary/connectors/mqtt';
 *
 *   const source = createMqttSource({
 *     url: 'mqtt://127.0.0.1:1883', clientId: 'sensors-source', topics: ['sensors/+/data'],
 *     kafkaTopic: 'sensor-readings', deadLetterTopic: 'sensor-readings-dlq',
 *     key: topicLevelKey(1), send: (records) => producer.send(records),
 *   });
 *   await source.start();
 */
export { createMqttSource } from './connectors/mqtt/index.ts';
export type {
  MqttSource,
  MqttSourceOptions,
  MqttSourceState,
  MqttSourceStats,
} from './connectors/mqtt/index.ts';
export {
  payloadFieldKey,
  payloadFieldTimestamp,
  topicLevelKey,
  wildcardKey,
} from './connectors/mqtt/index.ts';
export type { JsonObject, KeyExtractor, TimestampExtractor } from './connectors/mqtt/index.ts';
export type { KafkaRecordOut, SendRecords } from './connectors/mqtt/index.ts';
export { mqttHeaders } from './connectors/mqtt/index.ts';
export { MqttSourceError, mqttErrorCodes } from './connectors/mqtt/index.ts';
export type { MalformedCode, MqttErrorCode } from './connectors/mqtt/index.ts';
