import type { Processor, SinkRecord } from '../core/index.ts';

/**
 * Hands each record to `collect` (the task's buffer for this sink); the runtime writes the
 * buffer to the external system at commit, before input offsets (ExternalSink).
 */
export function externalSinkOperator(
  collect: (record: SinkRecord<unknown, unknown>) => void,
): Processor<unknown, unknown, never, never> {
  return {
    process(record) {
      collect({ key: record.key, value: record.value, timestamp: record.timestamp });
    },
  };
}
