import type { ExternalSink, SinkRecord } from '../../core/index.ts';
import { TributaryError } from '../../core/index.ts';
import type { CassandraClient } from './client.ts';

/** A table a sink writes: created when absent, with its keyspace. */
export interface CassandraTable {
  keyspace: string;
  table: string;
  /** Column name -> CQL type, in order (`{ location: 'text', window_start: 'timestamp' }`). */
  columns: Record<string, string>;
  /**
   * The primary key as CQL writes it, e.g. `(location, window_start)`: what identifies a row, so
   * writing the same result again overwrites it (the sink's writes are idempotent upserts).
   */
  primaryKey: string;
  /** Keyspace replication when the sink creates it; default SimpleStrategy with one replica. */
  replication?: Record<string, string | number>;
  /** Extra CQL after `WITH` (e.g. `CLUSTERING ORDER BY (window_start DESC)`). */
  options?: string;
}

export interface CassandraSinkOptions<K, V> {
  client: CassandraClient;
  table: CassandraTable;
  /** The row of a record: one value per column of the table (a Date or ms for timestamps). */
  row: (key: K, value: V, timestamp: number) => Record<string, unknown>;
  /** Statements in flight at once per write. Default 32. */
  concurrency?: number;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

function checkIdentifier(name: string, role: string): void {
  if (!identifier.test(name)) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `Cassandra ${role} '${name}' must be a letter or '_' then letters, digits or '_' (at most 48)`,
    );
  }
}

function replicationCql(replication: Record<string, string | number>): string {
  return `{${Object.entries(replication)
    .map(([k, v]) => `'${k}': ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`)
    .join(', ')}}`;
}

/**
 * Writes records to a Cassandra table as idempotent upserts (one prepared INSERT per record,
 * `concurrency` at a time, LOCAL_QUORUM). `open` creates the keyspace and the table when absent.
 * A write rejects if any row failed; the runtime retries the whole write (rows written twice are
 * overwritten with the same values).
 */
export function cassandraSink<K, V>(options: CassandraSinkOptions<K, V>): ExternalSink<K, V> {
  const { client, table } = options;
  checkIdentifier(table.keyspace, 'keyspace');
  checkIdentifier(table.table, 'table');
  const columns = Object.keys(table.columns);
  for (const column of columns) checkIdentifier(column, 'column');
  const qualified = `${table.keyspace}.${table.table}`;
  const insert = `INSERT INTO ${qualified} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  const concurrency = options.concurrency ?? 32;
  const name = `cassandra:${qualified}`;
  let opened = false;
  return {
    name,
    async open() {
      await client.acquire();
      opened = true;
      const replication = table.replication ?? { class: 'SimpleStrategy', replication_factor: 1 };
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${table.keyspace} WITH replication = ${replicationCql(replication)}`,
      );
      const definitions = Object.entries(table.columns).map(([c, type]) => `${c} ${type}`);
      await client.execute(
        `CREATE TABLE IF NOT EXISTS ${qualified} (${definitions.join(', ')}, PRIMARY KEY ${table.primaryKey})${table.options === undefined ? '' : ` WITH ${table.options}`}`,
      );
      // A table made by an earlier version lacks the columns added since (the sensor rows'
      // location): they are added, as nullable columns, so old rows stay and new ones fit.
      const existing = await client.execute(
        'SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
        [table.keyspace, table.table],
      );
      const have = new Set(existing.rows.map((row) => String(row.get('column_name'))));
      for (const [column, type] of Object.entries(table.columns)) {
        if (!have.has(column))
          await client.execute(`ALTER TABLE ${qualified} ADD ${column} ${type}`);
      }
    },
    async write(records: readonly SinkRecord<K, V>[]) {
      const params = records.map((r) => {
        const row = options.row(r.key, r.value, r.timestamp);
        return columns.map((c) => row[c] ?? null);
      });
      await client.executeMany(insert, params, concurrency);
    },
    async close() {
      if (!opened) return;
      opened = false;
      await client.release();
    },
  };
}
