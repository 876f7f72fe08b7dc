import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { appSettings, topologyContext } from '../app/index.ts';
import { TributaryError } from '../core/index.ts';
import type { SettingsSource } from '../core/index.ts';
import { withAppId } from '../topology/index.ts';
import type { Topology } from '../topology/index.ts';

function isTopology(value: unknown): value is Topology {
  return (
    typeof value === 'object' &&
    value !== null &&
    'plan' in value &&
    'appId' in value &&
    typeof (value as { describe?: unknown }).describe === 'function'
  );
}

function isBuilder(value: unknown): value is { build(): Topology } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { build?: unknown }).build === 'function'
  );
}

/**
 * Loads a topology file (TypeScript or JavaScript). Its default export (or an export named
 * `topology`) is a built topology, a builder (built here), or a function of the app's
 * TopologyContext (settings, registry, Cassandra) returning either.
 */
export async function loadTopology(file: string, context: () => unknown): Promise<Topology> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new TributaryError('TOPOLOGY_FILE_INVALID', `topology file ${file} does not exist`);
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw new TributaryError(
      'TOPOLOGY_FILE_INVALID',
      `topology file ${file} failed to load: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let exported = module['default'] ?? module['topology'];
  if (typeof exported === 'function')
    exported = await (exported as (context: unknown) => unknown)(context());
  if (isBuilder(exported) && !isTopology(exported)) exported = exported.build();
  if (!isTopology(exported)) {
    throw new TributaryError(
      'TOPOLOGY_FILE_INVALID',
      `topology file ${file} must export a topology as its default export (export default t.build())`,
    );
  }
  return exported;
}

/**
 * A command's topology: loaded with a context over the command's settings source (the groups
 * the topology reads are resolved then, or at `source.check()`), and renamed to
 * TRIBUTARY_APP_ID when that is set and `rename` is asked for.
 */
export async function commandTopology(
  file: string,
  source: SettingsSource,
  rename = true,
): Promise<Topology> {
  const topology = await loadTopology(file, () => topologyContext(source));
  const { appId } = source.read(appSettings);
  return !rename || appId === undefined ? topology : withAppId(topology, appId);
}
