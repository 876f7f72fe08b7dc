import type { OutgoingRecord, RecordProducer, TopicPartitionOffset } from '../kafka/index.ts';
import type { BatchConsumer } from '../kafka/index.ts';

/**
 * The at-least-once commit of one processed batch. The order is the guarantee:
 *
 *   (1) flush sinks to external systems (none yet: Cassandra's sink joins here)
 *   (2) flush store caches to their changelogs (none yet: stateful operators join here)
 *   (3) send the records the batch produced (outputs and dead letters) and wait until every
 *       one is acknowledged
 *   (4) commit the input offset past the batch
 *
 * A crash before (4) means the batch is read again: duplicates, never a loss.
 */
export async function commitBatch(
  producer: RecordProducer,
  consumer: BatchConsumer,
  produced: OutgoingRecord[],
  offset: TopicPartitionOffset,
): Promise<void> {
  // (1), (2): nothing to flush for stateless topologies.
  // (3)
  await producer.send(produced);
  // (4)
  await consumer.commit([offset]);
}
