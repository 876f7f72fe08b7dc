import type { Settings } from '../../src/app/index.ts';
import type { KafkaClient } from '../../src/kafka/index.ts';
import { avro } from '../../src/serde/index.ts';
import type { InputRecord } from '../verify/weather-expectations.ts';
import { readWholeTopic } from './read-topic.ts';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type { Observation } from '../../src/connectors/open-meteo/index.ts';

/** The observations topic as read back, each record decoded with its writer's schema, or not. */
export async function readObservations(
  client: KafkaClient,
  settings: Pick<Settings, 'registry'>,
  topic: string,
): Promise<InputRecord[]> {
  const records = await readWholeTopic(client, topic);
  const serde = avro<Observation>({
    registry: settings.registry,
    schema: weatherSchemaFiles.observation,
  });
  await serde.prepareBatch?.(
    records.map((r) => r.value),
    topic,
  );
  return records.map((r) => {
    let observation: Observation | undefined;
    try {
      observation = serde.deserialize(r.value, topic);
    } catch {
      observation = undefined;
    }
    return {
      partition: r.partition,
      offset: r.offset,
      key: r.key?.toString() ?? '',
      timestamp: r.timestamp,
      observation,
    };
  });
}
