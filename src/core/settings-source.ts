import { SettingsReader } from './settings.ts';
import type { RawSettings, ResolvedSettings, SettingGroup } from './settings.ts';

/**
 * Raw settings resolved group by group, when first asked for, and remembered. What a command
 * hands a topology: reading `settings.cassandra` (or taking the Cassandra client) marks the
 * Cassandra group used, and `tributary run` checks every used group before it starts, while
 * `tributary describe` never does, so a bad value of a group the command does not need cannot
 * stop it.
 */
export class SettingsSource {
  private readonly resolved = new Map<SettingGroup, object>();
  private readonly used = new Set<SettingGroup>();

  constructor(readonly raw: RawSettings) {}

  /** The group's validated values (CONFIG_INVALID naming the first bad setting). */
  read<T extends object>(group: SettingGroup<T>): T {
    this.used.add(group);
    const known = this.resolved.get(group);
    if (known !== undefined) return known as T;
    const value = group.resolve(new SettingsReader(this.raw));
    this.resolved.set(group, value);
    return value;
  }

  /** Marks a group used without resolving it yet (a client that reads it when it connects). */
  use(group: SettingGroup): void {
    this.used.add(group);
  }

  /** Resolves every group used so far: a bad value stops here, before anything starts. */
  check(): void {
    for (const group of this.used) this.read(group);
  }

  /**
   * An object with a property for each key of the groups that resolves its group on first
   * read: the full settings type, validated only as far as it is read.
   */
  lazy<const G extends readonly SettingGroup[]>(groups: G): ResolvedSettings<G> {
    const settings = {};
    for (const group of groups) {
      for (const key of group.keys) {
        Object.defineProperty(settings, key, {
          enumerable: true,
          get: () => (this.read(group) as Record<string, unknown>)[key],
        });
      }
    }
    return settings as ResolvedSettings<G>;
  }
}
