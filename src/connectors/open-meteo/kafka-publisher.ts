import type { Headers } from '../../core/index.ts';
import type { Observation, Publish } from './observation.ts';

/** A record to write: the shape of src/kafka's OutgoingRecord, which connectors do not import. */
export interface KeyedRecordOut {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

/** Anything that sends records and resolves once Kafka acknowledged them all (a RecordProducer). */
export interface RecordSender {
  send(records: KeyedRecordOut[]): Promise<unknown>;
}

/**
 * A Publish writing to one topic: key = location id (UTF-8), value = serialize(observation,
 * topic), record timestamp = the start of the observed hour, so event time travels with the
 * record. `serialize` has a Serde's shape, so `serde.serialize` fits (after `serde.init(topic)`).
 * Pass a connected `createKafkaClient(...).recordProducer()`: idempotent, acks from all in-sync
 * replicas, Java's partitioner, so a location's hours go to one partition in order.
 */
export function kafkaPublisher(
  sender: RecordSender,
  topic: string,
  serialize: (observation: Observation, topic: string) => Buffer | null,
): Publish {
  return async (records) => {
    await sender.send(
      records.map(({ key, value }) => ({
        topic,
        key: Buffer.from(key, 'utf8'),
        value: serialize(value, topic),
        timestamp: value.time,
        headers: {},
      })),
    );
  };
}
