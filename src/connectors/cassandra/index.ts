/**
 * connectors/cassandra: the only importer of cassandra-driver. A shared client (authentication,
 * reconnection) and an external sink writing idempotent upserts to a table it creates.
 *
 * @example
 *   const client = new CassandraClient(settings.cassandra);
 *   stream.sinkTo(cassandraSink({ client, table, row: (key, value) => ({ ... }) }));
 */
export { CassandraClient } from './client.ts';
export type { CassandraConnection } from './client.ts';
export { cassandraSettings } from './settings.ts';
export { cassandraSink } from './sink.ts';
export type { CassandraSinkOptions, CassandraTable } from './sink.ts';
