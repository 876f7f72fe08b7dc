import type { Headers } from '../../core/index.ts';

/** A record to write: the shape of src/kafka's OutgoingRecord, which connectors do not import. */
export interface KafkaRecordOut {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

/**
 * Writes the records and resolves only once Kafka acknowledged every one (a RecordProducer's
 * `send` fits: `(records) => producer.send(records)`). A rejection means some may have been
 * written: the source sends the same records again, so a retry can duplicate, never lose.
 */
export type SendRecords = (records: KafkaRecordOut[]) => Promise<unknown>;

/**
 * Header names. The `tributary.error.*` ones are those of src/runtime/dead-letter.ts (connectors
 * do not import the runtime; test/unit/mqtt-message.test.ts checks that they stay equal), so one
 * dead-letter topic can hold what the source and the runtime reject.
 */
export const mqttHeaders = {
  /** `invalid`: the runtime's reason for what could not be decoded. */
  reason: 'tributary.error.reason',
  code: 'tributary.error.code',
  message: 'tributary.error.message',
  /** The source's name (the runtime puts the operator's name here). */
  operator: 'tributary.error.operator',
  /** The MQTT topic the message was published to (on every record the source writes). */
  mqttTopic: 'tributary.source.mqtt-topic',
} as const;
