import { Command } from 'commander';

import { appSettings, registerTopologySchemas, registrySettings } from '../../app/index.ts';
import { commandTopology } from '../load-topology.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

const groups = [appSettings, registrySettings];

/** `tributary schemas <topology-file>`. */
export function schemasCommand(): Command {
  const command = new Command('schemas')
    .description(
      "Register the schemas of a topology's Avro topics (subjects <topic>-value and <topic>-key) and check their compatibility, as a worker does at start.",
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology');
  return addSettingOptions(command, groups).action(
    async (file: string, options: Record<string, unknown>) => {
      const { source } = commandSettings(options, groups);
      const topology = await commandTopology(file, source, false);
      const topics = await registerTopologySchemas(topology);
      process.stdout.write(
        `schemas registered for ${topics.length === 0 ? 'no topic (no Avro serde)' : topics.join(', ')}\n`,
      );
    },
  );
}
