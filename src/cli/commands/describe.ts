import { Command, Option } from 'commander';

import { appSettings } from '../../app/index.ts';
import { describeJson } from '../../topology/index.ts';
import { commandTopology } from '../load-topology.ts';
import { addSettingOptions, commandSettings } from '../settings-options.ts';

/** Offline: only the application id (TRIBUTARY_APP_ID renames the topology). */
const groups = [appSettings];

/** `tributary describe <topology-file>`. */
export function describeCommand(): Command {
  const command = new Command('describe')
    .description("Print a topology's sub-topologies, operators and topics.")
    .argument('<topology-file>', 'a .ts or .js file whose default export is a topology')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'mermaid', 'json'])
        .default('text'),
    );
  return addSettingOptions(command, groups).action(
    async (file: string, options: Record<string, unknown>) => {
      const { source } = commandSettings(options, groups);
      const topology = await commandTopology(file, source);
      const format = options['format'];
      const out =
        format === 'json'
          ? JSON.stringify(describeJson(topology.plan), null, 2)
          : format === 'mermaid'
            ? topology.describe().mermaid
            : topology.describe().text;
      process.stdout.write(`${out}\n`);
    },
  );
}
