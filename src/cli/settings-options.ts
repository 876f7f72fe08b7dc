import type { Command } from 'commander';

import {
  flagOf,
  printableSettings,
  rawSettings,
  resolveSettings,
  settingSpecs,
} from '../app/index.ts';
import type { RawSettings, SettingGroup, Settings, SettingSpec } from '../app/index.ts';

/** Adds a `--<flag> <value>` option for every setting of the groups, described for --help. */
export function addSettingOptions(command: Command, groups: readonly SettingGroup[]): Command {
  for (const spec of Object.values(settingSpecs) as SettingSpec[]) {
    if (!groups.includes(spec.group)) continue;
    const fallback = spec.fallback?.();
    const help = `${spec.expects} [env ${spec.env}${fallback === undefined ? '' : `, default ${fallback}`}]`;
    command.option(`--${flagOf(spec)} <value>`, help);
  }
  return command;
}

/** The raw settings of a command (flags over environment) and their validated form. */
export function commandSettings(options: Record<string, unknown>): {
  raw: RawSettings;
  settings: Settings;
} {
  const raw = rawSettings(process.env, options);
  return { raw, settings: resolveSettings(raw) };
}

export { printableSettings };
