import type { Command } from 'commander';

import { allSettingGroups } from '../app/index.ts';
import { flagOf, rawSettings, rowsOf, SettingsSource } from '../core/index.ts';
import type { ResolvedSettings, SettingGroup } from '../core/index.ts';

/**
 * Adds a `--<flag> <value>` option for every row of the groups, described for --help: a
 * command's help lists the settings it reads and no others.
 */
export function addSettingOptions(command: Command, groups: readonly SettingGroup[]): Command {
  for (const spec of rowsOf(groups)) {
    const fallback = spec.fallback?.();
    const help = `${spec.expects} [env ${spec.env}${fallback === undefined ? '' : `, default ${fallback}`}]`;
    command.option(`--${flagOf(spec)} <value>`, help);
  }
  return command;
}

/**
 * The settings of a command: flags over the environment, every group the command uses
 * validated now (CONFIG_INVALID naming the first bad setting), the others left unread. The
 * source also holds the environment of every other group, read only if a topology asks.
 */
export function commandSettings<const G extends readonly SettingGroup[]>(
  options: Record<string, unknown>,
  groups: G,
): { source: SettingsSource; settings: ResolvedSettings<G> } {
  const source = new SettingsSource(rawSettings(allSettingGroups, process.env, options));
  for (const group of groups) source.read(group);
  return { source, settings: source.lazy(groups) };
}
