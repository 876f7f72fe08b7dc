import type { Processor, RawRecord } from '../core/index.ts';
import type { Serde } from '../serde/index.ts';

/** A record on its way to a topic, encoded. */
export interface EncodedRecord extends RawRecord {
  topic: string;
}

/**
 * Encodes each record with the sink's serdes and hands it to `emit` (the task's record
 * collector); the runtime sends what was collected after the batch. A serde error throws here,
 * so the sink's error policy applies to it.
 */
export function sinkOperator(
  topic: string,
  key: Serde<unknown>,
  value: Serde<unknown>,
  emit: (record: EncodedRecord) => void,
): Processor<unknown, unknown, never, never> {
  return {
    process(record) {
      emit({
        topic,
        key: key.serialize(record.key, topic),
        value: value.serialize(record.value, topic),
        timestamp: record.timestamp,
        headers: record.headers,
      });
    },
  };
}
