import { Command } from 'commander';

import { sourceSensorsCommand } from './source-sensors.ts';
import { sourceWeatherCommand } from './source-weather.ts';

/** `tributary source weather|sensors`. */
export function sourceCommand(): Command {
  return new Command('source')
    .description('Run a source that publishes an external system into Kafka.')
    .addCommand(sourceWeatherCommand())
    .addCommand(sourceSensorsCommand());
}
