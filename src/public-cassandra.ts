/**
 * `tributary/connectors/cassandra`: an external sink writing idempotent upserts to a Cassandra
 * table, and the client it shares (docs/api.md). A topology file gets one client per worker as
 * `context.cassandra`.
 *
 * @example
 *   import { cassandraSink } from 'tributary/connectors/cassandra';
 *
 *   stream.sinkTo(cassandraSink({ client: context.cassandra, table, row: (key, value) => ({ ... }) }));
 */
export { CassandraClient, cassandraSink } from './connectors/cassandra/index.ts';
export type {
  CassandraConnection,
  CassandraSinkOptions,
  CassandraTable,
} from './connectors/cassandra/index.ts';
