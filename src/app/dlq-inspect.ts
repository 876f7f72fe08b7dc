import { TributaryError } from '../core/index.ts';
import type { KafkaClient } from '../kafka/index.ts';
import type { KafkaSettings } from './config.ts';
import { readDeadLetter } from './dlq-letter.ts';
import type { DeadLetterFilter } from './dlq-letter.ts';
import { SummaryBuilder } from './dlq-summary.ts';
import type { DeadLetterSummary } from './dlq-summary.ts';
import { toolClient } from './operations.ts';

/** The dead-letter topic of an application, as workers create it. */
export function deadLetterTopicOf(appId: string): string {
  return `${appId}-dlq`;
}

/** The partition count of each topic; a TOPIC_NOT_FOUND error naming the first that is missing. */
export async function requireTopics(
  client: KafkaClient,
  topics: { name: string; what: string; hint?: string }[],
): Promise<Map<string, number>> {
  const admin = client.topicAdmin();
  await admin.connect();
  try {
    const counts = await admin.partitionCounts(topics.map((t) => t.name));
    for (const topic of topics) {
      if (!counts.has(topic.name))
        throw new TributaryError(
          'TOPIC_NOT_FOUND',
          `${topic.what} ${topic.name} does not exist${topic.hint === undefined ? '' : `: ${topic.hint}`}`,
        );
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/** How `dlq` names the dead-letter topic when it is missing. */
export const deadLetterTopicCheck = {
  what: 'dead-letter topic',
  hint: 'a worker creates <appId>-dlq when it starts, so either the application id is not the one given (--app-id, TRIBUTARY_APP_ID) or no worker of it has started yet',
};

export interface InspectOptions {
  /** The dead-letter topic. */
  topic: string;
  filter: DeadLetterFilter;
  /** Samples shown per error code. */
  samples: number;
}

/**
 * Reads the whole dead-letter topic, up to its end when the read starts (read_committed), and
 * summarises the letters the filter takes: counts by code, operator, reason and source topic,
 * time ranges, samples per code. Letter by letter: the topic is never held in memory.
 */
export async function inspectDeadLetters(
  kafka: KafkaSettings,
  options: InspectOptions,
): Promise<DeadLetterSummary> {
  const client = toolClient(kafka, 'tributary-dlq-inspect');
  await requireTopics(client, [{ name: options.topic, ...deadLetterTopicCheck }]);
  const builder = new SummaryBuilder(options.topic, options.filter, options.samples);
  const read = await client.topicReader().read(options.topic, async (partition, records) => {
    for (const record of records) builder.add(readDeadLetter(partition, record));
  });
  return builder.finish(read.partitions);
}
