import { readFileSync } from 'node:fs';

import { TributaryError } from './errors.ts';

/**
 * Settings read from the environment (`TRIBUTARY_*`, twelve-factor) and from command-line flags
 * (which win), each validated on its own: a wrong value stops with one message naming the
 * setting and the form it expects. The rows come in groups, each owned by the code that uses
 * them (the Kafka rows by the app, the Cassandra rows by the Cassandra connector, ...), so a
 * command resolves only the groups it uses and a bad value elsewhere does not stop it.
 */

/** One setting: its environment variable, what it must look like, its default. */
export interface SettingSpec {
  /** The environment variable; the flag is its kebab-case tail (`--kafka-sasl-password`). */
  env: string;
  /** What the value must look like, as the error message and `--help` say it. */
  expects: string;
  /** Shown by --help and --print-config when the setting is absent; undefined: none. */
  fallback?: () => string;
  secret?: boolean;
}

/**
 * The settings rows of one concern and how they become a validated object. `keys` names the
 * properties `resolve` returns (test/unit/config.test.ts checks they agree), so a lazily read
 * settings object knows which group to resolve for a property without resolving anything else.
 */
export interface SettingGroup<T extends object = object> {
  readonly name: string;
  readonly rows: Readonly<Record<string, SettingSpec>>;
  readonly keys: readonly string[];
  resolve(read: SettingsReader): T;
}

/** What a list of groups resolves to: the intersection of their objects. */
export type ResolvedSettings<G extends readonly SettingGroup[]> = UnionToIntersection<
  G[number] extends SettingGroup<infer T> ? T : never
>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never;

/** The raw values, by environment variable, and where each came from. */
export type RawSettings = Readonly<Record<string, { value: string; from: string }>>;

/** `TRIBUTARY_KAFKA_SASL_PASSWORD` -> `kafka-sasl-password` (the flag without its dashes). */
export function flagOf(spec: SettingSpec): string {
  return spec.env
    .replace(/^TRIBUTARY_/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

/** The rows of the groups, each once. */
export function rowsOf(groups: readonly SettingGroup[]): SettingSpec[] {
  return [...new Set(groups.flatMap((g) => Object.values(g.rows)))];
}

/**
 * Collects raw values of the groups' rows: flags (commander's camelCase option keys) over the
 * environment. A variable set to the empty string counts as given (an empty broker list is an
 * error, not the default), so a deployment template with a blank value fails loudly.
 */
export function rawSettings(
  groups: readonly SettingGroup[],
  env: NodeJS.ProcessEnv,
  flags: Record<string, unknown> = {},
): RawSettings {
  const raw: Record<string, { value: string; from: string }> = {};
  for (const spec of rowsOf(groups)) {
    const flag = flagOf(spec);
    const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const fromFlag = flags[camel];
    if (typeof fromFlag === 'string') raw[spec.env] = { value: fromFlag, from: `--${flag}` };
    else if (env[spec.env] !== undefined)
      raw[spec.env] = { value: env[spec.env] ?? '', from: spec.env };
  }
  return raw;
}

/** Reads and checks raw values; every failure is CONFIG_INVALID naming the setting. */
export class SettingsReader {
  constructor(private readonly raw: RawSettings) {}

  fail(spec: SettingSpec, detail?: string): never {
    const given = this.raw[spec.env];
    const where = given === undefined ? spec.env : given.from;
    const got =
      given === undefined ? '' : spec.secret === true ? ', got ***' : `, got '${given.value}'`;
    throw new TributaryError(
      'CONFIG_INVALID',
      `${where} must be ${spec.expects}${detail === undefined ? got : `: ${detail}`}`,
    );
  }

  /** The given value, or undefined when absent. */
  optional(spec: SettingSpec): string | undefined {
    return this.raw[spec.env]?.value;
  }

  string(spec: SettingSpec): string {
    const value = this.raw[spec.env]?.value ?? spec.fallback?.();
    if (value === undefined) this.fail(spec, 'it is required');
    if (value.trim() === '') this.fail(spec);
    return value;
  }

  oneOf<T extends string>(spec: SettingSpec, allowed: readonly T[]): T {
    const value = this.string(spec);
    if (!(allowed as readonly string[]).includes(value)) this.fail(spec);
    return value as T;
  }

  integer(spec: SettingSpec, min: number, max: number): number {
    const value = this.string(spec).trim();
    if (!/^\d+$/.test(value)) this.fail(spec);
    const n = Number(value);
    if (n < min || n > max) this.fail(spec);
    return n;
  }

  boolean(spec: SettingSpec): boolean {
    const value = this.string(spec).trim().toLowerCase();
    if (value === 'true' || value === '1' || value === 'yes') return true;
    if (value === 'false' || value === '0' || value === 'no') return false;
    return this.fail(spec);
  }

  hostPorts(spec: SettingSpec): string[] {
    const list = this.string(spec)
      .split(',')
      .map((s) => s.trim());
    const valid = list.every((entry) => {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
    });
    if (list.length === 0 || !valid) this.fail(spec);
    return list;
  }

  name(spec: SettingSpec, max: number): string {
    const value = this.string(spec);
    if (!/^[A-Za-z0-9._-]+$/.test(value) || value.length > max) this.fail(spec);
    return value;
  }

  /** A URL whose scheme is one of `protocols` (`http:`), without trailing slashes. */
  url(spec: SettingSpec, protocols: readonly string[]): string {
    const value = this.string(spec).trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return this.fail(spec);
    }
    if (!protocols.includes(parsed.protocol) || parsed.host === '') this.fail(spec);
    return value.replace(/\/+$/, '');
  }

  file(spec: SettingSpec): string | undefined {
    const path = this.optional(spec);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      return this.fail(spec, `cannot read '${path}' (${(error as NodeJS.ErrnoException).code})`);
    }
  }

  /** A username and password that come together: neither or both. */
  credentials(
    user: SettingSpec,
    password: SettingSpec,
  ): { username: string; password: string } | undefined {
    const username = this.optional(user);
    const secret = this.optional(password);
    if (username === undefined && secret === undefined) return undefined;
    if (username === undefined) this.fail(user, `it is required when ${password.env} is set`);
    if (secret === undefined) this.fail(password, `it is required when ${user.env} is set`);
    return { username, password: secret };
  }
}

/** Validates the groups, in order; throws CONFIG_INVALID naming the first bad setting. */
export function resolveSettings<const G extends readonly SettingGroup[]>(
  groups: G,
  raw: RawSettings,
): ResolvedSettings<G> {
  const read = new SettingsReader(raw);
  return Object.assign({}, ...groups.map((g) => g.resolve(read))) as ResolvedSettings<G>;
}

/**
 * The effective configuration as `ENV=value  # source` lines, secrets shown as `***`: what
 * `--print-config` prints. Only the rows of the given groups.
 */
export function printableSettings(raw: RawSettings, groups: readonly SettingGroup[]): string {
  const lines: string[] = [];
  for (const spec of rowsOf(groups)) {
    const given = raw[spec.env];
    if (given !== undefined) {
      lines.push(`${spec.env}=${spec.secret === true ? '***' : given.value}  # ${given.from}`);
    } else {
      const fallback = spec.fallback?.();
      lines.push(
        `${spec.env}=${fallback ?? ''}  # ${fallback === undefined ? 'unset' : 'default'}`,
      );
    }
  }
  return lines.join('\n');
}
