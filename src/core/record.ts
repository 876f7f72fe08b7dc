/**
 * The header `tributary dlq replay` puts on a republished dead letter
 * (`<dead-letter topic>:<partition>:<offset>`):
 * a dedup step lets such a record through although it saw its (key, id) before, since it saw it
 * when the record was dead-lettered downstream, not counted.
 */
export const replayedFromHeader = 'tributary.replay.of';

/** Record headers, as Kafka carries them: each value raw bytes or a UTF-8 string. */
export type Headers = Record<string, Buffer | string | undefined>;

/** One record flowing through a topology: typed key and value, event timestamp (ms), headers. */
export interface StreamRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
}

/** Where a record was read: the source topic, partition and offset. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A record as bytes, as read from or written to Kafka. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}
