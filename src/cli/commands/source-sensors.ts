import { Command } from 'commander';

import {
  createLogger,
  kafkaSettings,
  logSettings,
  mqttSettings,
  runSensorSource,
} from '../../app/index.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

const groups = [kafkaSettings, mqttSettings, logSettings];

/** `tributary source sensors`. */
export function sourceSensorsCommand(): Command {
  const command = new Command('sensors')
    .description(
      'Bridge MQTT sensor readings into Kafka: QoS 1, each message acknowledged to the broker only after Kafka acknowledged it; malformed payloads to the dead-letter topic. Runs until SIGTERM.',
    )
    .option('--filter <filter...>', 'MQTT topic filters (the + level is the key)', [
      'sensors/+/data',
    ])
    .option('--topic <name>', 'Kafka topic to write', 'sensor-readings')
    .option('--dead-letter-topic <name>', 'Kafka topic for malformed payloads', 'sensors-dlq')
    .option(
      '--client-id <id>',
      'fixed MQTT client id (keeps the session)',
      'tributary-sensor-source',
    );
  return addSettingOptions(command, groups).action(async (options: Record<string, unknown>) => {
    const { settings } = commandSettings(options, groups);
    const abort = new AbortController();
    process.once('SIGTERM', () => abort.abort());
    process.once('SIGINT', () => abort.abort());
    await runSensorSource(settings, {
      filters: options['filter'] as string[],
      topic: options['topic'] as string,
      deadLetterTopic: options['deadLetterTopic'] as string,
      clientId: options['clientId'] as string,
      logger: createLogger({
        app: 'tributary-source',
        worker: 'sensors',
        level: settings.logLevel,
      }),
      signal: abort.signal,
    });
  });
}
