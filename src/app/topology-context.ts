import { CassandraClient } from '../connectors/cassandra/index.ts';
import { cassandraSettings } from '../connectors/cassandra/index.ts';
import { SettingsSource } from '../core/index.ts';
import { registrySettings, schemaRegistry } from '../serde/index.ts';
import type { SchemaRegistryClient } from '../serde/index.ts';
import { allSettingGroups } from './config.ts';
import type { Settings } from './config.ts';

/**
 * What a topology file's default export receives when it is a function: the settings and the
 * clients its serdes and sinks share. Nothing connects until the worker starts (the Avro serdes'
 * init, the sinks' open), so `describe` builds the same topology offline.
 *
 * Given a SettingsSource (as the CLI does), each settings group is validated when first read,
 * and the clients read theirs when they first connect: `tributary describe` builds a topology
 * that takes the Cassandra client without reading TRIBUTARY_CASSANDRA_*, while `tributary run`
 * checks every group the topology read or took a client of (`source.check()`) before it starts.
 *
 * @example
 *   export default function weather({ registry, cassandra }: TopologyContext) { ... }
 */
export interface TopologyContext {
  readonly settings: Settings;
  /** One schema registry client per worker (TRIBUTARY_REGISTRY_*). */
  readonly registry: SchemaRegistryClient;
  /** One Cassandra client per worker (TRIBUTARY_CASSANDRA_*), connected by the first sink. */
  readonly cassandra: CassandraClient;
}

/** A registry client made on its first call, from settings read then. */
function deferredRegistry(make: () => SchemaRegistryClient): SchemaRegistryClient {
  let client: SchemaRegistryClient | undefined;
  const get = (): SchemaRegistryClient => (client ??= make());
  return {
    get url() {
      return get().url;
    },
    register: (subject, schema, compatibility) => get().register(subject, schema, compatibility),
    writerSchema: (id) => get().writerSchema(id),
  };
}

export function topologyContext(from: Settings | SettingsSource): TopologyContext {
  const source = from instanceof SettingsSource ? from : undefined;
  const settings = source === undefined ? (from as Settings) : source.lazy(allSettingGroups);
  let registry: SchemaRegistryClient | undefined;
  let cassandra: CassandraClient | undefined;
  return {
    settings,
    get registry() {
      source?.use(registrySettings);
      registry ??= deferredRegistry(() => schemaRegistry(settings.registry));
      return registry;
    },
    get cassandra() {
      source?.use(cassandraSettings);
      cassandra ??= new CassandraClient(() => settings.cassandra);
      return cassandra;
    },
  };
}
