import { CassandraClient } from '../connectors/cassandra/index.ts';
import { schemaRegistry } from '../serde/index.ts';
import type { SchemaRegistryClient } from '../serde/index.ts';
import type { Settings } from './config.ts';

/**
 * What a topology file's default export receives when it is a function: the validated settings
 * and the clients its serdes and sinks share. Nothing connects until the worker starts (the
 * Avro serdes' init, the sinks' open), so `describe` builds the same topology offline.
 *
 * @example
 *   export default function weather({ registry, cassandra }: TopologyContext) { ... }
 */
export interface TopologyContext {
  settings: Settings;
  /** One schema registry client per worker (TRIBUTARY_REGISTRY_*). */
  readonly registry: SchemaRegistryClient;
  /** One Cassandra client per worker (TRIBUTARY_CASSANDRA_*), connected by the first sink. */
  readonly cassandra: CassandraClient;
}

export function topologyContext(settings: Settings): TopologyContext {
  let registry: SchemaRegistryClient | undefined;
  let cassandra: CassandraClient | undefined;
  return {
    settings,
    get registry() {
      registry ??= schemaRegistry(settings.registry);
      return registry;
    },
    get cassandra() {
      cassandra ??= new CassandraClient(settings.cassandra);
      return cassandra;
    },
  };
}
