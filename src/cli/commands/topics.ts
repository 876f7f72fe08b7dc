import { Command } from 'commander';

import { appSettings, createInternalTopics, kafkaSettings } from '../../app/index.ts';
import { silentLogger } from '../../core/index.ts';
import { commandTopology } from '../load-topology.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

/** `tributary topics <topology-file> [--create]`: Kafka only with --create. */
export function topicsCommand(): Command {
  const command = new Command('topics')
    .description(
      "Show a topology's topics; with --create, create its internal topics (repartition, dead letters, changelogs) as a worker would.",
    )
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .option('--create', 'create the internal topics that do not exist');
  return addSettingOptions(command, [kafkaSettings, appSettings]).action(
    async (file: string, options: Record<string, unknown>) => {
      const create = options['create'] === true;
      const { source } = commandSettings(
        options,
        create ? [kafkaSettings, appSettings] : [appSettings],
      );
      const topology = await commandTopology(file, source);
      const { plan } = topology;
      if (!create) {
        process.stdout.write(
          [
            `source topics: ${plan.sourceTopics.join(', ')}`,
            `sink topics: ${plan.sinkTopics.join(', ')}`,
            ...plan.internalTopics.map((t) => `internal (${t.kind}): ${t.name}`),
          ].join('\n') + '\n',
        );
        return;
      }
      const counts = await createInternalTopics(
        topology,
        source.read(kafkaSettings).kafka,
        undefined,
        silentLogger,
        source.read(appSettings).replicationFactor,
      );
      for (const t of plan.internalTopics)
        process.stdout.write(`${t.name} (${t.kind}): ${counts.get(t.name)} partitions\n`);
    },
  );
}
